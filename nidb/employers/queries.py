"""Reads of the employer channel: declarations, their status, the workers declared."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from nidb.store import models
from nidb.store.models_employers import EmployerDeclaration
from nidb.store.models_employment import DeclaredWage

__all__ = ["declaration", "recent_declarations", "workers"]


def recent_declarations(
    conn: Connection, employer_code: str, limit: int = 50
) -> list[dict[str, Any]]:
    """The employer's latest declarations, newest first."""
    table = EmployerDeclaration.__table__
    rows = conn.execute(
        select(table)
        .where(table.c.employer_code == employer_code)
        .order_by(table.c.decided_at.desc(), table.c.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def declaration(conn: Connection, employer_code: str, declaration_no: str) -> dict[str, Any] | None:
    """One declaration of the employer by its own number, or None."""
    table = EmployerDeclaration.__table__
    row = (
        conn.execute(
            select(table).where(
                table.c.employer_code == employer_code, table.c.declaration_no == declaration_no
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def workers(conn: Connection, employer_code: str) -> list[dict[str, Any]]:
    """The employer's declared workers: each one's latest run, with name from the register,
    the first month declared at this employer (``start_month``) and the worker's latest health
    card (``card_code``, ``card_status``, ``card_valid_to``; None when there is none)."""
    wages = DeclaredWage.__table__
    person = models.Person.__table__
    rows = conn.execute(
        select(wages, person.c.full_name)
        .join(person, person.c.bhxh_code == wages.c.bhxh_code, isouter=True)
        .where(wages.c.employer_code == employer_code)
        .order_by(wages.c.personal_id, wages.c.from_month)
    ).mappings()
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row["personal_id"] or row["bhxh_code"]
        start = latest[key]["start_month"] if key in latest else row["from_month"]
        latest[key] = {**dict(row), "start_month": start}
    cards = _latest_cards(conn, [str(w["bhxh_code"]) for w in latest.values()])
    for worker in latest.values():
        card = cards.get(str(worker["bhxh_code"]))
        worker["card_code"] = card[0] if card else None
        worker["card_status"] = card[1] if card else None
        worker["card_valid_to"] = card[2] if card else None
    return sorted(latest.values(), key=lambda r: (r["full_name"] or "", r["personal_id"] or ""))


def _latest_cards(conn: Connection, codes: list[str]) -> dict[str, tuple[str, str, Any]]:
    """BHXH code → (card code, status, valid to) of the card valid latest."""
    cards = models.HealthCard.__table__
    found: dict[str, tuple[str, str, Any]] = {}
    for start in range(0, len(codes), 500):
        for code, card_code, status, valid_to in conn.execute(
            select(cards.c.bhxh_code, cards.c.card_code, cards.c.status, cards.c.valid_to)
            .where(cards.c.bhxh_code.in_(codes[start : start + 500]))
            .order_by(cards.c.bhxh_code, cards.c.valid_to, cards.c.id)
        ):
            found[str(code)] = (str(card_code), str(status), valid_to)
    return found
