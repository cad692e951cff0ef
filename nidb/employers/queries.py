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
    """The employer's declared workers: each one's latest run, with name from the register."""
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
        latest[row["personal_id"] or row["bhxh_code"]] = dict(row)
    return sorted(latest.values(), key=lambda r: (r["full_name"] or "", r["personal_id"] or ""))
