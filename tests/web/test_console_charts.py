"""The server-side SVG bar chart: geometry proportional to the numbers, escaped labels."""

from __future__ import annotations

from nidb.web.console.charts import LABEL_WIDTH, VALUE_WIDTH, WIDTH, stacked_bars
from nidb.web.templating import env


def test_segments_are_proportional_and_laid_side_by_side() -> None:
    chart = stacked_bars(
        [
            ("Hà Nội", [("seg-verified", 0.75, "a"), ("seg-review", 0.25, "b")], "75 %"),
            ("Huế", [("seg-verified", 0.0, "c"), ("seg-review", 0.5, "d")], "0 %"),
        ],
        "tóm tắt",
        scale_max=1.0,
    )
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    first, second = chart.bars
    assert [s.width for s in first.segments] == [plot * 0.75, plot * 0.25]
    assert first.segments[1].x == LABEL_WIDTH + plot * 0.75
    assert [s.css for s in second.segments] == ["seg-review"]  # empty segments are not drawn
    assert second.y > first.y and chart.height > second.y


def test_the_chart_template_escapes_labels_and_carries_its_summary() -> None:
    chart = stacked_bars([("<b>x</b>", [("seg-verified", 1.0, "<i>")], "1")], "tóm tắt")
    macro = env.from_string(
        '{% from "console/_bar_chart.html" import bar_chart %}{{ bar_chart(chart, "c") }}'
    )
    svg = macro.render(chart=chart)
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert 'role="img"' in svg and '<title id="c-title">tóm tắt</title>' in svg
