"""Commands of ``nidb.analytics``, mounted on the ``nidb`` command by ``nidb.cli``.

``nidb quality`` (data quality, its snapshot and trend), ``nidb report monthly|half-yearly|quarterly|yearly``
(PDF + XLSX), ``nidb publish`` (open data and its DCAT-AP catalogue). Exit codes as nidb.terminal:
0 done; 1 the system failed (database, missing font); 2 bad input named in the message.
"""

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.domain.display import vn_date
from nidb.terminal import fail, handled
from nidb.terminal import out as console  # `out` is the name of the --out options

if TYPE_CHECKING:
    from nidb.analytics.dataset import Dataset

report_app = typer.Typer(
    help="Báo cáo định kỳ PDF và XLSX (monthly, six-monthly, quarterly and yearly reports).",
    no_args_is_help=True,
)


def mount(app: typer.Typer) -> None:
    """Add this package's commands to ``nidb``."""
    app.command("quality")(quality_command)
    app.add_typer(report_app, name="report")
    app.command("publish")(publish_command)


def _today() -> date:
    from zoneinfo import ZoneInfo

    from nidb.settings import get_settings

    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def _day(raw: str | None, option: str) -> date:

    if raw is None:
        return _today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise fail(
            f"{option}={raw!r}: ngày phải có dạng YYYY-MM-DD (a date is written YYYY-MM-DD)"
        ) from None


def _percent(num: int, den: int) -> str:
    return f"{num / den * 100:.1f}%" if den else "–"


def quality_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Ngày đo, YYYY-MM-DD (mặc định hôm nay)")
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Lưu kết quả để xem xu hướng")] = False,
    trend: Annotated[bool, typer.Option("--trend", help="Xem xu hướng các lần đã lưu")] = False,
    by_province: Annotated[
        bool, typer.Option("--by-province", help="Theo từng tỉnh (per province)")
    ] = False,
    province: Annotated[
        str | None, typer.Option(help="Chỉ một tỉnh (mã 34 tỉnh) cho --trend")
    ] = None,
    engine_kind: Annotated[
        str, typer.Option("--engine", help="store (SQL trên CSDL) | duckdb (Parquet)")
    ] = "store",
) -> None:
    """Chất lượng dữ liệu đúng, đủ, sạch, sống (data quality per province and group)."""
    from nidb.analytics.quality import (
        INFO_GROUPS,
        MEASURE_NAMES,
        compute_quality,
        national,
        save_quality,
        saved_trend,
    )
    from nidb.analytics.quality_sql import MEASURES
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    if engine_kind not in ("store", "duckdb"):
        raise fail(f"--engine={engine_kind!r}: store hoặc duckdb (store or duckdb)")
    if trend:
        with handled():
            snapshots = saved_trend(open_engine(), province)
        if not snapshots:
            console.print("Chưa lưu lần đo nào (nothing saved yet): nidb quality --save")
            return
        table = Table(title=f"Xu hướng chất lượng dữ liệu — {province or 'toàn quốc'} (trend)")
        table.add_column("nhóm (group)")
        table.add_column("chỉ số (measure)")
        for day in snapshots:
            table.add_column(day.isoformat(), justify="right")
        keys = sorted(
            {(m.group, m.measure) for ms in snapshots.values() for m in ms},
            key=lambda k: (list(INFO_GROUPS).index(k[0]), MEASURES.index(k[1])),
        )
        for group, measure in keys:
            cells = []
            for ms in snapshots.values():
                got = [m for m in ms if (m.group, m.measure) == (group, measure)]
                cells.append(_percent(got[0].numerator, got[0].denominator) if got else "–")
            table.add_row(group, MEASURE_NAMES[measure][0], *cells)
        console.print(table)
        return
    day = _day(as_of, "--as-of")
    with handled():
        engine = open_engine()
        measures = compute_quality(engine, day, engine_kind)
        if save:
            with engine.begin() as conn:
                stored = save_quality(conn, day, measures, actor_name())
    rows = national(measures) if not by_province else measures
    table = Table(title=f"Chất lượng dữ liệu ngày {day.isoformat()} (data quality)")
    if by_province:
        table.add_column("tỉnh")
    table.add_column("nhóm thông tin (information group)")
    for measure in MEASURES:
        vi, en = MEASURE_NAMES[measure]
        table.add_column(f"{vi} ({en})", justify="right")
    grouped: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for m in rows:
        grouped.setdefault((m.province, m.group), {})[m.measure] = (m.numerator, m.denominator)
    for (prov, group), by_measure in sorted(
        grouped.items(), key=lambda kv: (kv[0][0], list(INFO_GROUPS).index(kv[0][1]))
    ):
        values = [
            f"{_percent(*by_measure[m])} ({by_measure[m][0]:,}/{by_measure[m][1]:,})"
            if m in by_measure
            else "–"
            for m in MEASURES
        ]
        label = f"{group} — {INFO_GROUPS[group][0]}"
        table.add_row(*([prov] if by_province else []), label, *values)
    console.print(table)
    if save:
        console.print(f"Đã lưu {stored:,} chỉ số ngày {day.isoformat()} (saved).")


def _write_report(period_of: object, raw: object, out: Path) -> None:
    from nidb.analytics.report_data import ReportPeriodInvalid
    from nidb.analytics.report_pdf import FontMissing
    from nidb.analytics.reports import write_report
    from nidb.store.db import open_engine

    try:
        period = period_of(raw)  # type: ignore[operator]
    except ReportPeriodInvalid as error:
        raise fail(str(error)) from None
    with handled():
        try:
            report, pdf, xlsx = write_report(open_engine(), period, out)
        except FontMissing as error:
            raise fail(str(error), 1) from None
    console.print(
        f"{report.title}\nNgày chốt số liệu (cut-off): {vn_date(period.cutoff)}; "
        f"hạn gửi (due): {vn_date(period.due)}\n  {pdf}\n  {xlsx}"
    )


ReportFolder = Annotated[Path, typer.Option(help="Thư mục ghi báo cáo (output folder)")]
"""``--out`` of every report command."""


@report_app.command("monthly")
def report_monthly(
    month: Annotated[str, typer.Option(help="Tháng, ví dụ 2026-11 hoặc 11/2026 (a month)")],
    out: ReportFolder = Path("reports"),
) -> None:
    """Báo cáo tháng: chốt số liệu ngày 20, gửi ngày 25 (monthly progress report)."""
    from nidb.analytics.report_data import month_period

    _write_report(month_period, month, out)


@report_app.command("half-yearly")
def report_half_yearly(
    half: Annotated[str, typer.Option(help="Kỳ 6 tháng, ví dụ 2026H1 (a half-year)")],
    out: ReportFolder = Path("reports"),
) -> None:
    """Báo cáo 6 tháng: chốt số liệu ngày 20/6 hoặc 20/12 (six-monthly report)."""
    from nidb.analytics.report_data import half_year_period

    _write_report(half_year_period, half, out)


@report_app.command("quarterly")
def report_quarterly(
    quarter: Annotated[str, typer.Option(help="Quý, ví dụ 2026Q3 (a quarter)")],
    out: ReportFolder = Path("reports"),
) -> None:
    """Báo cáo quý: chốt số liệu ngày 20 tháng cuối quý (quarterly progress report)."""
    from nidb.analytics.report_data import quarter_period

    _write_report(quarter_period, quarter, out)


@report_app.command("yearly")
def report_yearly(
    year: Annotated[int, typer.Option(help="Năm báo cáo (the year)")],
    out: ReportFolder = Path("reports"),
) -> None:
    """Báo cáo năm về chất lượng dữ liệu, trước 31/12 (yearly report, Decree 43 Art. 14)."""
    from nidb.analytics.report_data import year_period

    _write_report(year_period, year, out)


def publish_command(
    out: Annotated[Path, typer.Option(help="Thư mục dữ liệu mở (output folder)")],
    min_cell: Annotated[
        int, typer.Option("--min-cell", min=1, help="Ô nhỏ hơn số này bị ẩn (k)")
    ] = 10,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Ngày tham chiếu YYYY-MM-DD (mặc định hôm nay)")
    ] = None,
    base_url: Annotated[
        str, typer.Option(help="URL gốc nơi các tệp được công bố (for dcat:downloadURL)")
    ] = "",
    parquet: Annotated[
        bool, typer.Option("--parquet", help="Thêm bản Parquet của mỗi tệp (Parquet copies)")
    ] = False,
    push: Annotated[
        str | None,
        typer.Option(
            "--push",
            help="Đẩy lên cổng dữ liệu mở có API CKAN tại URL này "
            "(push to a CKAN-compatible portal; key in NIDB_OPENDATA_API_KEY)",
        ),
    ] = None,
    push_key: Annotated[
        str | None,
        typer.Option(
            "--push-key", envvar="NIDB_OPENDATA_API_KEY", help="Khóa API của cổng (CKAN API key)"
        ),
    ] = None,
) -> None:
    """Công bố dữ liệu mở tổng hợp đã ẩn ô nhỏ, kèm danh mục DCAT-AP (open data)."""
    from nidb.analytics.publish import publish
    from nidb.store.db import open_engine

    day = _day(as_of, "--as-of")
    with handled():
        datasets = publish(open_engine(), out, day, min_cell, base_url, parquet)
    table = Table(title=f"Dữ liệu mở ngày {day.isoformat()} → {out} (open data, k={min_cell})")
    for column in ("tệp (file)", "dòng (rows)", "ô ẩn (suppressed)"):
        table.add_column(column, justify="right" if column != "tệp (file)" else "left")
    for d in datasets:
        table.add_row(d.file, f"{d.rows:,}", f"{d.suppressed:,}")
    table.add_row("catalog.jsonld", "", "")
    console.print(table)
    if push:
        _push(push, push_key, out, datasets, day)


def _push(url: str, key: str | None, out: Path, datasets: "list[Dataset]", day: date) -> None:
    from nidb.analytics.push import push_datasets
    from nidb.connectors.platforms import CkanClient, PlatformError

    if not key:
        raise fail(
            "--push cần khóa API: --push-key hoặc NIDB_OPENDATA_API_KEY "
            "(--push needs the portal's API key)",
            2,
        )
    with CkanClient(url, key) as client:
        try:
            result = push_datasets(client, out, datasets, day)
        except PlatformError as error:
            raise fail(f"{error.message_vi} ({error.message_en})", 1) from None
    console.print(
        f"Đã đẩy lên {url}: {len(result.created)} bộ dữ liệu mới, {len(result.updated)} cập nhật, "
        f"{result.files} tệp (pushed: {len(result.created)} created, "
        f"{len(result.updated)} updated, {result.files} files)"
    )
