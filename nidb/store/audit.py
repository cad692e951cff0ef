"""The two appends every change makes: an audit entry (who did what to which subject, and
why) and an outbox event (what partners subscribed to hear), in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, insert

from nidb.store import models
from nidb.store.direct import Direct

# Built once: a statement built per call costs more than the insert itself (SQLAlchemy
# coerces the values and computes a cache key each time; a prepared one is looked up).
_AUDIT = insert(models.AuditEntry)
_EVENT = insert(models.OutboxEvent)
_AUDITS = Direct(_AUDIT)  # run on psycopg directly under PostgreSQL (nidb.store.direct)
_EVENTS = Direct(_EVENT)


def audit_entry(
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    purpose: str | None,
    detail: Mapping[str, Any],
) -> dict[str, Any]:
    """One audit entry's values, for `write_audits`."""
    return {
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "purpose": purpose,
        "detail": dict(detail),
    }


def outbox_event(topic: str, subject_key: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """One outbox event's values, for `write_events`."""
    return {"topic": topic, "subject_key": subject_key, "payload": dict(payload)}


def write_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    purpose: str | None,
    detail: Mapping[str, Any],
) -> None:
    """Append one entry to ``audit_log`` in the caller's transaction."""
    conn.execute(
        _AUDIT,
        audit_entry(
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            purpose=purpose,
            detail=detail,
        ),
    )


def write_event(conn: Connection, topic: str, subject_key: str, payload: Mapping[str, Any]) -> None:
    """Append one event to the outbox in the caller's transaction (delivered after commit)."""
    conn.execute(_EVENT, outbox_event(topic, subject_key, payload))


def write_audits(conn: Connection, entries: Sequence[dict[str, Any]]) -> None:
    """Append `audit_entry` values in order, in one call (one round trip on PostgreSQL)."""
    _AUDITS.run(conn, list(entries))


def write_events(conn: Connection, events: Sequence[dict[str, Any]]) -> None:
    """Append `outbox_event` values in order, in one call (one round trip on PostgreSQL)."""
    _EVENTS.run(conn, list(events))
