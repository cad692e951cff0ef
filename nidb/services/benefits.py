"""Benefit rows (chế độ hưởng) that an approval or a death grants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from nidb.store import models

__all__ = ["record_benefit"]


def record_benefit(conn: Connection, bhxh_code: str, kind: str, start: date, **values: Any) -> int:
    """Insert a benefit row (unique per code, kind and start: a replay inserts nothing)."""
    b = models.Benefit
    existing = conn.execute(
        select(b.id).where(b.bhxh_code == bhxh_code, b.kind == kind, b.start_date == start)
    ).scalar()
    if existing is not None:
        return int(existing)
    return int(
        conn.execute(
            insert(b)
            .values(
                bhxh_code=bhxh_code,
                kind=kind,
                start_date=start,
                decided_at=datetime.now(UTC),
                **values,
            )
            .returning(b.id)
        ).scalar_one()
    )
