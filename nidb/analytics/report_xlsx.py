"""The report as an Excel workbook (openpyxl): one sheet per section, native Excel charts.

Numbers stay numbers (ratios with a percent format), so staff can recompute; charts are Excel's
own (bar, line) over the sheet's cells, not pictures. The workbook's dates and the zip entries'
times are the cut-off's, so the same report gives the same bytes.
"""

from __future__ import annotations

import os
import re
import zipfile
from datetime import datetime
from pathlib import Path

from nidb.analytics.report_data import Report, Section
from nidb.domain.display import XLSX_MONEY_FORMAT
from nidb.domain.spreadsheet import safe_cell

SHEET_NAMES = {
    "summary": "Tong quan",
    "participants": "Nguoi tham gia",
    "cards": "The BHYT",
    "verification": "Xac thuc",
    "quality": "Chat luong",
    "trend": "Xu huong",
    "alerts": "Canh bao",
    "benefits": "Che do",
}


def _add_chart(sheet: object, section: Section, anchor: str) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference

    chart_spec = section.chart
    assert chart_spec is not None
    data_rows = [r for r in section.rows if r[0] not in ("VN", "Tổng")]
    if not data_rows:
        return
    first, last = 2, 1 + len(data_rows)  # header on row 1; totals (if any) are after the data
    chart = BarChart() if chart_spec.kind == "bar" else LineChart()
    chart.title = chart_spec.title
    chart.height, chart.width = 9, 22
    for column in chart_spec.values:
        values = Reference(sheet, min_col=column + 1, min_row=1, max_row=last)
        chart.add_data(values, titles_from_data=True)
    categories = Reference(sheet, min_col=chart_spec.category + 1, min_row=first, max_row=last)
    chart.set_categories(categories)
    sheet.add_chart(chart, anchor)  # type: ignore[attr-defined]


def write_xlsx(report: Report, path: Path) -> Path:
    """Write ``report`` as an XLSX workbook at ``path`` (atomically, deterministic bytes)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    stamp = datetime.combine(report.period.cutoff, datetime.min.time())
    workbook.properties.creator = "nidb"
    workbook.properties.title = report.title
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    for section in report.sections:
        sheet = workbook.create_sheet(SHEET_NAMES.get(section.key, section.key)[:31])
        sheet.append([safe_cell(title) for title in section.header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE6F0")
        for row in section.rows:
            sheet.append([safe_cell(v) for v in row])  # text is never run as a formula
        for column in section.percent_columns:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                cell.number_format = "0.0%"
        for column in section.money_columns:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
                cell.number_format = XLSX_MONEY_FORMAT
        for i, title in enumerate(section.header, start=1):
            widest = max([len(str(title))] + [len(str(r[i - 1])) for r in section.rows[:50]])
            sheet.column_dimensions[get_column_letter(i)].width = min(45, max(8, widest + 2))
        if section.note:
            sheet.cell(row=len(section.rows) + 3, column=1, value=safe_cell(section.note))
        if section.chart is not None:
            anchor = f"{get_column_letter(len(section.header) + 2)}2"
            _add_chart(sheet, section, anchor)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        workbook.save(temp)
        _fix_zip_times(temp, stamp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def _fix_zip_times(path: Path, stamp: datetime) -> None:
    """Rewrite the zip with every entry, and the workbook's modified time, dated ``stamp``
    (openpyxl dates both with the time of saving)."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    modified = (
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp.isoformat()}Z</dcterms:modified>'
    )
    entries = [
        (
            info,
            re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", modified.encode(), data)
            if info.filename == "docProps/core.xml"
            else data,
        )
        for info, data in entries
    ]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)
