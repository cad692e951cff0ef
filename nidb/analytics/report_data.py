"""What the periodic reports say (monthly, six-monthly, quarterly, yearly), gathered once and
rendered as PDF and XLSX.

A report is a list of :class:`Section`s — a title, a table and, where it helps, a chart — so
that the PDF and the workbook show the same figures. Data is taken as of the cut-off date
wherever the store has dates: periods open, cards valid and benefits running on that day,
records verified before its end (Vietnam time), alerts raised before it. Quarterly: the
cut-off is the 20th of the quarter's last month, due on the 25th (Đề án 06 reporting); monthly
and six-monthly reports (VSS's 2024 plan for Đề án 06, item 3) keep that rule on their own last
month (20 June / 20 December for the halves).
Yearly (Decree 43 Art. 14, before 31 December): the cut-off is 20 December, due the 25th.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Engine, text

from nidb.analytics.aggregates import active_participation
from nidb.analytics.quality import (
    INFO_GROUPS,
    MEASURE_NAMES,
    Measure,
    compute_quality,
    national,
    province34,
    saved_trend,
)
from nidb.analytics.quality_sql import MEASURES, PERSON_PROVINCE, cutoff_instant
from nidb.domain.alerts import alert_rule_label
from nidb.domain.display import BENEFIT_KIND_LABELS, beneficiary_group_label, vn_date
from nidb.domain.errors import DomainError
from nidb.domain.provinces import PROVINCES_34

UNKNOWN = "00"


class ReportPeriodInvalid(DomainError):
    """A quarter or year the report command cannot read."""


@dataclass(frozen=True)
class Period:
    """The period a report covers and its cut-off and due dates."""

    kind: str  # monthly | half-yearly | quarterly | yearly
    label: str  # 2026-11 | 2026H1 | 2026Q3 | 2026 (file names)
    first: date
    last: date
    cutoff: date
    due: date
    name_vi: str = ""
    """The period as a title says it: "quý III năm 2026", "tháng 11 năm 2026"."""


_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
KIND_SLUGS = {"monthly": "thang", "half-yearly": "6-thang", "quarterly": "quy", "yearly": "nam"}
"""File-name word of each kind of report (bao-cao-quy-2026Q3.pdf)."""


def _year_checked(raw: str, year: int, field: str, example: str | None = None) -> None:
    """Every report's year is 2000–2200; ``example`` shows how the period is written."""
    if not 2000 <= year <= 2200:
        raise ReportPeriodInvalid(
            field,
            raw,
            "YEAR_RANGE",
            "năm báo cáo phải trong khoảng 2000–2200" + (f", ví dụ {example}" if example else ""),
            "the report year must be 2000–2200" + (f", e.g. {example}" if example else ""),
        )


def _last_day(year: int, month: int) -> date:
    return (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)


def month_period(raw: str) -> Period:
    """``2026-11`` (or ``11/2026``) → November 2026: cut-off the 20th, due the 25th, the rule
    of the quarterly report applied to a month (VSS's 2024 plan for Đề án 06 asks monthly
    progress beside the quarterly one)."""
    text = raw.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    written = re.fullmatch(r"(\d{1,2})/(\d{4})", text)
    if iso:
        year, month = int(iso[1]), int(iso[2])
    elif written:
        year, month = int(written[2]), int(written[1])
    else:
        year, month = 0, 0
    if not 1 <= month <= 12:
        raise ReportPeriodInvalid(
            "month",
            raw,
            "MONTH_FORMAT",
            "tháng phải có dạng NĂM-THÁNG hoặc THÁNG/NĂM, ví dụ 2026-11 hoặc 11/2026",
            "a month is written YEAR-MM or MM/YEAR, e.g. 2026-11 or 11/2026",
        )
    _year_checked(raw, year, "month", "2026-11")
    return Period(
        "monthly",
        f"{year}-{month:02d}",
        date(year, month, 1),
        _last_day(year, month),
        date(year, month, 20),
        date(year, month, 25),
        f"tháng {month} năm {year}",
    )


def half_year_period(raw: str) -> Period:
    """``2026H1`` → January–June 2026, cut-off 20 June, due 25 June; ``2026H2`` → July–December,
    cut-off 20 December, due 25 December (the quarterly rule on the half's last month)."""
    match = re.fullmatch(r"(\d{4})[Hh]([12])", raw.strip())
    if not match:
        raise ReportPeriodInvalid(
            "half",
            raw,
            "HALF_FORMAT",
            "kỳ 6 tháng phải có dạng NĂMH1 hoặc NĂMH2, ví dụ 2026H1",
            "a half-year is written YEARH1 or YEARH2, e.g. 2026H1",
        )
    year, half = int(match[1]), int(match[2])
    _year_checked(raw, year, "half", "2026H1")
    last_month = 6 * half
    return Period(
        "half-yearly",
        f"{year}H{half}",
        date(year, last_month - 5, 1),
        _last_day(year, last_month),
        date(year, last_month, 20),
        date(year, last_month, 25),
        f"6 tháng {'đầu' if half == 1 else 'cuối'} năm {year}",
    )


def quarter_period(raw: str) -> Period:
    """``2026Q3`` → the third quarter of 2026, cut-off 20 September, due 25 September."""
    match = re.fullmatch(r"(\d{4})[Qq]([1-4])", raw.strip())
    if not match or not 2000 <= int(match[1]) <= 2200:
        raise ReportPeriodInvalid(
            "quarter",
            raw,
            "QUARTER_FORMAT",
            "quý phải có dạng NĂMQn (năm 2000–2200), ví dụ 2026Q3",
            "a quarter is written YEARQn (year 2000–2200), e.g. 2026Q3",
        )
    year, quarter = int(match[1]), int(match[2])
    last_month = quarter * 3
    return Period(
        "quarterly",
        f"{year}Q{quarter}",
        date(year, last_month - 2, 1),
        _last_day(year, last_month),
        date(year, last_month, 20),
        date(year, last_month, 25),
        f"quý {_ROMAN[quarter]} năm {year}",
    )


def year_period(year: int) -> Period:
    """The year's report: cut-off 20 December, due 25 December (before 31 December)."""
    _year_checked(str(year), year, "year")
    return Period(
        "yearly",
        str(year),
        date(year, 1, 1),
        date(year, 12, 31),
        date(year, 12, 20),
        date(year, 12, 25),
        f"năm {year}",
    )


@dataclass
class Chart:
    """A chart over a section's table: bars or lines of some columns against one."""

    kind: str  # bar | line
    category: int
    values: list[int]
    title: str


@dataclass
class Section:
    """One part of the report: a sheet of the workbook, a heading and table of the PDF."""

    key: str
    title: str
    header: list[str]
    rows: list[list[object]]
    chart: Chart | None = None
    note: str = ""
    percent_columns: set[int] = field(default_factory=set)
    money_columns: set[int] = field(default_factory=set)
    """Columns of integer đồng: ``1.234.567 đồng`` in the PDF, ``#,##0 "đồng"`` in the XLSX."""


@dataclass
class Report:
    """A whole report."""

    period: Period
    title: str
    sections: list[Section]
    quality: list[Measure]


def _province_name(code: str) -> str:
    return PROVINCES_34[code].name if code in PROVINCES_34 else "Không xác định"


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def participants_section(engine: Engine, cutoff: date) -> Section:
    """People with an open participation period on the cut-off, by province and scheme."""
    rows = _rows(
        engine,
        f"""
        WITH {active_participation(cutoff)}
        SELECT COALESCE(e.province, cp.province, '00'), a.scheme, COUNT(*)
        FROM active a LEFT JOIN employers e ON e.employer_code = a.employer_code
        LEFT JOIN code_province cp ON cp.bhxh_code = a.bhxh_code
        GROUP BY COALESCE(e.province, cp.province, '00'), a.scheme""",
    )
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for province, scheme, n in rows:
        table[province34(str(province))][str(scheme)] += int(n)  # type: ignore[call-overload]
    out = [
        [p, _province_name(p), c["BHXH"], c["BHYT"], c["BHTN"]] for p, c in sorted(table.items())
    ]
    out.append(["VN", "Toàn quốc", *(sum(int(r[i]) for r in out) for i in (2, 3, 4))])  # type: ignore[call-overload]
    return Section(
        "participants",
        "Người tham gia theo tỉnh và loại bảo hiểm (participants by scheme)",
        ["Mã tỉnh", "Tỉnh", "BHXH", "BHYT", "BHTN"],
        out,
        Chart("bar", 0, [2, 3, 4], "Người tham gia theo tỉnh"),
        "Người có quá trình tham gia đang mở tại ngày chốt số liệu; tỉnh của đơn vị, "
        "nếu không có thì tỉnh cấp thẻ.",
    )


def cards_section(engine: Engine, cutoff: date) -> Section:
    """Cards valid on the cut-off by status, and active cards by beneficiary group."""
    day = cutoff.isoformat()
    rows = _rows(
        engine,
        f"""
        SELECT group_code, status, COUNT(*) FROM health_cards
        WHERE valid_from <= '{day}' AND valid_to >= '{day}'
        GROUP BY group_code, status""",
    )
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for group, status, n in rows:
        table[str(group)][str(status)] += int(n)  # type: ignore[call-overload]
    statuses = ["active", "suspended", "revoked", "expired"]
    out: list[list[object]] = [
        [g, beneficiary_group_label(g), *(c[s] for s in statuses), sum(c.values())]
        for g, c in sorted(table.items())
    ]
    out.append(["Tổng", "", *(sum(int(r[i]) for r in out) for i in range(2, 7))])  # type: ignore[call-overload]
    return Section(
        "cards",
        "Thẻ BHYT còn thời hạn theo nhóm đối tượng và trạng thái (cards)",
        ["Mã đối tượng", "Đối tượng", "Đang dùng", "Tạm khóa", "Thu hồi", "Hết hạn", "Tổng"],
        out,
        Chart("bar", 0, [2], "Thẻ BHYT đang dùng theo nhóm đối tượng (mã đối tượng)"),
    )


def verification_section(engine: Engine, cutoff: date) -> Section:
    """Đề án 06 progress: person records verified against the population database, by province."""
    cut = cutoff_instant(cutoff).strftime("%Y-%m-%d %H:%M:%S+00:00")
    rows = _rows(
        engine,
        f"""
        SELECT {PERSON_PROVINCE},
            CASE WHEN p.verification_status = 'unverified' THEN 'unverified'
                 WHEN p.verified_at IS NOT NULL AND p.verified_at >= '{cut}' THEN 'unverified'
                 ELSE p.verification_status END,
            COUNT(*)
        FROM persons p LEFT JOIN employers e ON e.employer_code = p.employer_code
        GROUP BY {PERSON_PROVINCE},
            CASE WHEN p.verification_status = 'unverified' THEN 'unverified'
                 WHEN p.verified_at IS NOT NULL AND p.verified_at >= '{cut}' THEN 'unverified'
                 ELSE p.verification_status END""",
    )
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for province, status, n in rows:
        table[province34(str(province))][str(status)] += int(n)  # type: ignore[call-overload]
    kinds = ["verified", "review", "unmatched", "unverified"]
    out: list[list[object]] = []
    for p, c in sorted(table.items()):
        total = sum(c.values())
        out.append(
            [
                p,
                _province_name(p),
                total,
                *(c[k] for k in kinds),
                c["verified"] / total if total else 0.0,
            ]
        )
    grand = sum(int(r[2]) for r in out)  # type: ignore[call-overload]
    verified = sum(int(r[3]) for r in out)  # type: ignore[call-overload]
    out.append(
        [
            "VN",
            "Toàn quốc",
            grand,
            *(sum(int(r[i]) for r in out) for i in range(3, 7)),  # type: ignore[call-overload]
            verified / grand if grand else 0.0,
        ]
    )
    return Section(
        "verification",
        "Tiến độ xác thực với CSDL quốc gia về dân cư theo tỉnh (Đề án 06)",
        [
            "Mã tỉnh",
            "Tỉnh",
            "Hồ sơ",
            "Đã xác thực",
            "Chờ xem xét",
            "Chưa khớp",
            "Chưa xác thực",
            "Tỷ lệ xác thực",
        ],
        out,
        Chart("bar", 0, [7], "Tỷ lệ hồ sơ đã xác thực theo tỉnh"),
        "Bối cảnh (số liệu thật): 83.477.695 hồ sơ đã xác thực với CSDL dân cư ngày 16/5/2023; "
        "107.157.011 hồ sơ bảo hiểm đã chia sẻ (5/2023).",
        percent_columns={7},
    )


def quality_sections(engine: Engine, cutoff: date, measures: list[Measure]) -> list[Section]:
    """The four measures per group at the cut-off, and their saved trend up to it."""
    by_key = {(m.group, m.measure): m for m in national(measures)}
    rows: list[list[object]] = []
    for group, (name_vi, _) in INFO_GROUPS.items():
        cells = [by_key.get((group, m)) for m in MEASURES]
        rows.append(
            [
                group,
                name_vi,
                *((c.ratio if c and c.ratio is not None else None) for c in cells),
                *((f"{c.numerator}/{c.denominator}" if c else "") for c in cells),
            ]
        )
    names = [MEASURE_NAMES[m][0] for m in MEASURES]
    now = Section(
        "quality",
        "Chất lượng dữ liệu: đúng, đủ, sạch, sống (data quality)",
        ["Nhóm", "Nhóm thông tin", *(f"{n} %" for n in names), *(f"{n} (tử/mẫu)" for n in names)],
        rows,
        Chart("bar", 0, [2, 3, 4, 5], "Chất lượng dữ liệu theo nhóm thông tin"),
        percent_columns={2, 3, 4, 5},
    )
    trend = {d: ms for d, ms in saved_trend(engine).items() if d <= cutoff}
    trend[cutoff] = national(measures)
    trend_rows: list[list[object]] = []
    for day, ms in sorted(trend.items()):
        got = {(m.group, m.measure): m.ratio for m in ms}
        trend_rows.append([vn_date(day), *(got.get(("person", m)) for m in MEASURES)])
    return [
        now,
        Section(
            "trend",
            "Xu hướng chất lượng thông tin người tham gia (trend, group a)",
            ["Ngày", *(f"{n} %" for n in names)],
            trend_rows,
            Chart("line", 0, [1, 2, 3, 4], "Xu hướng chất lượng dữ liệu (nhóm a)"),
            "Các lần lưu bằng `nidb quality --save` đến ngày chốt, và số liệu tại ngày chốt.",
            percent_columns={1, 2, 3, 4},
        ),
    ]


def alerts_section(engine: Engine, cutoff: date) -> Section:
    """Alerts raised before the end of the cut-off day, by rule and status."""
    cut = cutoff_instant(cutoff).strftime("%Y-%m-%d %H:%M:%S+00:00")
    rows = _rows(
        engine,
        f"""
        SELECT kind, status, COUNT(*) FROM alerts WHERE created_at < '{cut}'
        GROUP BY kind, status""",
    )
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for kind, status, n in rows:
        table[str(kind)][str(status)] += int(n)  # type: ignore[call-overload]
    out: list[list[object]] = [
        [alert_rule_label(k), c["open"], c["confirmed"], c["dismissed"], sum(c.values())]
        for k, c in sorted(table.items())
    ]
    return Section(
        "alerts",
        "Cảnh báo theo quy tắc (alerts by rule)",
        ["Quy tắc", "Đang mở", "Xác nhận", "Bác bỏ", "Tổng"],
        out,
        Chart("bar", 0, [4], "Cảnh báo theo quy tắc") if out else None,
    )


def benefits_section(engine: Engine, period: Period) -> Section:
    """Benefits running on the cut-off, and those begun in the period, by kind."""
    day, first = period.cutoff.isoformat(), period.first.isoformat()
    rows = _rows(
        engine,
        f"""
        SELECT kind,
            SUM(CASE WHEN status = 'active' AND start_date <= '{day}'
                      AND (end_date IS NULL OR end_date >= '{day}') THEN 1 ELSE 0 END),
            SUM(CASE WHEN status = 'active' AND start_date <= '{day}'
                      AND (end_date IS NULL OR end_date >= '{day}')
                     THEN COALESCE(monthly_amount, 0) ELSE 0 END),
            SUM(CASE WHEN start_date >= '{first}' AND start_date <= '{day}' THEN 1 ELSE 0 END),
            SUM(CASE WHEN start_date >= '{first}' AND start_date <= '{day}'
                     THEN COALESCE(lump_sum, 0) ELSE 0 END)
        FROM benefits GROUP BY kind""",
    )
    out: list[list[object]] = [
        [BENEFIT_KIND_LABELS.get(str(r[0]), str(r[0])), *(int(x or 0) for x in r[1:])]  # type: ignore[call-overload]
        for r in sorted(rows, key=lambda r: str(r[0]))
    ]
    return Section(
        "benefits",
        "Chế độ hưởng (benefits)",
        [
            "Chế độ",
            "Đang hưởng tại ngày chốt",
            "Tiền hằng tháng (đồng)",
            "Mới trong kỳ",
            "Trợ cấp một lần trong kỳ (đồng)",
        ],
        out,
        Chart("bar", 0, [1], "Người đang hưởng theo chế độ") if out else None,
        money_columns={2, 4},
    )


def build_report(engine: Engine, period: Period, today: date | None = None) -> Report:
    """Gather every section of the report of ``period``; built before its cut-off day
    (``today`` in Vietnam, default now), the summary says so first."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = today or datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    measures = compute_quality(engine, period.cutoff)
    sections = [
        participants_section(engine, period.cutoff),
        cards_section(engine, period.cutoff),
        verification_section(engine, period.cutoff),
        *quality_sections(engine, period.cutoff, measures),
        alerts_section(engine, period.cutoff),
        benefits_section(engine, period),
    ]
    title = f"Báo cáo {period.name_vi} — Cơ sở dữ liệu quốc gia về bảo hiểm"
    early_warning: list[list[object]] = (
        [
            [
                "LƯU Ý",
                f"Lập ngày {vn_date(today)}, trước ngày chốt số liệu "
                f"{vn_date(period.cutoff)}: số liệu chưa đủ kỳ, không dùng để báo cáo",
            ]
        ]
        if today < period.cutoff
        else []
    )
    summary = Section(
        "summary",
        "Tổng quan (summary)",
        ["Chỉ tiêu", "Giá trị"],
        [
            *early_warning,
            ["Kỳ báo cáo", f"{vn_date(period.first)} – {vn_date(period.last)}"],
            ["Ngày chốt số liệu", vn_date(period.cutoff)],
            ["Hạn gửi báo cáo", vn_date(period.due)],
            ["Người tham gia BHYT", sections[0].rows[-1][3]],
            ["Người tham gia BHXH", sections[0].rows[-1][2]],
            ["Người tham gia BHTN", sections[0].rows[-1][4]],
            ["Hồ sơ đã xác thực", sections[2].rows[-1][3] if sections[2].rows else 0],
            [
                "Tỷ lệ xác thực",
                f"{float(sections[2].rows[-1][7]) * 100:.1f}%".replace(".", ",")  # type: ignore[arg-type]
                if sections[2].rows
                else "–",
            ],
        ],
    )
    return Report(period, title, [summary, *sections], measures)
