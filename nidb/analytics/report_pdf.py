"""The report as PDF (reportlab): Vietnamese text in DejaVu Sans, tables and charts.

The built-in PDF fonts have no Vietnamese letters (ạ, ố, ư…), so a TrueType font that covers
them is embedded: DejaVu Sans, from Debian's ``fonts-dejavu-core`` (``make install`` installs
it) or the folder ``NIDB_FONT_DIR`` names. Charts are drawn with reportlab.graphics (vector,
no image library). ``invariant`` output: the same report gives the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from nidb.analytics.report_data import Chart, Report, Section
from nidb.domain.display import vn_money

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts/dejavu",
)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


class FontMissing(RuntimeError):
    """No TrueType font that covers Vietnamese was found."""


def font_path(name: str = "DejaVuSans.ttf") -> Path:
    """Where the Vietnamese-capable font file is; FontMissing says how to install it."""
    dirs = [os.environ["NIDB_FONT_DIR"]] if os.environ.get("NIDB_FONT_DIR") else []
    for folder in (*dirs, *FONT_DIRS):
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    raise FontMissing(
        f"không tìm thấy phông {name} có chữ tiếng Việt; cài bằng "
        "`apt-get install fonts-dejavu-core` hoặc đặt NIDB_FONT_DIR "
        f"(font {name} with Vietnamese letters not found: install fonts-dejavu-core or set "
        "NIDB_FONT_DIR)"
    )


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab, once."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, str(font_path("DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(font_path("DejaVuSans-Bold.ttf"))))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def cell_text(value: object, percent: bool, money: bool = False) -> str:
    """A table cell as the report prints it (Vietnamese grouping: 1.234.567; 95,2%;
    1.234.567 đồng)."""
    if value is None:
        return "–"
    if money and isinstance(value, int):
        return vn_money(value)
    if percent and isinstance(value, float):
        return f"{value * 100:.1f}%".replace(".", ",")
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def _number(value: object, percent: bool) -> float | None:
    """A chart value; None (a gap, not a zero) where nothing was measured."""
    if isinstance(value, int | float):
        return float(value) * (100 if percent else 1)
    return None


def chart_drawing(section: Section, chart: Chart, width: float) -> object | None:
    """A bar or line chart of a section's columns (vector drawing); None with no data rows."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    rows = [r for r in section.rows if r[0] not in ("VN", "Tổng")]
    if not rows:
        return None
    height = 200.0
    drawing = Drawing(width, height)
    plot = VerticalBarChart() if chart.kind == "bar" else HorizontalLineChart()
    plot.x, plot.y, plot.width, plot.height = 40, 45, width - 60, height - 85
    columns = list(chart.values)
    series = [[_number(r[i], i in section.percent_columns) for r in rows] for i in columns]
    if chart.kind == "line":  # lines skip unmeasured points; a line needs two
        kept = [
            (c, s)
            for c, s in zip(columns, series, strict=True)
            if sum(v is not None for v in s) >= 2
        ]
        if not kept:
            return None
        columns, series = [c for c, _ in kept], [s for _, s in kept]
    else:  # bars have no gaps: an unmeasured bar is drawn as 0
        series = [[v or 0.0 for v in s] for s in series]
    plot.data = series
    font_size = 5 if len(rows) > 12 else 7
    # a category's name fits its slot: rule titles and group names are long Vietnamese words,
    # cut with "…" (the table above the chart has them whole)
    fits = 40 if len(rows) > 12 else max(6, int(plot.width / len(rows) / (font_size * 0.55)))
    plot.categoryAxis.categoryNames = [
        name if len(name) <= fits else name[: fits - 1].rstrip() + "…"
        for name in (str(r[chart.category]) for r in rows)
    ]
    plot.categoryAxis.labels.fontName = FONT
    plot.categoryAxis.labels.fontSize = font_size
    plot.categoryAxis.labels.angle = 90 if len(rows) > 12 else 0
    plot.categoryAxis.labels.boxAnchor = "e" if len(rows) > 12 else "n"
    plot.valueAxis.labels.fontName = FONT
    plot.valueAxis.labels.fontSize = 6
    plot.valueAxis.valueMin = 0
    for i in range(len(columns)):
        colour = colors.HexColor(COLOURS[i % len(COLOURS)])
        if chart.kind == "bar":
            plot.bars[i].fillColor = colour
            plot.bars[i].strokeColor = None
        else:
            plot.lines[i].strokeColor = colour
            plot.lines[i].strokeWidth = 1.5
    drawing.add(plot)
    drawing.add(String(40, height - 12, chart.title, fontName=FONT_BOLD, fontSize=9))
    legend = Legend()
    legend.x, legend.y = 40, height - 20
    legend.fontName = FONT
    legend.fontSize = 6
    legend.columnMaximum = 1
    legend.colorNamePairs = [
        (colors.HexColor(COLOURS[i % len(COLOURS)]), section.header[c])
        for i, c in enumerate(columns)
    ]
    legend.boxAnchor = "nw"
    legend.dx = legend.dy = 6
    legend.deltax = 90
    drawing.add(legend)
    return cast(object, drawing)


def column_widths(texts: list[list[str]], width: float) -> list[float]:
    """Widths that fit the page: each column as wide as its longest text (7-point DejaVu plus
    the cell padding); when that is wider than ``width``, only the widest columns are capped
    (names wrap, figures stay on one line)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    columns = len(texts[0])
    natural = [
        max(
            stringWidth(line[i], FONT_BOLD if r == 0 else FONT, 7)
            for r, line in enumerate(texts)
            if i < len(line)
        )
        + 14
        for i in range(columns)
    ]
    if sum(natural) <= width:
        return natural
    low, high = 0.0, max(natural)
    for _ in range(40):  # the cap c with sum(min(w, c)) = width
        cap = (low + high) / 2
        low, high = (cap, high) if sum(min(w, cap) for w in natural) < width else (low, cap)
    return [min(w, low) for w in natural]


def write_pdf(report: Report, path: Path) -> Path:
    """Write ``report`` as a PDF at ``path`` (atomically)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    register_fonts()
    title_style = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=14, leading=18)
    heading = ParagraphStyle("heading", fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=8)
    body = ParagraphStyle("body", fontName=FONT, fontSize=8, leading=10)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=7, leading=8.5)
    head_cell = ParagraphStyle("head", fontName=FONT_BOLD, fontSize=7, leading=8.5)
    number_cell = ParagraphStyle("number", parent=cell, alignment=2)  # right-aligned
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    doc = SimpleDocTemplate(
        str(temp),
        pagesize=A4,
        invariant=1,
        title=report.title,
        author="nidb",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    width = A4[0] - 30 * mm
    story: list[object] = [Paragraph(report.title, title_style), Spacer(1, 4)]
    for section in report.sections:
        story.append(Paragraph(section.title, heading))
        if section.note:
            story.append(Paragraph(section.note, body))
        texts = [section.header] + [
            [
                cell_text(v, i in section.percent_columns, i in section.money_columns)
                for i, v in enumerate(row)
            ]
            for row in section.rows
        ]
        if not section.rows:
            texts.append(["(không có số liệu)"] + [""] * (len(section.header) - 1))
        widths = column_widths(texts, width)
        values: list[Sequence[object]] = [section.header, *section.rows]
        data = [
            [
                Paragraph(
                    t,
                    head_cell
                    if r == 0
                    else number_cell
                    if r < len(values) and isinstance(values[r][i], int | float)
                    else cell,
                )
                for i, t in enumerate(line)
            ]
            for r, line in enumerate(texts)
        ]
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 7),
                    ("FONT", (0, 0), (-1, 0), FONT_BOLD, 7),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ]
            )
        )
        story.append(table)
        drawing = chart_drawing(section, section.chart, width) if section.chart else None
        if drawing is not None:
            story.append(Spacer(1, 6))
            story.append(drawing)
    try:
        doc.build(story)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path
