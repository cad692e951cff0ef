"""The ingest commands: `nidb import`, `nidb export`, `nidb status` and `nidb db upgrade`.

Mounted by nidb.cli (`mount`). Thin: they parse, call nidb.ingest and nidb.store, print and set
exit codes (0 done; 1 the database failed; 2 bad input named in the message; 130 interrupted).
Heavy modules (the models, Alembic, PyArrow) are imported inside the commands, so that
`nidb --help` stays fast.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.ingest.kinds import KINDS
from nidb.terminal import RowProgress, fail, handled, out

if TYPE_CHECKING:
    from nidb.ingest.loader import ImportReport

__all__ = ["db_app", "mount", "print_import"]

db_app = typer.Typer(help="Quản trị cơ sở dữ liệu (database administration).", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    """Add `nidb import|export|status` and `nidb db` to the main command."""
    app.command("import")(import_command)
    app.command("export")(export_command)
    app.command("status")(status_command)
    app.add_typer(db_app, name="db")


def print_import(report: "ImportReport") -> None:
    """Print what an import did: rows read, inserted, updated, unchanged and rejected by rule."""
    if report.skipped:
        out.print(
            f"[yellow]{report.path.name}[/]: tệp này đã được nạp ở lô {report.batch_id}; "
            "không thay đổi gì (already imported as batch "
            f"{report.batch_id}; nothing changed). Dùng --force để nạp lại."
        )
        return
    rate = report.rows_read / report.seconds if report.seconds else 0.0
    out.print(
        f"[bold]{report.path.name}[/] → lô {report.batch_id} ({report.kind}): "
        f"{report.rows_read:,} dòng đọc, {report.inserted:,} thêm mới, {report.updated:,} cập nhật, "
        f"{report.unchanged:,} không đổi, {report.rejected:,} bị loại "
        f"· {report.seconds:.1f} s · {rate:,.0f} dòng/s",
        highlight=False,
    )
    if report.rejected:
        table = Table(title="Dòng bị loại theo quy tắc (rejected rows by rule)")
        table.add_column("quy tắc (rule)")
        table.add_column("số lỗi (errors)", justify="right")
        for rule, count in report.rejected_by_rule.items():
            table.add_row(rule, f"{count:,}")
        out.print(table)
        out.print(f"Chi tiết từng dòng (details per row): {report.rejected_path}")


def import_command(
    file: Annotated[Path, typer.Argument(help="Tệp CSV hoặc Parquet (CSV or Parquet file).")],
    kind: Annotated[str, typer.Option(help=f"Loại dữ liệu: {' | '.join(KINDS)}.")],
    force: Annotated[bool, typer.Option(help="Nạp lại kể cả khi tệp đã được nạp.")] = False,
    rejected: Annotated[
        Path | None, typer.Option(help="Nơi ghi dòng bị loại (default: FILE.rejected.csv).")
    ] = None,
) -> None:
    """Nạp một tệp vào sổ đăng ký (import one interchange file as one all-or-nothing batch)."""
    if kind not in KINDS:
        raise fail(f"--kind {kind!r} không hợp lệ; chọn một trong: {', '.join(KINDS)}")
    from nidb.ingest.loader import import_file
    from nidb.store.db import open_engine
    from nidb.store.runs import JobKind, batch_run

    with handled():
        engine = open_engine()
        with batch_run(engine, JobKind.IMPORT), RowProgress(f"nạp {file.name}") as bar:
            report = import_file(
                engine, kind, file, progress=bar.update, force=force, rejected_path=rejected
            )
        print_import(report)


def export_command(
    out_dir: Annotated[Path, typer.Argument(help="Thư mục ghi ảnh chụp Parquet.")],
    table: Annotated[list[str] | None, typer.Option(help="Chỉ các bảng này (repeatable).")] = None,
) -> None:
    """Xuất ảnh chụp Parquet của sổ đăng ký (write Parquet snapshots for DuckDB/Spark)."""
    from nidb.ingest.export import SNAPSHOT_TABLES, export_snapshot
    from nidb.store.db import open_engine

    with handled():
        try:
            written = export_snapshot(open_engine(), out_dir, tuple(table or SNAPSHOT_TABLES))
        except ValueError as error:
            raise fail(str(error)) from None
    summary = Table(title=f"Ảnh chụp (snapshot) → {out_dir}")
    summary.add_column("bảng (table)")
    summary.add_column("dòng (rows)", justify="right")
    for item in written:
        summary.add_row(item.table, f"{item.rows:,}")
    out.print(summary)


def status_command() -> None:
    """Tóm tắt sổ đăng ký (summary of the register: rows per information group)."""
    from nidb.store.db import open_engine
    from nidb.store.summary import register_summary

    with handled():
        out.print(register_summary(open_engine()))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Tạo hoặc nâng cấp lược đồ (create or migrate the schema to the latest version)."""
    from nidb.store.db import open_engine

    with handled():
        engine = open_engine()
    out.print(f"Lược đồ đã ở phiên bản mới nhất (schema is at head): {engine.url!r}")
