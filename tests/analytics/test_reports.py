"""``nidb report``: the quarterly and yearly reports as PDF and XLSX (both engines)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from nidb.analytics.quality import compute_and_save
from nidb.analytics.report_data import (
    ReportPeriodInvalid,
    build_report,
    half_year_period,
    month_period,
    quarter_period,
    year_period,
)
from nidb.analytics.report_pdf import cell_text
from nidb.analytics.reports import write_report
from nidb.cli import app
from tests.analytics.pdftext import page_texts
from tests.analytics.register import load


def test_periods_have_their_cutoff_and_due_dates() -> None:
    q3 = quarter_period("2026Q3")
    assert (q3.first, q3.last, q3.cutoff, q3.due) == (
        date(2026, 7, 1),
        date(2026, 9, 30),
        date(2026, 9, 20),
        date(2026, 9, 25),
    )
    q4 = quarter_period("2026q4")
    assert (q4.last, q4.cutoff) == (date(2026, 12, 31), date(2026, 12, 20))
    year = year_period(2026)
    assert (year.cutoff, year.due) == (date(2026, 12, 20), date(2026, 12, 25))
    for bad in ("2026Q5", "Q3", "2026-3", "1999Q1"):
        with pytest.raises(ReportPeriodInvalid):
            quarter_period(bad)
    november = month_period("2026-11")
    assert (november.first, november.last, november.cutoff, november.due) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        date(2026, 11, 20),
        date(2026, 11, 25),
    )
    assert month_period("2/2028").last == date(2028, 2, 29) and november.name_vi == (
        "tháng 11 năm 2026"
    )
    first_half, second_half = half_year_period("2026H1"), half_year_period("2026h2")
    assert (first_half.first, first_half.last, first_half.cutoff, first_half.due) == (
        date(2026, 1, 1),
        date(2026, 6, 30),
        date(2026, 6, 20),
        date(2026, 6, 25),
    )
    assert (second_half.first, second_half.cutoff) == (date(2026, 7, 1), date(2026, 12, 20))
    assert second_half.name_vi == "6 tháng cuối năm 2026"
    for bad_month in ("2026-13", "2026-0", "11-2026", "1999-05", ""):
        with pytest.raises(ReportPeriodInvalid):
            month_period(bad_month)
    for bad_half in ("2026H3", "2026", "H1"):
        with pytest.raises(ReportPeriodInvalid):
            half_year_period(bad_half)


def _sheet_rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    return list(load_workbook(path)[sheet].iter_rows(values_only=True))


def test_quarterly_report_has_the_figures_of_the_cutoff(engine: Engine, tmp_path: Path) -> None:
    load(engine)
    compute_and_save(engine, date(2026, 8, 31), "test")
    compute_and_save(engine, date(2026, 10, 31), "test")  # after the cut-off: not in the trend
    report, pdf, xlsx = write_report(engine, quarter_period("2026Q3"), tmp_path)
    assert pdf.name == "bao-cao-quy-2026Q3.pdf" and xlsx.name == "bao-cao-quy-2026Q3.xlsx"

    book = load_workbook(xlsx)
    assert book.sheetnames == [
        "Tong quan",
        "Nguoi tham gia",
        "The BHYT",
        "Xac thuc",
        "Chat luong",
        "Xu huong",
        "Canh bao",
        "Che do",
    ]
    summary = dict(_sheet_rows(xlsx, "Tong quan")[1:])
    assert (
        summary["Ngày chốt số liệu"] == "20/09/2026" and summary["Hạn gửi báo cáo"] == "25/09/2026"
    )
    participants = {r[0]: r for r in _sheet_rows(xlsx, "Nguoi tham gia")[1:]}
    assert participants["01"][2] == 2 and participants["79"][2] == 1  # BHXH open on the day
    assert participants["VN"][1] == "Toàn quốc" and participants["VN"][2] == 3
    verification = {r[0]: r for r in _sheet_rows(xlsx, "Xac thuc")[1:] if r[0]}
    # 01: R1, R2, R4 verified before the cut-off; R6 only after it
    assert verification["01"][2:7] == (4, 3, 0, 0, 1)
    assert verification["01"][7] == pytest.approx(0.75)
    quality = {r[0]: r for r in _sheet_rows(xlsx, "Chat luong")[1:]}
    assert quality["person"][2] == pytest.approx(0.5) and quality["person"][6] == "3/6"
    trend = [r[0] for r in _sheet_rows(xlsx, "Xu huong")[1:] if r[0] and r[0][-5:-2] == "/20"]
    assert trend == ["31/08/2026", "20/09/2026"]
    alerts = {r[0]: r for r in _sheet_rows(xlsx, "Canh bao")[1:]}
    # rules by their titles, never their code names
    assert alerts["Thẻ BHYT dùng sau khi chủ thẻ mất"][1:] == (2, 0, 0, 2)
    # the October one is not counted
    assert alerts["Chế độ vẫn chi trả sau khi người hưởng mất"][1:] == (0, 1, 0, 1)
    assert not any("_" in str(name) for name in alerts)
    benefits = {r[0]: r for r in _sheet_rows(xlsx, "Che do")[1:]}
    assert benefits["Lương hưu"][1:3] == (1, 5_000_000)
    assert benefits["BHXH một lần"][3] == 1  # begun in the quarter
    money = book["Che do"]
    assert money["C2"].number_format == '#,##0 "đồng"' and isinstance(money["C2"].value, int)
    assert money["E2"].number_format == '#,##0 "đồng"' and money["B2"].number_format == "General"
    for name in ("Nguoi tham gia", "Xac thuc", "Chat luong", "Xu huong", "Canh bao"):
        assert len(book[name]._charts) == 1, name
    assert type(book["Xu huong"]._charts[0]).__name__ == "LineChart"
    assert type(book["Xac thuc"]._charts[0]).__name__ == "BarChart"

    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", data)) >= 3
    assert b"DejaVuSans" in data and b"/FontFile2" in data  # the Vietnamese font is embedded
    # the PDF's text (decoded through the font's ToUnicode map) holds the workbook's figures
    text = " ".join(page_texts(data))
    assert "Báo cáo quý III năm 2026 — Cơ sở dữ liệu quốc gia về bảo hiểm" in text
    assert "Tiến độ xác thực với CSDL quốc gia về dân cư theo tỉnh (Đề án 06)" in text
    for row in _sheet_rows(xlsx, "Xac thuc")[1:]:
        if row[0] and row[1] is not None:  # table rows, not the note under them
            shown = " ".join(cell_text(v, i == 7) for i, v in enumerate(row))
            assert shown in text, shown
    for row in _sheet_rows(xlsx, "Nguoi tham gia")[1:]:
        if row[0] and row[1] is not None:  # table rows, not the note under them
            assert " ".join(cell_text(v, False) for v in row) in text
    assert report.sections[3].rows[0][2:7] == [4, 3, 0, 0, 1]
    # benefit kinds in words and money as "1.234.567 đồng" (issue 17), no English kind
    assert "Lương hưu 1 5.000.000 đồng" in text
    assert "pension" not in text and "one_time" not in text and "₫" not in text
    assert "LƯU Ý" not in text  # built after the cut-off


def test_a_report_built_before_its_cut_off_says_so(engine: Engine, tmp_path: Path) -> None:
    report = build_report(engine, year_period(2026), today=date(2026, 12, 7))
    assert report.sections[0].rows[0][0] == "LƯU Ý"
    assert "trước ngày chốt số liệu" in str(report.sections[0].rows[0][1])


def test_reports_are_byte_for_byte_repeatable(engine: Engine, tmp_path: Path) -> None:
    load(engine)
    _, pdf_a, xlsx_a = write_report(engine, year_period(2026), tmp_path / "a")
    _, pdf_b, xlsx_b = write_report(engine, year_period(2026), tmp_path / "b")
    assert pdf_a.read_bytes() == pdf_b.read_bytes()
    assert xlsx_a.read_bytes() == xlsx_b.read_bytes()


def test_an_empty_register_still_gives_a_report(engine: Engine, tmp_path: Path) -> None:
    report = build_report(engine, quarter_period("2026Q1"))
    assert report.sections[0].rows[1] == ["Ngày chốt số liệu", "20/03/2026"]
    _, pdf, xlsx = write_report(engine, quarter_period("2026Q1"), tmp_path)
    assert pdf.stat().st_size > 1000 and load_workbook(xlsx).sheetnames[0] == "Tong quan"


def test_report_commands(engine: Engine, cli: CliRunner, tmp_path: Path) -> None:
    load(engine)
    done = cli.invoke(app, ["report", "quarterly", "--quarter", "2026Q3", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "20/09/2026" in done.output and (tmp_path / "bao-cao-quy-2026Q3.pdf").exists()
    assert "2026-09-20" not in done.output  # dates as people write them
    yearly = cli.invoke(app, ["report", "yearly", "--year", "2026", "--out", str(tmp_path)])
    assert yearly.exit_code == 0 and (tmp_path / "bao-cao-nam-2026.xlsx").exists()
    monthly = cli.invoke(app, ["report", "monthly", "--month", "11/2026", "--out", str(tmp_path)])
    assert monthly.exit_code == 0, monthly.output
    assert "Báo cáo tháng 11 năm 2026" in monthly.output
    assert (tmp_path / "bao-cao-thang-2026-11.pdf").exists()
    half = cli.invoke(app, ["report", "half-yearly", "--half", "2026H2", "--out", str(tmp_path)])
    assert half.exit_code == 0 and (tmp_path / "bao-cao-6-thang-2026H2.xlsx").exists()
    bad_month = cli.invoke(app, ["report", "monthly", "--month", "13/2026", "--out", str(tmp_path)])
    assert bad_month.exit_code == 2 and "11/2026" in bad_month.output
    bad = cli.invoke(app, ["report", "quarterly", "--quarter", "2026Q7", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "2026Q3" in bad.output


def test_a_missing_font_is_a_clear_error(
    engine: Engine, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nidb.analytics import report_pdf

    monkeypatch.setattr(report_pdf, "FONT_DIRS", (str(tmp_path / "none"),))
    monkeypatch.setenv("NIDB_FONT_DIR", str(tmp_path / "none"))
    with pytest.raises(report_pdf.FontMissing, match="fonts-dejavu-core"):
        report_pdf.font_path()
