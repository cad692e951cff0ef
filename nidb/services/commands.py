"""Commands of ``nidb.services``, mounted on the ``nidb`` command by ``nidb.cli``.

``nidb dossier list|show|decide|overdue`` for staff at a terminal. Exit codes: 0 done, 1 the
database failed, 2 refused (the message says why). The store is imported inside the commands,
so that `nidb --help` stays fast.
"""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.domain.errors import DomainError
from nidb.terminal import handled, out

if TYPE_CHECKING:
    from nidb.services.views import DossierSummary

__all__ = ["dossier_app", "mount"]

dossier_app = typer.Typer(
    help="Hồ sơ dịch vụ công trực tuyến (online public-service dossiers).", no_args_is_help=True
)


def mount(app: typer.Typer) -> None:
    """Add `nidb dossier` to the main command."""
    app.add_typer(dossier_app, name="dossier")


def _table(rows: "list[DossierSummary]", title: str) -> Table:
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


def _refused(error: DomainError) -> typer.Exit:
    # on standard output, as the dossier commands have always said it
    out.print(f"[red]{error.message_vi}[/red] ({error.message_en}) [{error.rule}]")
    return typer.Exit(2)


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
    from nidb.store.db import open_engine

    with handled():
        rows = list_for_scope(
            open_engine(), province, states=tuple(state or ()), kind=kind, limit=limit
        )
    out.print(_table(rows, f"{len(rows)} hồ sơ"))


@dossier_app.command("show")
def show_command(dossier_id: int) -> None:
    """Chi tiết một hồ sơ: dữ liệu, kết quả kiểm tra, lịch sử (show one dossier)."""
    import json

    from nidb.services.views import get_dossier
    from nidb.store.db import open_engine

    with handled():
        try:
            view = get_dossier(open_engine(), dossier_id)
        except DomainError as error:
            raise _refused(error) from None
    s = view.summary
    out.print(
        f"[bold]Hồ sơ {s.id}[/bold] — {s.kind_title_vi}: {s.state_title_vi} (phiên bản {s.version})"
    )
    for check in view.checks:
        mark = "[green]đạt[/green]" if check.get("ok") else "[red]không đạt[/red]"
        out.print(f"  {mark} {check.get('code')}: {check.get('message_vi')}")
    out.print(json.dumps(view.data, ensure_ascii=False, indent=2, default=str))
    for e in view.events:
        out.print(
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
    from nidb.store.db import open_engine

    with handled():
        try:
            view = decide(
                open_engine(),
                dossier_id,
                action,
                actor=actor_name(),
                role=role,
                version=version,
                note=note,
            )
        except DomainError as error:
            raise _refused(error) from None
    out.print(
        f"Hồ sơ {dossier_id}: {view.summary.state_title_vi} (phiên bản {view.summary.version})"
    )


@dossier_app.command("overdue")
def overdue_command(
    province: Annotated[str | None, typer.Option(help="Mã tỉnh (2 chữ số).")] = None,
) -> None:
    """Hồ sơ quá hạn (dossiers past their state's deadline)."""
    from nidb.services.views import overdue
    from nidb.store.db import open_engine

    with handled():
        rows = overdue(open_engine(), province)
    out.print(_table(rows, f"{len(rows)} hồ sơ quá hạn"))
