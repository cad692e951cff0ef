"""Outbound streams of dossier events to the national platforms: a cursor per stream.

A stream (``portal.status``, ``emc.usage``) reads ``dossier_events`` after its cursor in id
order, sends them, and moves the cursor once the platform has answered (``advance``). Events
younger than ``settle`` seconds are left for the next run, and a batch stops at the first such
event: on PostgreSQL ids are handed out before commit, so a transaction still open may hold a
smaller id than one already visible; waiting until every visible event is ``settle`` seconds
old keeps the cursor from passing it, as long as no dossier transaction lasts longer than that
(they are short: one dossier, a few rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, insert, select, update

from nidb.store.models_platforms import PlatformCursor
from nidb.store.models_services import Dossier, DossierEvent

__all__ = ["StreamEvent", "advance", "aware", "pending", "position"]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """A dossier event with what the platforms need of its dossier."""

    id: int
    dossier_id: int
    kind: str
    source_ref: str | None
    from_state: str | None
    to_state: str
    note: str | None
    occurred_at: datetime
    submitted_at: datetime


def aware(value: datetime) -> datetime:
    """A time stamp read back from SQLite (naive, in UTC) made aware; others as they are."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def position(conn: Connection, stream: str) -> int:
    """The stream's cursor (0 before its first run)."""
    found = conn.execute(
        select(PlatformCursor.position).where(PlatformCursor.name == stream)
    ).scalar_one_or_none()
    return int(found or 0)


def advance(engine: Engine, stream: str, to: int) -> None:
    """Move the stream's cursor forward to ``to`` (never back)."""
    with engine.begin() as conn:
        now = datetime.now(UTC)
        if conn.execute(select(PlatformCursor.name).where(PlatformCursor.name == stream)).first():
            conn.execute(
                update(PlatformCursor)
                .where(PlatformCursor.name == stream, PlatformCursor.position < to)
                .values(position=to, updated_at=now)
            )
        else:
            conn.execute(insert(PlatformCursor).values(name=stream, position=to, updated_at=now))


def pending(
    engine: Engine, stream: str, *, limit: int = 500, settle: float = 2.0
) -> list[StreamEvent]:
    """Up to ``limit`` events after the stream's cursor, in id order, stopping before the first
    event younger than ``settle`` seconds."""
    with engine.connect() as conn:
        after = position(conn, stream)
        rows = conn.execute(
            select(
                DossierEvent.id,
                DossierEvent.dossier_id,
                Dossier.kind,
                Dossier.source_ref,
                DossierEvent.from_state,
                DossierEvent.to_state,
                DossierEvent.note,
                DossierEvent.occurred_at,
                Dossier.submitted_at,
            )
            .join(Dossier, Dossier.id == DossierEvent.dossier_id)
            .where(DossierEvent.id > after)
            .order_by(DossierEvent.id)
            .limit(limit)
        ).all()
    cutoff = datetime.now(UTC) - timedelta(seconds=settle)
    found: list[StreamEvent] = []
    for row in rows:
        event = StreamEvent(
            int(row.id),
            int(row.dossier_id),
            row.kind,
            row.source_ref,
            row.from_state,
            row.to_state,
            row.note,
            aware(row.occurred_at),
            aware(row.submitted_at),
        )
        if event.occurred_at > cutoff:
            break
        found.append(event)
    return found
