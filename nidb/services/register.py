"""What the online services read from the register: people, codes, cards, contributions.

Read-only helpers over ``nidb.store.models``; every function takes the caller's connection so
checks and the writes they justify are in one transaction. Who a personal ID is and which BHXH
codes are theirs is ``nidb.store.people``'s question (``citizen`` is re-exported from there).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, func, select

from nidb.domain.errors import DomainError
from nidb.domain.provinces import province as find_province
from nidb.store import models
from nidb.store.people import citizen

__all__ = [
    "citizen",
    "contribution_wages",
    "current_cards",
    "latest_card",
    "province_for",
]


def current_cards(conn: Connection, codes: list[str], on: date) -> list[Row[Any]]:
    """Active cards of these codes valid on ``on`` or later, latest first."""
    if not codes:
        return []
    cards = models.HealthCard
    return list(
        conn.execute(
            select(cards.__table__)
            .where(cards.bhxh_code.in_(codes), cards.status == "active", cards.valid_to >= on)
            .order_by(cards.valid_to.desc())
        ).all()
    )


def latest_card(conn: Connection, codes: list[str]) -> Row[Any] | None:
    """The card of these codes that ends last, whatever its status."""
    if not codes:
        return None
    cards = models.HealthCard
    return conn.execute(
        select(cards.__table__)
        .where(cards.bhxh_code.in_(codes))
        .order_by(cards.valid_to.desc(), cards.id.desc())
        .limit(1)
    ).first()


def province_for(conn: Connection, personal_id: str, codes: list[str]) -> str | None:
    """The province that handles a person's dossiers: the latest card's, else the employer's,
    else the birth-registration province of the personal ID (34-province code)."""
    card = latest_card(conn, codes)
    if card is not None:
        return str(card.province_code)
    if codes:
        employer = conn.execute(
            select(models.Employer.province)
            .join(models.Person, models.Person.employer_code == models.Employer.employer_code)
            .where(models.Person.bhxh_code.in_(codes))
            .limit(1)
        ).scalar()
        if employer:
            return str(employer)
    try:
        return find_province(personal_id[:3]).code
    except DomainError:
        return None


def contribution_wages(
    conn: Connection, codes: list[str], scheme: str, after: date | None = None
) -> dict[date, int]:
    """Month → contribution wage (summed over employers) of months paid into ``scheme``
    (BHXH or BHTN), after ``after`` when given (a previous benefit used the earlier ones)."""
    if not codes:
        return {}
    c = models.Contribution
    amount = c.bhxh_amount if scheme == "BHXH" else c.bhtn_amount
    query = (
        select(c.period, func.sum(c.wage))
        .where(c.bhxh_code.in_(codes), amount > 0)
        .group_by(c.period)
        .order_by(c.period)
    )
    if after is not None:
        query = query.where(c.period > after)
    return {row[0]: int(row[1]) for row in conn.execute(query)}


def last_benefit_start(conn: Connection, codes: list[str], kinds: tuple[str, ...]) -> date | None:
    """The start of the latest benefit of these kinds (its months are used up)."""
    if not codes:
        return None
    b = models.Benefit
    value = conn.execute(
        select(func.max(b.start_date)).where(b.bhxh_code.in_(codes), b.kind.in_(kinds))
    ).scalar()
    return value if isinstance(value, date) else None


def has_active_benefit(conn: Connection, codes: list[str], kinds: tuple[str, ...]) -> bool:
    """True when one of these benefit kinds is being paid to these codes."""
    if not codes:
        return False
    b = models.Benefit
    return (
        conn.execute(
            select(func.count())
            .select_from(b)
            .where(b.bhxh_code.in_(codes), b.kind.in_(kinds), b.status == "active")
        ).scalar_one()
        > 0
    )
