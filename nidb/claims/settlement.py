"""Quarterly settlement with a facility (quyết toán): claimed, accepted, reduced and why.

A quarter holds the assessed claims whose patient left (NGAY_RA) in it, Vietnam time. The
statement is data (`settlement`) and a PDF in DejaVu Sans (`statement_pdf`), which the
facility downloads through the exchange (``claims.settlement/v1``) or staff print with
`nidb claims settlement`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from nidb.claims.rules import TITLES, day, dong
from nidb.store.models_claims import Claim, ClaimFacility, ClaimLine

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class RuleLine:
    rule: str
    title_vi: str
    times: int = 0
    amount: int = 0


@dataclass
class Settlement:
    facility_code: str
    facility_name: str
    year: int
    quarter: int
    first_day: date
    last_day: date
    claims: dict[str, int] = field(default_factory=dict)
    claimed: int = 0
    accepted: int = 0
    insurer: int = 0
    pending: int = 0
    reasons: dict[str, RuleLine] = field(default_factory=dict)

    @property
    def reduced(self) -> int:
        return self.claimed - self.accepted

    def as_dict(self) -> dict[str, Any]:
        return {
            "facility_code": self.facility_code,
            "facility_name": self.facility_name,
            "year": self.year,
            "quarter": self.quarter,
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "claims": self.claims,
            "not_yet_assessed": self.pending,
            "claimed": self.claimed,
            "accepted": self.accepted,
            "reduced": self.reduced,
            "insurer_pays": self.insurer,
            "reductions": [
                {"rule": r.rule, "title_vi": r.title_vi, "times": r.times, "amount": r.amount}
                for r in sorted(self.reasons.values(), key=lambda r: -r.amount)
            ],
        }


def quarter_days(year: int, quarter: int) -> tuple[date, date]:
    """The first and last day of a quarter."""
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise ValueError("quarter must be 1..4 and year 2000..2100")
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, date.fromordinal(after.toordinal() - 1)


def _utc(day_: date) -> datetime:
    return datetime.combine(day_, time(), VN).astimezone(UTC).replace(tzinfo=None)


def settlement(conn: Connection, facility: str, year: int, quarter: int) -> Settlement:
    """The settlement of ``facility`` for a quarter, from the assessed claims."""
    first, last = quarter_days(year, quarter)
    start, end = _utc(first), _utc(date.fromordinal(last.toordinal() + 1))
    name = conn.execute(
        select(ClaimFacility.name)
        .where(ClaimFacility.code == facility)
        .order_by(ClaimFacility.contract_from.desc())
    ).scalar()
    result = Settlement(facility, name or facility, year, quarter, first, last)
    in_quarter = (
        Claim.facility_code == facility,
        Claim.discharged_at >= start,
        Claim.discharged_at < end,
    )
    for claim in conn.execute(
        select(
            Claim.outcome,
            Claim.claimed_total,
            Claim.accepted_total,
            Claim.insurer_total,
            Claim.reasons,
        ).where(*in_quarter)
    ):
        if claim.outcome is None:
            result.pending += 1
            continue
        result.claims[claim.outcome] = result.claims.get(claim.outcome, 0) + 1
        result.claimed += claim.claimed_total
        result.accepted += claim.accepted_total or 0
        result.insurer += claim.insurer_total or 0
        for reason in claim.reasons or []:
            _add(result, reason["rule"], reason["amount"])
    for reductions in conn.execute(
        select(ClaimLine.reductions)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(*in_quarter, Claim.outcome == "reduced")
    ).scalars():
        for item in reductions or []:
            _add(result, item["rule"], item["amount"])
    return result


def _add(result: Settlement, rule: str, amount: int) -> None:
    line = result.reasons.setdefault(rule, RuleLine(rule, TITLES[rule][0]))
    line.times += 1
    line.amount += amount


def statement_pdf(data: Settlement) -> bytes:
    """The settlement statement as a PDF (DejaVu Sans), Vietnamese."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    from nidb.analytics.report_pdf import FONT, FONT_BOLD, register_fonts

    register_fonts()
    title = ParagraphStyle("t", fontName=FONT_BOLD, fontSize=13, leading=17)
    body = ParagraphStyle("b", fontName=FONT, fontSize=9, leading=12)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=1,
        title="Quyết toán chi phí KCB BHYT",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    outcomes = data.claims
    rows = [
        ["Số hồ sơ chấp nhận", str(outcomes.get("accepted", 0))],
        ["Số hồ sơ giảm trừ", str(outcomes.get("reduced", 0))],
        ["Số hồ sơ từ chối", str(outcomes.get("rejected", 0))],
        ["Số hồ sơ chưa giám định", str(data.pending)],
        ["Tổng chi phí đề nghị", dong(data.claimed)],
        ["Tổng chi phí được chấp nhận", dong(data.accepted)],
        ["Tổng giảm trừ, từ chối", dong(data.reduced)],
        ["Quỹ BHYT thanh toán", dong(data.insurer)],
    ]
    reasons = [["Lý do giảm trừ", "Số lần", "Số tiền"]] + [
        [r["title_vi"], str(r["times"]), dong(r["amount"])] for r in data.as_dict()["reductions"]
    ]
    style = [("FONT", (0, 0), (-1, -1), FONT, 9), ("ALIGN", (1, 0), (-1, -1), "RIGHT")]
    story: list[Any] = [
        Paragraph("QUYẾT TOÁN CHI PHÍ KHÁM BỆNH, CHỮA BỆNH BẢO HIỂM Y TẾ", title),
        Paragraph(
            f"Cơ sở: {data.facility_name} (mã {data.facility_code}) — Quý {data.quarter} năm "
            f"{data.year}, từ {day(data.first_day)} đến {day(data.last_day)}",
            body,
        ),
        Spacer(1, 8),
        Table(rows, style=style),
        Spacer(1, 8),
        Table(reasons, style=[*style, ("FONT", (0, 0), (-1, 0), FONT_BOLD, 9)]),
    ]
    doc.build(story)
    return buffer.getvalue()
