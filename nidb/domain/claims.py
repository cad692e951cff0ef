"""Health-insurance claims: what share of a covered cost the fund pays (mức hưởng), by route.

Sources: Law on Health Insurance 2008 as amended by Law 46/2014/QH13, Art. 22 (benefit levels by
card level; 100% when a visit costs less than 15% of the base salary; 100% for a card holder with
five continuous years of participation once the year's co-payments pass six months of base
salary; the shares paid for a visit outside the registered route), and domain-research.md §4 for
the card's level digit. Facility levels (tuyến): 1 central, 2 province, 3 district, 4 commune.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CHEAP_VISIT_SHARE_PCT",
    "EXEMPTION_BASE_SALARY_MONTHS",
    "LEVEL_PCT",
    "Route",
    "insurer_share",
    "wrong_route_pct",
]

LEVEL_PCT: dict[int, int] = {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}
"""Share of the covered cost the fund pays, by the card's benefit level (the card's 3rd
character): 1, 2 and 5 pay 100%, 3 pays 95%, 4 pays 80%."""

CHEAP_VISIT_SHARE_PCT = 15
"""A visit whose covered cost is below 15% of the base salary is paid 100% (Art. 22.1.e)."""

EXEMPTION_BASE_SALARY_MONTHS = 6
"""Five continuous years and a year's co-payments above six months of base salary: 100%."""


class Route(StrEnum):
    """How the patient came to the facility (đúng tuyến, chuyển tuyến, cấp cứu, trái tuyến)."""

    RIGHT = "right"
    REFERRAL = "referral"
    EMERGENCY = "emergency"
    WRONG = "wrong"

    @property
    def label(self) -> str:
        return _ROUTE_LABELS[self]


_ROUTE_LABELS = {
    Route.RIGHT: "đúng tuyến",
    Route.REFERRAL: "chuyển tuyến",
    Route.EMERGENCY: "cấp cứu",
    Route.WRONG: "trái tuyến",
}


def wrong_route_pct(facility_level: int, inpatient: bool) -> int:
    """Share of the benefit paid when a patient goes outside the registered route (Art. 22.3):
    inpatient 40% at a central hospital, 100% at a province (from 2021) or district hospital;
    outpatient nothing at central or province level, 100% at district level (from 2016)."""
    if facility_level <= 1:
        return 40 if inpatient else 0
    if facility_level == 2:
        return 100 if inpatient else 0
    return 100


def insurer_share(amount: int, pct: int) -> int:
    """The fund's part of ``amount`` đồng at ``pct`` percent, rounded half up to a whole đồng."""
    if amount < 0 or not 0 <= pct <= 100:
        raise ValueError("amount must be >= 0 and pct in 0..100")
    return (amount * pct * 2 + 100) // 200
