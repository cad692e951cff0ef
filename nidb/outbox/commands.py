"""The change-feed commands: `nidb outbox ...`.

Mounted by nidb.cli (`mount`). Thin: they parse, call nidb.outbox, print, and set exit codes
(0 done; 1 the database failed; 2 bad input named in the message). The store is imported inside
the commands, so that `nidb --help` stays fast.
"""

import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nidb.terminal import fail, handled, out

if TYPE_CHECKING:
    from nidb.outbox.events import OutboxError

__all__ = ["mount", "outbox_app"]

outbox_app = typer.Typer(
    help="Gửi thông báo biến động cho đối tác đăng ký (the outbound change feed by webhook).",
    no_args_is_help=True,
)
dead_app = typer.Typer(
    help="Thông báo không gửi được (dead letters): list, retry, skip.", no_args_is_help=True
)
outbox_app.add_typer(dead_app, name="dead")


def mount(app: typer.Typer) -> None:
    """Add `nidb outbox` to the main command."""
    app.add_typer(outbox_app, name="outbox")


def _outbox_error(error: "OutboxError") -> typer.Exit:
    return fail(f"{error.field}: {error.message_vi} ({error.message_en})", 2)


@outbox_app.command("subscribe")
def outbox_subscribe(
    code: Annotated[str, typer.Argument(help="Mã đối tác, ví dụ VN/GOV/BYT/BV-01001")],
    topic: Annotated[
        str, typer.Option("--topic", help="Chủ đề: identity.person_dead, identity.* hoặc *")
    ],
    url: Annotated[
        str | None, typer.Option("--url", help="Địa chỉ webhook (mặc định: của đối tác)")
    ] = None,
    from_event: Annotated[
        int | None, typer.Option("--from-event", help="Gửi cả các sự kiện cũ từ số này")
    ] = None,
) -> None:
    """Đăng ký nhận sự kiện qua webhook (subscribe a partner's webhook to a topic)."""
    from nidb.outbox.admin import subscribe
    from nidb.outbox.events import OutboxError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            sub = subscribe(open_engine(), code, topic, actor_name(), url, from_event)
        except OutboxError as error:
            raise _outbox_error(error) from None
    out.print(f"Đăng ký số {sub.id}: {sub.partner_code} ← {sub.topic} → {sub.url}")


@outbox_app.command("subscriptions")
def outbox_subscriptions() -> None:
    """Danh sách đăng ký (subscriptions)."""
    from nidb.outbox.admin import list_subscriptions
    from nidb.store.db import open_engine

    with handled():
        subs = list_subscriptions(open_engine())
    table = Table("số", "đối tác", "chủ đề", "webhook", "trạng thái")
    for sub in subs:
        state = "đã hủy" if sub.ended else "tạm dừng" if sub.paused else "hoạt động"
        table.add_row(str(sub.id), sub.partner_code, sub.topic, sub.url, state)
    out.print(table)


def _state_command(action: str, done_vi: str) -> Any:
    def command(
        subscription: Annotated[int, typer.Argument(help="Số đăng ký")],
    ) -> None:
        from nidb.outbox.admin import set_state
        from nidb.outbox.events import OutboxError
        from nidb.settings import actor_name
        from nidb.store.db import open_engine

        with handled():
            try:
                set_state(open_engine(), subscription, action, actor_name())
            except OutboxError as error:
                raise _outbox_error(error) from None
        out.print(f"Đăng ký số {subscription}: {done_vi}.")

    return command


outbox_app.command("pause", help="Tạm dừng gửi; sự kiện vẫn được xếp hàng (pause).")(
    _state_command("pause", "đã tạm dừng")
)
outbox_app.command("resume", help="Gửi tiếp (resume).")(_state_command("resume", "gửi tiếp"))
outbox_app.command("unsubscribe", help="Hủy đăng ký; không xếp thêm sự kiện (end).")(
    _state_command("end", "đã hủy")
)


@outbox_app.command("dispatch")
def outbox_dispatch(
    once: Annotated[
        bool, typer.Option("--once", help="Gửi những gì đến hạn rồi dừng (deliver what is due)")
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=1000)] = 32,
    per_subscriber: Annotated[int, typer.Option(min=1, max=1000)] = 8,
    batch_size: Annotated[int, typer.Option(min=1, max=5000)] = 200,
    timeout: Annotated[float, typer.Option(min=0.1, help="Giây chờ mỗi yêu cầu")] = 10.0,
    lease: Annotated[float, typer.Option(min=1.0, help="Giây giữ một lô đã nhận gửi")] = 60.0,
) -> None:
    """Gửi thông báo đến webhook của các bên đăng ký (deliver the outbox; Ctrl-C stops)."""
    from nidb.outbox.dispatcher import Dispatcher, DispatchSettings, Stats
    from nidb.protocol.keys import KeyFile
    from nidb.settings import get_settings, signing_key_path
    from nidb.store.db import open_engine

    def progress(stats: Stats) -> None:
        opened = [str(i) for i, state in sorted(stats.circuits.items()) if state != "closed"]
        print(
            f"outbox: fanned out {stats.fanned_out}, delivered {stats.delivered} "
            f"({stats.delivered / stats.elapsed:,.0f}/s), retry {stats.retried}, "
            f"dead {stats.dead}" + (f", circuit open: {' '.join(opened)}" if opened else ""),
            file=sys.stderr,
            flush=True,
        )

    with handled():
        engine = open_engine()
        key = KeyFile(signing_key_path())  # followed: `nidb keys rotate` needs no restart
        settings = DispatchSettings(
            concurrency=concurrency,
            per_subscriber=per_subscriber,
            batch_size=batch_size,
            timeout=timeout,
            lease=timedelta(seconds=lease),
        )
        every = get_settings().signing_key_check_seconds
        dispatcher = Dispatcher(engine, key, settings, progress, key_check_interval=every)
        stats = dispatcher.run(once=once, handle_signals=True)
    out.print(
        f"Đã gửi {stats.delivered}, thử lại sau {stats.retried}, không gửi được {stats.dead} "
        f"({stats.elapsed:,.1f} s)."
    )


@outbox_app.command("status")
def outbox_status() -> None:
    """Tình trạng gửi theo đăng ký: pending / delivered / dead (delivery status)."""
    from nidb.outbox.admin import status, undispatched_count
    from nidb.store.db import open_engine

    with handled():
        engine = open_engine()
        rows = status(engine)
        waiting = undispatched_count(engine)
    table = Table("số", "đối tác", "chủ đề", "pending", "delivered", "dead", "skipped", "cũ nhất")
    for row in rows:
        oldest = row.oldest_pending.isoformat(timespec="seconds") if row.oldest_pending else ""
        counts = row.counts
        table.add_row(
            str(row.subscription.id),
            row.subscription.partner_code,
            row.subscription.topic,
            *(f"{counts[s]:,}" for s in ("pending", "delivered", "dead", "skipped")),
            oldest,
        )
    out.print(table)
    out.print(f"Sự kiện chưa phân phối (events not yet fanned out): {waiting:,}")


@dead_app.command("list")
def dead_list(
    subscription: Annotated[int | None, typer.Option("--subscription")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Thông báo không gửi được, và số sự kiện sau nó đang bị giữ (dead letters)."""
    from nidb.outbox.admin import dead_letters
    from nidb.store.db import open_engine

    with handled():
        rows = dead_letters(open_engine(), subscription, limit)
    table = Table("giao nhận", "đăng ký", "đối tác", "sự kiện", "chủ đề", "đối tượng", "lần", "lỗi")
    table.add_column("đang giữ")
    for r in rows:
        table.add_row(
            str(r.delivery_id),
            str(r.subscription_id),
            r.partner_code,
            str(r.event_id),
            r.topic,
            r.subject_key,
            str(r.attempts),
            r.last_error or "",
            str(r.held),
        )
    out.print(table)


def _resolve(action: str, ids: list[int], subscription: int | None, note: str | None) -> None:
    from nidb.outbox.admin import resolve_dead
    from nidb.outbox.events import OutboxError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            changed = resolve_dead(open_engine(), action, actor_name(), ids, subscription, note)
        except OutboxError as error:
            raise _outbox_error(error) from None
    verb = "xếp gửi lại" if action == "retry" else "bỏ qua"
    out.print(f"Đã {verb} {changed} thông báo.")


@dead_app.command("retry")
def dead_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Số giao nhận")] = None,
    subscription: Annotated[
        int | None, typer.Option("--subscription", help="Mọi thông báo chết của đăng ký này")
    ] = None,
) -> None:
    """Xếp gửi lại (back to pending, attempts reset)."""
    _resolve("retry", ids or [], subscription, None)


@dead_app.command("skip")
def dead_skip(
    note: Annotated[str, typer.Option("--note", help="Lý do bỏ qua (bắt buộc)")],
    ids: Annotated[list[int] | None, typer.Argument(help="Số giao nhận")] = None,
    subscription: Annotated[int | None, typer.Option("--subscription")] = None,
) -> None:
    """Bỏ qua (never sent); the subject's later events then go."""
    _resolve("skip", ids or [], subscription, note)
