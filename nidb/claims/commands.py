"""The claims commands: `nidb claims ...` (catalogue import, assessment).

Mounted by nidb.cli (`mount`). Thin: they parse, call nidb.claims, print, and set exit codes
(0 done; 1 the database failed; 2 bad input named in the message). Heavy modules are imported
inside the commands, so that `nidb --help` stays fast.
"""

from pathlib import Path
from typing import Annotated, Literal

import typer

from nidb.terminal import fail, handled, out

__all__ = ["claims_app", "mount"]

claims_app = typer.Typer(
    help="Giám định BHYT: danh mục, hồ sơ XML 130, giám định tự động (health-insurance claims).",
    no_args_is_help=True,
)
catalogue_app = typer.Typer(
    help="Danh mục cơ sở KCB, thuốc, dịch vụ (claims catalogues).", no_args_is_help=True
)
claims_app.add_typer(catalogue_app, name="catalogue")


def mount(app: typer.Typer) -> None:
    """Add `nidb claims` to the main command."""
    app.add_typer(claims_app, name="claims")


@catalogue_app.command("import")
def catalogue_import(
    file: Annotated[Path, typer.Argument(help="Tệp CSV (docs/interchange.md)")],
    kind: Annotated[str, typer.Option("--kind", help="facilities | drugs | services")],
) -> None:
    """Nhập danh mục từ CSV; dòng lỗi vào FILE.rejected.csv (import a catalogue)."""
    from nidb.claims.catalogue import KINDS, import_catalogue
    from nidb.domain.errors import InputFileError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    if kind not in KINDS:
        raise fail(f"--kind: phải là một trong {', '.join(KINDS)} (must be one of them)", 2)
    with handled():
        try:
            report = import_catalogue(open_engine(), kind, file, actor_name())
        except InputFileError as error:
            raise fail(str(error), 2) from None
    out.print(
        f"{kind}: {report.rows} dòng (rows), {report.inserted} mới (new), {report.updated} "
        f"cập nhật (updated), {report.unchanged} không đổi (unchanged), {report.rejected} lỗi "
        f"(rejected)" + (f" → {report.rejected_file}" if report.rejected_file else ""),
        highlight=False,
    )


@claims_app.command("assess")
def assess_command(
    again: Annotated[
        bool, typer.Option("--again", help="Giám định lại cả hồ sơ đã giám định (reassess all)")
    ] = False,
    engine: Annotated[
        Literal["duckdb", "spark"],
        typer.Option(
            help="Nơi chạy SQL giám định: duckdb, hoặc spark ở chế độ local; cùng một SQL, cùng "
            "kết quả (where the assessment's SQL runs; the same SQL, the same result).",
        ),
    ] = "duckdb",
) -> None:
    """Giám định tự động các hồ sơ (assess claims line by line, DuckDB or Spark)."""
    from rich.table import Table

    from nidb.claims.assess import assess_claims
    from nidb.claims.rules import TITLES
    from nidb.engines.spark import SparkUnavailable, ensure_available
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            if engine == "spark":
                ensure_available()  # before the snapshot: a missing Java is said at once
            result = assess_claims(open_engine(), actor_name(), again=again, on=engine)
        except SparkUnavailable as error:
            raise fail(str(error), 1) from None
    out.print(
        f"{len(result.claims)} hồ sơ (claims), {len(result.lines)} dòng (lines) trong "
        f"{result.seconds:.1f} giây ({engine}): {result.by_outcome['accepted']} chấp nhận (accepted), "
        f"{result.by_outcome['reduced']} giảm trừ (reduced), {result.by_outcome['rejected']} "
        "từ chối (rejected)",
        highlight=False,
    )
    if result.by_rule:
        table = Table("Quy tắc (rule)", "Số lần (times)")
        for rule, count in sorted(result.by_rule.items()):
            table.add_row(f"{TITLES[rule][0]} ({rule})", str(count))
        out.print(table)


@claims_app.command("settlement")
def settlement_command(
    facility: Annotated[str, typer.Option("--facility", help="Mã cơ sở KCB, 5 chữ số")],
    year: Annotated[int, typer.Option("--year", min=2000, max=2100)],
    quarter: Annotated[int, typer.Option("--quarter", min=1, max=4)],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Ghi bản quyết toán PDF")] = None,
) -> None:
    """Quyết toán theo quý với cơ sở KCB (a facility's quarterly settlement)."""
    from nidb.claims.rules import dong
    from nidb.claims.settlement import settlement, statement_pdf
    from nidb.store.db import open_engine

    with handled(), open_engine().connect() as conn:
        data = settlement(conn, facility, year, quarter)
    out.print(
        f"{data.facility_name} — quý {quarter}/{year}: đề nghị {dong(data.claimed)}, chấp nhận "
        f"{dong(data.accepted)}, giảm trừ {dong(data.reduced)}, quỹ thanh toán {dong(data.insurer)}",
        highlight=False,
    )
    for line in data.as_dict()["reductions"]:
        out.print(
            f"  {line['title_vi']}: {line['times']} lần, {dong(line['amount'])}", highlight=False
        )
    if pdf is not None:
        pdf.write_bytes(statement_pdf(data))
        out.print(f"→ {pdf}", highlight=False)
