"""The notification commands: `nidb notify run|status|employer`.

Mounted by nidb.cli (`mount`). Thin: they parse, call nidb.notify, print, and set exit codes
(0 done; 1 the database failed; 2 bad input named in the message). The machinery is imported
inside the commands, so that `nidb --help` stays fast.
"""

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.terminal import err, fail, handled, out

if TYPE_CHECKING:
    from nidb.notify.channels import Channels

__all__ = ["mount", "notify_app"]

notify_app = typer.Typer(
    help="Gửi thông báo cho công dân, đơn vị qua thư điện tử và SMS (notifications).",
    no_args_is_help=True,
)

STATUS_WORDS = {"pending": "đang chờ gửi", "sent": "đã gửi", "failed": "không gửi được"}
CHANNEL_WORDS = {"email": "thư điện tử", "sms": "SMS"}


def mount(app: typer.Typer) -> None:
    """Add `nidb notify` to the main command."""
    app.add_typer(notify_app, name="notify")


def _channels() -> "Channels":
    from nidb.notify.channels import Channels
    from nidb.settings import get_settings

    settings = get_settings()
    return Channels(
        settings.smtp_host,
        settings.smtp_port,
        settings.notify_sender,
        settings.sms_url,
        settings.sms_api_key.get_secret_value() if settings.sms_api_key else None,
    )


@notify_app.command("run")
def notify_run(
    settle: Annotated[
        float,
        typer.Option(min=0, help="Chờ và gửi lại tối đa ngần này giây khi có lỗi tạm thời."),
    ] = 0.0,
    every: Annotated[
        float,
        typer.Option(min=0, help="Lặp lại sau mỗi ngần này giây cho đến khi Ctrl-C (0: một lần)."),
    ] = 0.0,
) -> None:
    """Lập và gửi các thông báo đến hạn (build the deliveries due and send them)."""
    from datetime import timedelta

    from nidb.notify.deliver import run
    from nidb.settings import get_settings
    from nidb.store.db import open_engine

    settings = get_settings()

    def one_pass() -> None:
        built, passed = run(
            engine,
            _channels(),
            max_attempts=settings.notify_max_attempts,
            backoff=settings.notify_backoff_seconds,
            access_every=timedelta(minutes=settings.notify_access_every_minutes),
            settle_seconds=settle,
        )
        out.print(
            f"Lập {built.total} lần gửi mới ({built.notices} thông báo, {built.reminders} "
            f"nhắc nợ, {built.access} báo có người xem dữ liệu); đã gửi {passed.sent}, "
            f"gửi lại sau {passed.retried}, không gửi được {passed.failed}, "
            f"còn chờ {passed.waiting}."
        )

    with handled():
        engine = open_engine()
        if not settings.sms_url:
            out.print("Chưa cấu hình cổng SMS (NIDB_SMS_URL): tin SMS còn chờ.")
        if not every:
            one_pass()
            return
    with handled():  # Ctrl-C ends the service (exit 130)
        while True:  # a failed pass (database busy, …) is reported and the next one runs
            try:
                one_pass()
            except Exception as error:
                err.print(
                    f"Lượt gửi lỗi, thử lại sau {every:g} giây: {type(error).__name__}: {error}"
                )
            time.sleep(every)


@notify_app.command("status")
def notify_status(
    failed: Annotated[int, typer.Option(min=0, help="Hiện ngần này lần gửi lỗi gần nhất.")] = 10,
) -> None:
    """Số lần gửi theo kênh và trạng thái, và các lần lỗi gần nhất (deliveries by outcome)."""
    from sqlalchemy import func, select

    from nidb.store.db import open_engine
    from nidb.store.models_notify import NotifyDelivery as D

    with handled(), open_engine().connect() as conn:
        counts = conn.execute(
            select(D.channel, D.status, func.count(), func.sum(D.attempts))
            .group_by(D.channel, D.status)
            .order_by(D.channel, D.status)
        ).all()
        errors = conn.execute(
            select(D.id, D.channel, D.party_id, D.attempts, D.last_error)
            .where(D.status == "failed")
            .order_by(D.id.desc())
            .limit(failed)
        ).all()
    table = Table("kênh", "trạng thái", "số lần gửi", "số lần thử")
    for channel, status, count, attempts in counts:
        table.add_row(
            CHANNEL_WORDS.get(channel, channel),
            STATUS_WORDS.get(status, status),
            f"{count:,}",
            f"{int(attempts or 0):,}",
        )
    out.print(table)
    if errors:
        listing = Table("số", "kênh", "người nhận", "số lần thử", "lỗi")
        for row in errors:
            listing.add_row(
                str(row[0]), CHANNEL_WORDS.get(row[1], row[1]), row[2], str(row[3]), row[4] or ""
            )
        out.print(listing)


@notify_app.command("employer")
def notify_employer(
    code: Annotated[str, typer.Argument(help="Mã đơn vị")],
    email: Annotated[str | None, typer.Option(help="Thư điện tử nhận thông báo")] = None,
    phone: Annotated[str | None, typer.Option(help="Số di động nhận SMS")] = None,
    email_on: Annotated[bool, typer.Option("--email-on/--email-off", help="Nhận thư")] = True,
    sms_on: Annotated[bool, typer.Option("--sms-on/--sms-off", help="Nhận SMS")] = True,
) -> None:
    """Địa chỉ nhận thông báo và kênh từ chối của một đơn vị (an employer's contact, opt-outs)."""
    from sqlalchemy import select

    from nidb.notify.contacts import InvalidContact, clean_email, clean_phone, save_employer_contact
    from nidb.settings import actor_name
    from nidb.store.db import open_engine
    from nidb.store.models import Employer

    with handled():
        try:
            mail, mobile = clean_email(email, "--email"), clean_phone(phone, "--phone")
        except InvalidContact as error:
            raise fail(f"{error.field}={error.value!r}: {error.reason}", 2) from None
        engine = open_engine()
        with engine.connect() as conn:
            known = select(Employer.employer_code).where(Employer.employer_code == code)
            if conn.execute(known).first() is None:
                raise fail(f"Không có đơn vị mã {code!r} (no such employer)", 2)
        save_employer_contact(
            engine,
            code,
            email=mail,
            phone=mobile,
            email_on=email_on,
            sms_on=sms_on,
            actor=actor_name(),
        )
    out.print(
        f"Đơn vị {code}: thư {'nhận' if email_on else 'không nhận'}, "
        f"SMS {'nhận' if sms_on else 'không nhận'}."
    )
