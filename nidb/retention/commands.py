"""The retention commands: `nidb retention show` and `nidb retention apply [--dry-run]`.

Mounted by nidb.cli (`mount`). Exit codes: 0 done; 1 the database failed (what was committed
stays removed; run again to go on); 2 bad input named in the message; 130 interrupted (the
batch in flight was rolled back, the ones before it stay removed).
"""

from typing import Annotated

import typer

from nidb.terminal import fail, handled, out

__all__ = ["mount", "retention_app"]

retention_app = typer.Typer(
    help="Thời hạn lưu trữ và xoá dữ liệu hết hạn (retention periods and removal).",
    no_args_is_help=True,
)


def mount(app: typer.Typer) -> None:
    """Add `nidb retention` to the main command."""
    app.add_typer(retention_app, name="retention")


def _days(days: int) -> str:
    if days == 0:
        return "ngay khi hết hạn"
    if days % 365 == 0:
        return f"{days // 365} năm ({days} ngày)"
    return f"{days} ngày"


@retention_app.command("show")
def retention_show() -> None:
    """Liệt kê từng loại dữ liệu, thời hạn và số mục đã quá hạn (list kinds, periods, past due)."""
    from rich.table import Table

    from nidb.retention.runner import overview
    from nidb.store.db import open_engine

    with handled():
        statuses = overview(open_engine())
    table = Table("loại (kind)", "dữ liệu", "thời hạn", "tính từ", "quá hạn", "biến cấu hình")
    for status in statuses:
        table.add_row(
            status.kind.key,
            status.kind.title_vi,
            _days(status.days),
            status.kind.counted_from_vi,
            f"{status.past:,}",
            f"NIDB_{status.kind.setting.upper()}",
        )
    out.print(table)


@retention_app.command("apply")
def retention_apply(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Chỉ đếm, không xoá gì (count, remove nothing).")
    ] = False,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="Chỉ loại này (lặp lại được); mặc định: mọi loại."),
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="Số mục xoá trong một giao dịch.")
    ] = 5_000,
) -> None:
    """Xoá dữ liệu quá thời hạn lưu trữ, theo lô, có kiểm toán (remove what is past its period)."""
    from nidb.retention.kinds import BY_KEY, KINDS
    from nidb.retention.runner import apply
    from nidb.store.db import open_engine
    from nidb.terminal import RowProgress

    chosen = list(KINDS)
    if kind:
        unknown = [k for k in kind if k not in BY_KEY]
        if unknown:
            raise fail(
                f"--kind không có loại {', '.join(unknown)}; các loại: {', '.join(BY_KEY)} "
                f"(unknown kind)"
            )
        chosen = [BY_KEY[k] for k in dict.fromkeys(kind)]
    done = 0
    with handled(), RowProgress("Xoá dữ liệu hết hạn", unit="mục") as bar:

        def step(_kind: object, n: int) -> None:
            nonlocal done
            done += n
            bar.update(done, done, 0)

        results = apply(open_engine(), kinds=chosen, dry_run=dry_run, batch=batch, progress=step)
    verb = "sẽ xoá (would remove)" if dry_run else "đã xoá (removed)"
    for result in results:
        failed = f", {result.failed} tệp không xoá được" if result.failed else ""
        out.print(
            f"{result.kind.key}: {verb} {result.removed:,} mục quá {_days(result.days)}{failed}",
            highlight=False,
        )
    if dry_run:
        out.print("Chạy thử: không có gì bị xoá (dry run: nothing removed).")
    if any(result.failed for result in results):
        raise typer.Exit(1)
