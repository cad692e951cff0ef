"""``nidb report``: build a report once and write it as PDF and XLSX side by side."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from nidb.analytics.report_data import KIND_SLUGS, Period, Report, build_report
from nidb.analytics.report_pdf import write_pdf
from nidb.analytics.report_xlsx import write_xlsx


def report_stem(period: Period) -> str:
    """The file name of a report without extension: ``bao-cao-quy-2026Q3``."""
    return f"bao-cao-{KIND_SLUGS[period.kind]}-{period.label}"


def write_report(engine: Engine, period: Period, out_dir: Path) -> tuple[Report, Path, Path]:
    """Gather the report of ``period`` and write ``<stem>.pdf`` and ``<stem>.xlsx``."""
    from nidb.analytics.report_pdf import register_fonts

    register_fonts()  # fail on a missing font before any work is done
    report = build_report(engine, period)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(period)
    pdf = write_pdf(report, out_dir / f"{stem}.pdf")
    xlsx = write_xlsx(report, out_dir / f"{stem}.xlsx")
    return report, pdf, xlsx
