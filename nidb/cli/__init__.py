"""The ``nidb`` command: composes each capability's commands, and runs the demo.

Each capability owns its commands in its own ``commands.py`` (a ``mount(app)`` adding them to
this app); the helpers they share (consoles, exit codes, progress) are in ``nidb.terminal``.
Nothing else imports ``nidb.cli``. Every module loaded here keeps its top level light, so that
``nidb --help`` starts fast: heavy modules are imported inside the commands (a test checks), and
the ``commands.py`` modules do without ``from __future__ import annotations`` (Typer would
otherwise compile every option's annotation from its string, twice, at each start; names
imported only for type checking are quoted instead).

Exit codes: 0 done; 1 a failure of the system (database unreachable…); 2 bad input named in the
message (file, row, column); 130 interrupted (nothing of the interrupted batch was kept).
"""

from typing import Annotated, Any

import typer

from nidb.accesslog import commands as accesslog_commands
from nidb.analytics import commands as analytics_commands
from nidb.api import commands as api_commands
from nidb.backup import commands as backup_commands
from nidb.claims import commands as claims_commands
from nidb.cli import platforms as platforms_commands
from nidb.contributions import commands as contributions_commands
from nidb.detect import commands as detect_commands
from nidb.employers import commands as employers_commands
from nidb.exchange import commands as exchange_commands
from nidb.feeds import commands as feeds_commands
from nidb.identity import commands as identity_commands
from nidb.ingest import commands as ingest_commands
from nidb.notify import commands as notify_commands
from nidb.outbox import commands as outbox_commands
from nidb.retention import commands as retention_commands
from nidb.services import commands as services_commands
from nidb.sim import commands as sim_commands
from nidb.terminal import fail, handled, out
from nidb.web import commands as web_commands

__all__ = ["app", "main"]

app = typer.Typer(
    help="nidb — Cơ sở dữ liệu quốc gia về Bảo hiểm (National Insurance Database of Vietnam).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def demo_command(
    people: Annotated[int, typer.Option(min=100, help="Số người của tỉnh mẫu.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Hạt giống ngẫu nhiên.")] = 2026,
) -> None:
    """Chạy thử: sinh một tỉnh mẫu, nạp, đối sánh và tóm tắt (generate, import, match, summarise)."""
    from nidb.cli.demo import run_demo
    from nidb.cli.demo_claims import print_claims_demo
    from nidb.cli.demo_employer import print_employer_demo
    from nidb.cli.demo_exchange import print_exchange_demo
    from nidb.identity.commands import print_match, print_report
    from nidb.ingest.commands import print_import
    from nidb.settings import get_settings
    from nidb.store.db import open_engine
    from nidb.store.summary import register_summary

    data_dir = get_settings().data_dir / "demo"
    with handled():
        engine = open_engine()
        out.rule("[bold]nidb demo")
        out.print(f"Cơ sở dữ liệu (database): {engine.url!r}")
        result = run_demo(engine, data_dir, people, seed, on_stage=lambda m: out.print(f"• {m}"))
        out.print(f"  sinh dữ liệu mất {result.generate_seconds:.1f} s")
        for report in result.imports:
            print_import(report)
        out.print(register_summary(engine))
        if result.verification is not None:
            print_report(result.verification)
        if result.matching is not None:
            print_match(result.matching, data_dir / "matches.csv")
        if result.exchange is not None:
            print_exchange_demo(out, result.exchange)
        if result.employer is not None:
            print_employer_demo(out, result.employer)
        if result.claims is not None:
            print_claims_demo(out, result.claims)


def up_command(
    port: Annotated[int, typer.Option(help="Cổng của nidb (bận thì chọn cổng khác).")] = 8000,
    people: Annotated[int, typer.Option(min=100, help="Số người của tỉnh mẫu (CSDL trống).")] = 300,
    seed: Annotated[int, typer.Option(help="Hạt giống ngẫu nhiên của tỉnh mẫu.")] = 2026,
) -> None:
    """Chạy cả hệ thống để dùng thử: nidb và mọi hệ thống giả lập, Ctrl-C để dừng
    (nidb serve and every stand-in, wired together; Ctrl-C stops them all)."""
    from rich.table import Table

    from nidb.cli import up
    from nidb.settings import get_settings
    from nidb.store.db import open_engine

    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    database_url = settings.database_url or f"sqlite:///{(data_dir / 'nidb.sqlite3').as_posix()}"
    with handled():
        engine = open_engine(database_url)
        demo = up.prepare(engine, data_dir, people, seed, lambda m: out.print(f"• {m}"))
        engine.dispose()
        processes, env = up.plan(demo, database_url, "127.0.0.1", port)
        out.print("• Khởi động nidb và các hệ thống giả lập…")
        try:
            stack = up.start_stack(processes, env, data_dir / "up-logs")
        except RuntimeError as error:
            raise fail(str(error), 1) from None
    table = Table(title="nidb đang chạy (running)", show_lines=False)
    table.add_column("hệ thống")
    table.add_column("địa chỉ")
    table.add_column("xem gì")
    for process in processes:
        table.add_row(process.name, process.url, process.shows)
    out.print(table)
    nidb_url = processes[-1].url
    if demo.citizen_id:
        out.print(
            f"[bold]Công dân:[/] {nidb_url}/cong-dan/ → Đăng nhập bằng VNeID → số định danh "
            f"{demo.citizen_id} ({demo.citizen_name}), mật khẩu/OTP 123456",
            highlight=False,
        )
    out.print(
        f"[bold]Cán bộ:[/] {nidb_url}/can-bo/ → tên đăng nhập {up.DEMO_STAFF}, mật khẩu "
        f"{demo.staff_password} (mới ở mỗi lần chạy); tài khoản quản trị bật xác thực hai bước "
        "ngay lần đăng nhập đầu: quét mã QR bằng ứng dụng xác thực trên điện thoại",
        highlight=False,
    )
    if demo.employer_code:
        out.print(
            f"[bold]Đơn vị:[/] {nidb_url}/don-vi/ → mã đơn vị {demo.employer_code}, mật khẩu "
            f"{demo.employer_password} (mới ở mỗi lần chạy)",
            highlight=False,
        )
    out.print(f"Nhật ký các tiến trình: {data_dir / 'up-logs'}", highlight=False)
    out.print("Nhấn Ctrl-C để dừng tất cả (press Ctrl-C to stop everything).")

    def died(process: up.Process) -> None:
        out.print(
            f"[red]{process.name} đã dừng bất ngờ; dừng tất cả.[/]\n{up.log_tail(process.log)}"
        )

    code = up.run_until_stopped(stack, died)
    out.print("Đã dừng tất cả (stopped).")
    raise typer.Exit(code)


def _nidb_published_keys() -> dict[str, Any]:
    from nidb.exchange.signing import published_keys
    from nidb.settings import signing_key_path

    return published_keys(signing_key_path()).document()


def _vneid_client_secret() -> str:
    from nidb.settings import get_settings

    return get_settings().vneid_client_secret


# The order of mounting is the order of `nidb --help`: commands first, then groups, each in the
# order added.
ingest_commands.mount(app)  # import, export, status; db
sim_commands.mount(  # generate; sim
    app, sim_commands.NidbDefaults(_nidb_published_keys, _vneid_client_secret)
)
app.command("demo")(demo_command)
app.command("up")(up_command)
identity_commands.mount(app)  # match, dedupe, merge, unmerge, verify; review
exchange_commands.mount(app)  # keys; partner, token
api_commands.mount(app)  # serve
accesslog_commands.mount(app)  # audit
backup_commands.mount(app)  # backup, restore
outbox_commands.mount(app)  # outbox
retention_commands.mount(app)  # retention
feeds_commands.mount(app)  # feed
detect_commands.mount(app)  # detect; alerts
claims_commands.mount(app)  # claims
analytics_commands.mount(app)  # quality, publish; report
services_commands.mount(app)  # dossier
contributions_commands.mount(app)  # contributions
web_commands.mount(app)  # staff-user
employers_commands.mount(app)  # employer
platforms_commands.mount(app)  # platforms
notify_commands.mount(app)  # notify


def main() -> None:
    """Entry point of the ``nidb`` command and of ``python -m nidb``.

    An unusable ``NIDB_*`` variable ends any command with its name, value and rule (exit 2),
    wherever the settings are first read, instead of a traceback.
    """
    from nidb.settings_error import SettingsError  # not nidb.settings: --help stays light

    try:
        app()
    except SettingsError as error:
        raise SystemExit(fail(str(error), 2).exit_code) from None
