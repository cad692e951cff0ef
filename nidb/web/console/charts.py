"""Charts drawn on the server as inline SVG (no script, nothing fetched, works under the CSP).

A chart is geometry computed here and drawn by ``console/_bar_chart.html``; colours come from
classes in ``console.css`` (the CSP forbids inline styles). Every chart sits beside a table with
the same numbers, which is its accessible alternative: the SVG is one image with a summary.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 90
BAR_HEIGHT = 18
GAP = 6
TOP = 8


@dataclass(frozen=True, slots=True)
class Segment:
    """One coloured part of a bar: its x, width and CSS class."""

    x: float
    width: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a horizontal bar chart."""

    y: float
    label: str
    value_text: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class BarChart:
    """A horizontal (stacked) bar chart: its size, rows and a one-sentence summary."""

    width: int
    height: int
    label_width: int
    bar_height: int
    bars: tuple[Bar, ...]
    summary: str


def stacked_bars(
    rows: list[tuple[str, list[tuple[str, float, str]], str]],
    summary: str,
    scale_max: float | None = None,
) -> BarChart:
    """Bars from ``(label, [(css_class, value, title), ...], value_text)`` rows.

    Segments are laid side by side, scaled so that ``scale_max`` (default: the largest row
    total) fills the plot width.
    """
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    largest = scale_max or max((sum(v for _, v, _ in parts) for _, parts, _ in rows), default=0)
    bars = []
    for index, (label, parts, value_text) in enumerate(rows):
        x = float(LABEL_WIDTH)
        segments = []
        for css, value, title in parts:
            width = plot * value / largest if largest else 0.0
            if width > 0:
                segments.append(Segment(round(x, 2), round(width, 2), css, title))
            x += width
        bars.append(Bar(TOP + index * (BAR_HEIGHT + GAP), label, value_text, tuple(segments)))
    height = TOP * 2 + len(rows) * (BAR_HEIGHT + GAP)
    return BarChart(WIDTH, height, LABEL_WIDTH, BAR_HEIGHT, tuple(bars), summary)
