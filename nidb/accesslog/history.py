"""A person's own access history (who read their data), and the size of the log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from nidb.store import models


@dataclass(frozen=True, slots=True)
class AccessView:
    """One line of a person's own access history."""

    occurred_at: str
    actor: str
    service: str
    purpose: str | None
    fields: str | None


def access_history(engine: Engine, bhxh_code: str, limit: int = 100) -> list[AccessView]:
    """Who read this person's data, most recent first (successful reads only)."""
    table = models.AccessLogEntry
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.occurred_at, table.actor, table.service, table.purpose, table.fields)
            .where(table.subject == bhxh_code, table.result == "ok")
            .order_by(table.occurred_at.desc(), table.seq.desc())
            .limit(limit)
        ).all()
    return [AccessView(*row) for row in rows]


def count_entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(models.AccessLogEntry)).scalar_one()
        )
