"""The access-log commands: `nidb audit verify` and `nidb audit head`.

Mounted by nidb.cli (`mount`). Exit codes: 0 done (the log is intact); 1 the database failed or
the hash chain is broken; 2 bad input named in the message.
"""

from typing import Annotated

import typer
from rich.table import Table

from nidb.terminal import err, fail, handled, out

__all__ = ["audit_app", "mount"]

audit_app = typer.Typer(
    help="Nhật ký truy cập có chuỗi băm (the hash-chained access log).", no_args_is_help=True
)


def mount(app: typer.Typer) -> None:
    """Add `nidb audit` to the main command."""
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        str | None,
        typer.Option("--head", help="LANE:SEQ:HASH,… đã lưu ngoài CSDL (from `nidb audit head`)"),
    ] = None,
) -> None:
    """Kiểm tra toàn bộ chuỗi băm của nhật ký (check every hash chain of the log)."""
    from nidb.accesslog import format_heads, parse_heads, verify_chain
    from nidb.store.db import open_engine

    anchors = None
    if head:
        try:
            anchors = parse_heads(head)
        except ValueError as error:
            raise fail(f"--head phải có dạng LANE:SEQ:HASH,… ({error})") from None
    with handled():
        report = verify_chain(open_engine(), anchors)
    if report.intact:
        out.print(
            f"Nhật ký nguyên vẹn (intact): {report.entries:,} bản ghi trong {len(report.heads)} "
            f"chuỗi; mốc cuối {format_heads(report.heads)}",
            highlight=False,
        )
        if report.starts:
            out.print(
                f"Bản ghi cũ đã xoá theo thời hạn lưu trữ: chuỗi bắt đầu từ mốc "
                f"{format_heads(report.starts)} (pruned by retention; chains start there)",
                highlight=False,
            )
        return
    table = Table("lane", "seq", "lỗi (problem)", "mô tả")
    for problem in report.problems:
        table.add_row(str(problem.lane), str(problem.seq), problem.kind, problem.message_vi)
    err.print(f"[bold red]Nhật ký đã bị can thiệp (tampered):[/] {len(report.problems)} vấn đề")
    err.print(table)
    raise typer.Exit(1)


@audit_app.command("head")
def audit_head() -> None:
    """In mốc cuối của mỗi chuỗi để lưu ngoài CSDL (print the chain heads to keep elsewhere)."""
    from nidb.accesslog import chain_head, format_heads
    from nidb.store.db import open_engine

    with handled():
        heads = chain_head(open_engine())
    out.print(format_heads(heads), highlight=False)
