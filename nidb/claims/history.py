"""A patient's visits of the last N months, for a facility at the card check (Lskcb).

The visits are those claimed in XML 130 (``claims``) and those sent as summaries
(``visits.submit/v1``, ``health_visits``), newest first. The caller must hold group (h), basic
health information; the card each visit was made on is shown only to a caller also holding (đ).
The runtime logs the read against the person, so it shows in their "who read my data".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from nidb.claims.rules import day
from nidb.exchange.answer import Answer
from nidb.store import models
from nidb.store.models_claims import Claim

MAX_VISITS = 200
VN_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh, no summer time


def _local_day(moment: datetime) -> date:
    return (moment + VN_OFFSET).date()


def visit_history(
    conn: Connection, bhxh_code: str, months: int, groups: tuple[str, ...], today: date
) -> Answer:
    """The visits of ``bhxh_code`` since ``months`` months before ``today``."""
    since_day = today - timedelta(days=round(months * 30.44))
    since = datetime(since_day.year, since_day.month, since_day.day) - VN_OFFSET
    with_card = "dd" in groups
    visits: dict[tuple[str, str], dict[str, Any]] = {}
    claims = conn.execute(
        select(
            Claim.facility_code, Claim.ma_lk, Claim.card_code, Claim.admitted_at,
            Claim.discharged_at, Claim.inpatient, Claim.icd10, Claim.claimed_total, Claim.outcome,
        )
        .where(Claim.bhxh_code == bhxh_code, Claim.admitted_at >= since)
        .order_by(Claim.admitted_at.desc())
        .limit(MAX_VISITS)
    )  # fmt: skip
    for c in claims:
        visits[(c.facility_code, c.ma_lk)] = {
            "facility_code": c.facility_code,
            "visit_key": c.ma_lk,
            "admitted_at": c.admitted_at.replace(tzinfo=UTC).isoformat(),
            "discharged_at": c.discharged_at.replace(tzinfo=UTC).isoformat(),
            "admitted_day_vi": day(_local_day(c.admitted_at)),
            "inpatient": c.inpatient,
            "icd10": c.icd10,
            "total_cost": c.claimed_total,
            "assessment": c.outcome,
            **({"card_code": c.card_code} if with_card else {}),
        }
    table = models.HealthVisit
    for v in conn.execute(
        select(table)
        .where(table.bhxh_code == bhxh_code, table.admitted_at >= since)
        .order_by(table.admitted_at.desc())
        .limit(MAX_VISITS)
    ).scalars():
        visits.setdefault(
            (v.facility_code, v.visit_id),
            {
                "facility_code": v.facility_code,
                "visit_key": v.visit_id,
                "admitted_at": v.admitted_at.replace(tzinfo=UTC).isoformat(),
                "discharged_at": v.discharged_at.replace(tzinfo=UTC).isoformat(),
                "admitted_day_vi": day(_local_day(v.admitted_at)),
                "inpatient": v.inpatient,
                "icd10": v.icd10,
                "total_cost": v.total_cost,
                "assessment": None,
                **({"card_code": v.card_code} if with_card else {}),
            },
        )
    ordered = sorted(visits.values(), key=lambda v: v["admitted_at"], reverse=True)[:MAX_VISITS]
    fields = ("h", "dd") if with_card else ("h",)
    body = {"bhxh_code": bhxh_code, "months": months, "visits": ordered}
    return Answer(body, bhxh_code, fields)
