"""What a signed-in citizen may see of their own record, read for the portal pages.

"Their own" means the participant records verified as the personal ID VNeID vouched for
(``nidb.store.people``, without open identity links: a declared link is not proof); nothing is
looked up by a value the browser sends. Reads are a handful of indexed queries per page (the
records verified as the ID, then the BHXH codes found there).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from nidb.contributions.ledger import months_due
from nidb.domain.display import BENEFIT_KIND_LABELS
from nidb.domain.verification import VerificationStatus
from nidb.identity.reasons import Reason
from nidb.store import models, people
from nidb.store.models_claims import ClaimFacility

SCHEMES = ("BHXH", "BHYT", "BHTN")
VERIFICATION_TONES = {
    VerificationStatus.VERIFIED: "ok",
    VerificationStatus.REVIEW: "warn",
    VerificationStatus.UNMATCHED: "bad",
    VerificationStatus.REJECTED: "bad",
    VerificationStatus.UNVERIFIED: "warn",
}
"""The badge tone of each verification status (ok, warn, bad)."""
VERIFICATION_LABELS = {
    status.value: (status.label, VERIFICATION_TONES[status]) for status in VerificationStatus
}
REASON_LABELS = {reason.value: reason.label for reason in Reason}
BENEFIT_LABELS = BENEFIT_KIND_LABELS
STATUS_LABELS = {
    "active": ("Đang hiệu lực", "ok"),
    "suspended": ("Tạm dừng", "warn"),
    "revoked": ("Đã thu hồi", "bad"),
    "expired": ("Hết hạn", "bad"),
    "stopped": ("Đã dừng", "warn"),
    "ended": ("Đã kết thúc", "bad"),
}
GENDER_LABELS = {"M": "Nam", "F": "Nữ", "male": "Nam", "female": "Nữ"}


@dataclass
class Identity:
    """The citizen as the population database says, and how their records were verified."""

    citizen: Any | None
    records: list[Any]


def identity(conn: Connection, personal_id: str) -> Identity:
    """Population-database identity and the participant records verified to it."""
    return Identity(people.citizen(conn, personal_id), people.records_of(conn, personal_id))


@dataclass
class MonthRow:
    """One month of one year: which schemes covered it, through whom, and what was paid."""

    month: int
    schemes: dict[str, str | None] = field(default_factory=dict)  # scheme -> employer code
    wage: int | None = None
    bhxh_amount: int = 0
    bhyt_amount: int = 0
    bhtn_amount: int = 0
    paid: bool = False
    """Money was received for the month (the recorded contributions, or every charge of the
    employers' declarations for it settled)."""
    declared_paid: int = 0
    """Paid for the month through employers' declarations (all funds together)."""
    due: int = 0
    """What employers' declarations put due for the month and is not paid yet."""
    current: bool = False
    """The month is still running: shown as ongoing, counted in no total."""

    @property
    def amount(self) -> int:
        return self.bhxh_amount + self.bhyt_amount + self.bhtn_amount + self.declared_paid

    @property
    def known(self) -> bool:
        """Something is known of the month's money (paid or due)."""
        return self.paid or self.due > 0


@dataclass
class YearHistory:
    """Twelve months of a year, with the year's totals."""

    year: int
    months: list[MonthRow]

    @property
    def months_by_scheme(self) -> dict[str, int]:
        """Months of participation per scheme; the running month is not counted yet."""
        return {s: sum(1 for m in self.months if s in m.schemes and not m.current) for s in SCHEMES}

    @property
    def total_paid(self) -> int:
        return sum(m.amount for m in self.months if m.paid)

    @property
    def total_due(self) -> int:
        """Declared for the year and not paid yet."""
        return sum(m.due for m in self.months)

    @property
    def money_known(self) -> bool:
        """Whether anything is known of the year's money: a year of participation with no
        contribution recorded says "no data", never "0 đồng paid"."""
        return any(m.known for m in self.months)


def _months(start: date, end: date) -> list[tuple[int, int]]:
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def participation_history(conn: Connection, codes: list[str], today: date) -> list[YearHistory]:
    """BHXH/BHYT/BHTN participation and contributions month by month, newest year first."""
    if not codes:
        return []
    periods = conn.execute(
        select(
            models.ParticipationPeriod.scheme,
            models.ParticipationPeriod.employer_code,
            models.ParticipationPeriod.start_month,
            models.ParticipationPeriod.end_month,
        ).where(models.ParticipationPeriod.bhxh_code.in_(codes))
    ).all()
    contributions = conn.execute(
        select(
            models.Contribution.period,
            models.Contribution.wage,
            models.Contribution.bhxh_amount,
            models.Contribution.bhyt_amount,
            models.Contribution.bhtn_amount,
        ).where(models.Contribution.bhxh_code.in_(codes))
    ).all()
    cells: dict[tuple[int, int], MonthRow] = {}

    def cell(year: int, month: int) -> MonthRow:
        return cells.setdefault((year, month), MonthRow(month))

    this_month = today.replace(day=1)
    for scheme, employer, start, end in periods:
        last = min(end or this_month, this_month)
        for year, month in _months(start, last):
            cell(year, month).schemes[scheme] = employer
    if (this_month.year, this_month.month) in cells:
        cells[(this_month.year, this_month.month)].current = True
    for period, wage, bhxh, bhyt, bhtn in contributions:
        row = cell(period.year, period.month)
        row.wage = (row.wage or 0) + wage
        row.bhxh_amount += bhxh
        row.bhyt_amount += bhyt
        row.bhtn_amount += bhtn
        row.paid = True
    for declared_month, declared in months_due(conn, codes).items():
        row = cell(declared_month.year, declared_month.month)
        if row.paid:
            continue  # the recorded contributions are what was received; they stand
        if declared.paid:
            row.paid = True
            row.declared_paid = declared.total
        else:
            row.due = declared.total
    by_year: dict[int, list[MonthRow]] = defaultdict(list)
    for (year, _month), row in cells.items():
        by_year[year].append(row)
    history = []
    for year in sorted(by_year, reverse=True):
        known = {row.month: row for row in by_year[year]}
        history.append(YearHistory(year, [known.get(m, MonthRow(m)) for m in range(1, 13)]))
    return history


def benefits(conn: Connection, codes: list[str]) -> list[Any]:
    """Benefits decided for this person, newest first."""
    if not codes:
        return []
    table = models.Benefit
    return list(
        conn.execute(
            select(
                table.kind, table.start_date, table.end_date, table.monthly_amount,
                table.lump_sum, table.status,
            )
            .where(table.bhxh_code.in_(codes))
            .order_by(table.start_date.desc())
        ).all()
    )  # fmt: skip


def health_cards(conn: Connection, codes: list[str]) -> list[Any]:
    """Health-insurance cards, newest validity first."""
    if not codes:
        return []
    table = models.HealthCard
    return list(
        conn.execute(
            select(table).where(table.bhxh_code.in_(codes)).order_by(table.valid_from.desc())
        ).all()
    )


def current_card(cards: list[Any], today: date) -> Any | None:
    """The card valid today if any, else the most recent one."""
    for card in cards:
        if card.valid_from <= today <= card.valid_to and card.status == "active":
            return card
    return cards[0] if cards else None


def employer_names(conn: Connection, codes: set[str]) -> dict[str, str]:
    """Employer names by code (for the history tables)."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    rows = conn.execute(
        select(models.Employer.employer_code, models.Employer.name).where(
            models.Employer.employer_code.in_(codes)
        )
    ).all()
    return {str(code): str(name) for code, name in rows}


def facility_name(conn: Connection, code: str, today: date) -> str | None:
    """The name of a health facility (cơ sở KCB) from the insurer's facility catalogue: the
    contract in force today, else the latest one; None when the catalogue does not know it."""
    facility = ClaimFacility.__table__
    in_force = (facility.c.contract_from <= today) & (
        facility.c.contract_to.is_(None) | (facility.c.contract_to >= today)
    )
    name = conn.execute(
        select(facility.c.name)
        .where(facility.c.code == code)
        .order_by(in_force.desc(), facility.c.contract_from.desc())
        .limit(1)
    ).scalar()
    return str(name) if name else None


def partner_names(conn: Connection, codes: set[str]) -> dict[str, str]:
    """Partner names by member code (for the access history)."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    rows = conn.execute(
        select(models.Partner.code, models.Partner.name).where(models.Partner.code.in_(codes))
    ).all()
    return {str(code): str(name) for code, name in rows}
