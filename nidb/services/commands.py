"""Commands of ``nidb.services``, mounted on the ``nidb`` command by ``nidb.cli``.

``nidb dossier list|show|decide|overdue`` for staff at a terminal, ``nidb sim payment`` for
the payment-gateway stand-in. Exit codes: 0 done, 2 refused (the message says why).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from nidb.domain.errors import DomainError
from nidb.services.views import DossierSummary

console = Console()
dossier_app = typer.Typer(
    help="Hồ sơ dịch vụ công trực tuyến (online public-service dossiers).", no_args_is_help=True
)


def _engine() -> Engine:
    from nidb.store.db import ensure_schema, make_engine

    engine = make_engine()
    ensure_schema(engine)
    return engine


def _table(rows: list[DossierSummary], title: str) -> Table:
    table = Table(title=title)
    for column in ("Số", "Loại", "Trạng thái", "Người nộp", "Tỉnh", "Hạn", "Phiên bản"):
        table.add_column(column)
    for r in rows:
        due = r.state_due_at.strftime("%Y-%m-%d %H:%M UTC") if r.state_due_at else "-"
        table.add_row(
            str(r.id),
            r.kind,
            r.state + (" (QUÁ HẠN)" if r.overdue else ""),
            r.applicant_personal_id or "-",
            r.province or "-",
            due,
            str(r.version),
        )
    return table


def _fail(error: DomainError) -> None:
    console.print(f"[red]{error.message_vi}[/red] ({error.message_en}) [{error.rule}]")
    raise typer.Exit(2)


@dossier_app.command("list")
def list_command(
    province: Annotated[
        str | None, typer.Option(help="Mã tỉnh (2 chữ số); bỏ trống: mọi tỉnh.")
    ] = None,
    state: Annotated[list[str] | None, typer.Option(help="Trạng thái (lặp lại được).")] = None,
    kind: Annotated[str | None, typer.Option(help="Loại hồ sơ.")] = None,
    limit: int = 50,
) -> None:
    """Danh sách hồ sơ (list dossiers), soonest deadline first."""
    from nidb.services.views import list_for_scope

    rows = list_for_scope(_engine(), province, states=tuple(state or ()), kind=kind, limit=limit)
    console.print(_table(rows, f"{len(rows)} hồ sơ"))


@dossier_app.command("show")
def show_command(dossier_id: int) -> None:
    """Chi tiết một hồ sơ: dữ liệu, kết quả kiểm tra, lịch sử (show one dossier)."""
    from nidb.services.views import get_dossier

    try:
        view = get_dossier(_engine(), dossier_id)
    except DomainError as error:
        _fail(error)
        return
    s = view.summary
    console.print(
        f"[bold]Hồ sơ {s.id}[/bold] — {s.kind_title_vi}: {s.state_title_vi} (phiên bản {s.version})"
    )
    for check in view.checks:
        mark = "[green]đạt[/green]" if check.get("ok") else "[red]không đạt[/red]"
        console.print(f"  {mark} {check.get('code')}: {check.get('message_vi')}")
    console.print(json.dumps(view.data, ensure_ascii=False, indent=2, default=str))
    for e in view.events:
        console.print(
            f"  {e.occurred_at:%Y-%m-%d %H:%M} {e.actor}: {e.from_state or '-'} → {e.to_state} {e.note or ''}"
        )


@dossier_app.command("decide")
def decide_command(
    dossier_id: int,
    action: Annotated[str, typer.Argument(help="check | approve | refuse")],
    version: Annotated[int, typer.Option(help="Phiên bản hồ sơ bạn đã xem (nidb dossier show).")],
    role: Annotated[str, typer.Option(help="reviewer | approver")] = "approver",
    note: Annotated[str | None, typer.Option(help="Ghi chú; bắt buộc khi từ chối.")] = None,
) -> None:
    """Quyết định hồ sơ (decide): reviewer checks, approver approves or refuses."""
    from nidb.services.decisions import decide
    from nidb.settings import actor_name

    try:
        view = decide(
            _engine(), dossier_id, action, actor=actor_name(), role=role, version=version, note=note
        )
    except DomainError as error:
        _fail(error)
        return
    console.print(
        f"Hồ sơ {dossier_id}: {view.summary.state_title_vi} (phiên bản {view.summary.version})"
    )


@dossier_app.command("overdue")
def overdue_command(
    province: Annotated[str | None, typer.Option(help="Mã tỉnh (2 chữ số).")] = None,
) -> None:
    """Hồ sơ quá hạn (dossiers past their state's deadline)."""
    from nidb.services.views import overdue

    rows = overdue(_engine(), province)
    console.print(_table(rows, f"{len(rows)} hồ sơ quá hạn"))


def sim_payment_command(
    port: Annotated[int, typer.Option(help="Cổng lắng nghe.")] = 8090,
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe.")] = "127.0.0.1",
    secret: Annotated[
        str,
        typer.Option(
            envvar="NIDB_PAYMENT_SECRET", help="Khóa bí mật chung để ký thông báo (HMAC)."
        ),
    ] = "change-me",
) -> None:
    """Cổng thanh toán giả lập (payment-gateway stand-in) with signed callbacks."""
    from nidb.sim.payment.app import serve

    serve(host, port, secret)


def mount(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add this package's commands to ``nidb``."""
    app.add_typer(dossier_app, name="dossier")
    sim_app.command("payment")(sim_payment_command)
