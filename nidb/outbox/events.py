"""The outbound change feed in the store: subscriptions, fan-out, the per-subject queue.

An outbox event (written with the change it announces) is *fanned out* once: one ``deliveries``
row per matching subscription, and the event is stamped ``dispatched_at``. Events are picked by
``dispatched_at IS NULL`` rather than by an id cursor, so an event whose transaction commits
after a later id was already fanned out is still picked up.

Order per subject: a delivery is *deliverable* when it is pending, due, and no earlier event of
the same subject is still owed to the same subscription (pending or dead). So at most one event
per (subscription, subject) is ever in flight, other subjects and other subscriptions proceed,
and a dead letter holds the later events of its subject until an operator retries or skips it.

Every statement here is batched (one round trip claims or marks a whole batch), and every
transaction that writes starts with a write, so SQLite never has to upgrade a read lock.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnClause

from nidb.store import models

D = models.Delivery
E = models.OutboxEvent
S = models.Subscription

TOPIC_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
OPEN = ("pending", "dead")
"""Statuses that still owe the event to the subscriber, and so hold its subject's later events."""

# Status values are written into the SQL as literals, not bound: PostgreSQL can only use the
# partial indexes (WHERE status = 'pending' ...) when it sees the value when planning, and a
# prepared statement's generic plan does not (the claim went from 6 ms to 8 s).
PENDING: ColumnClause[str] = literal_column("'pending'")
OPEN_SQL: list[ColumnClause[str]] = [literal_column(f"'{state}'") for state in OPEN]


class OutboxError(ValueError):
    """A subscription or dead-letter command that cannot be carried out."""

    def __init__(self, field: str, message_vi: str, message_en: str) -> None:
        self.field, self.message_vi, self.message_en = field, message_vi, message_en
        super().__init__(f"{field}: {message_en}")


def utcnow() -> datetime:
    return datetime.now(UTC)


def topic_matches(pattern: str, topic: str) -> bool:
    """``*`` matches all; ``identity.*`` matches ``identity.x`` and deeper; else exact."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return topic == pattern


# --- fan-out --------------------------------------------------------------------------------


def delivery_row(sub_id: int, event_id: int, subject: str, now: datetime) -> dict[str, Any]:
    return {
        "subscription_id": sub_id,
        "event_id": event_id,
        "subject_key": subject,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def insert_deliveries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = ["subscription_id", "event_id"]
    statement: Any
    if conn.dialect.name == "postgresql":
        statement = pg_insert(D).on_conflict_do_nothing(index_elements=keys)
    else:
        statement = sqlite_insert(D).on_conflict_do_nothing(index_elements=keys)
    conn.execute(statement, rows)


def fan_out(engine: Engine, limit: int = 5000) -> int:
    """Queue up to ``limit`` undispatched events to every live matching subscription.

    Returns the number of events taken (0: nothing left). Safe to run in several processes
    (PostgreSQL skips rows another fan-out holds; the unique key drops any repeat).
    """
    now = utcnow()
    pick = select(E.id).where(E.dispatched_at.is_(None)).order_by(E.id).limit(limit)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        taken = conn.execute(
            update(E)
            .where(E.id.in_(pick.scalar_subquery()))
            .values(dispatched_at=now)
            .returning(E.id, E.topic, E.subject_key)
        ).all()
        if not taken:
            return 0
        subs = conn.execute(select(S.id, S.topic).where(S.ended_at.is_(None))).all()
        rows = [
            delivery_row(sub.id, event.id, event.subject_key, now)
            for event in sorted(taken, key=lambda e: e.id)
            for sub in subs
            if topic_matches(sub.topic, event.topic)
        ]
        insert_deliveries(conn, rows)
    return len(taken)


# --- claiming and marking -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery taken for sending, with its event."""

    delivery_id: int
    subscription_id: int
    event_id: int
    attempts: int
    created_at: datetime
    topic: str
    subject_key: str
    occurred_at: datetime
    payload: dict[str, Any]

    @property
    def idempotency_key(self) -> str:
        """Stable per (event, subscription): the same on every attempt and after restarts."""
        return f"CSDLBH-{self.event_id}-{self.subscription_id}"


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {"value": value}


def claim(
    engine: Engine,
    subscription_id: int,
    limit: int,
    lease: timedelta = timedelta(seconds=60),
    now: datetime | None = None,
) -> list[Claimed]:
    """Take up to ``limit`` deliverable deliveries of one subscription, in event order.

    Each is the oldest owed event of its subject, so the batch may be sent concurrently. The
    rows stay ``pending`` with ``next_attempt_at`` pushed ``lease`` ahead: a dispatcher that
    dies holding them leaves them to be sent again once the lease runs out (at least once).
    """
    now = now or utcnow()
    # "the oldest event its subject still owes this subscription": a correlated min() that
    # reads one index entry per candidate, whatever the planner's statistics say (as NOT
    # EXISTS, PostgreSQL planned a quadratic join while the table's statistics were stale)
    earlier = aliased(D)
    first_owed = (
        select(func.min(earlier.event_id))
        .where(
            earlier.subscription_id == D.subscription_id,
            earlier.subject_key == D.subject_key,
            earlier.status.in_(OPEN_SQL),
        )
        .scalar_subquery()
    )
    pick = (
        select(D.id)
        .where(
            D.subscription_id == subscription_id,
            D.status == PENDING,
            D.next_attempt_at <= now,
            D.event_id == first_owed,
        )
        .order_by(D.event_id)
        .limit(limit)
    )
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True, of=D)
        ids = (
            conn.execute(
                update(D)
                .where(D.id.in_(pick.scalar_subquery()))
                .values(next_attempt_at=now + lease)
                .returning(D.id)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        rows = conn.execute(
            select(D.id, D.event_id, D.attempts, D.created_at, E.topic, E.subject_key)
            .add_columns(E.created_at.label("occurred_at"), E.payload)
            .join(E, E.id == D.event_id)
            .where(D.id.in_(ids))
            .order_by(D.event_id)
        ).all()
    return [
        Claimed(
            r.id,
            subscription_id,
            r.event_id,
            r.attempts,
            aware(r.created_at),
            r.topic,
            r.subject_key,
            aware(r.occurred_at),
            _payload(r.payload),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a failed delivery is tried again, and when it becomes a dead letter."""

    max_attempts: int = 15
    max_age: timedelta = timedelta(hours=24)
    backoff_base: float = 1.0
    backoff_cap: float = 300.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Exponential backoff after the ``attempts``-th failure, capped, with equal jitter."""
        ceiling = min(self.backoff_cap, self.backoff_base * float(2 ** min(attempts - 1, 30)))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one send: ``delivered``, ``retry``, ``permanent`` or ``released``.

    ``released``: claimed but not sent (circuit opened, dispatcher stopping): no attempt counted.
    ``error``: a status code or an exception class, never message content.
    """

    claimed: Claimed
    kind: str
    error: str | None = None


def record(
    engine: Engine,
    outcomes: Sequence[Outcome],
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Write a batch of outcomes in one transaction; returns counts by resulting status."""
    now = now or utcnow()
    rng = rng or random.Random()
    delivered = [o.claimed.delivery_id for o in outcomes if o.kind == "delivered"]
    released = [o.claimed.delivery_id for o in outcomes if o.kind == "released"]
    changes: list[dict[str, Any]] = []
    counts = {"delivered": len(delivered), "retry": 0, "dead": 0, "released": len(released)}
    for outcome in outcomes:
        if outcome.kind not in ("retry", "permanent"):
            continue
        attempts = outcome.claimed.attempts + 1
        too_old = now - outcome.claimed.created_at > policy.max_age
        dead = outcome.kind == "permanent" or attempts >= policy.max_attempts or too_old
        counts["dead" if dead else "retry"] += 1
        changes.append(
            {
                "b_id": outcome.claimed.delivery_id,
                "b_status": "dead" if dead else "pending",
                "b_attempts": attempts,
                "b_next": now if dead else now + timedelta(seconds=policy.delay(attempts, rng)),
                "b_error": (outcome.error or "error")[:200],
            }
        )
    with engine.begin() as conn:
        if delivered:
            conn.execute(
                update(D)
                .where(D.id.in_(delivered), D.status == "pending")
                .values(
                    status="delivered",
                    attempts=D.attempts + 1,
                    delivered_at=now,
                    last_error=None,
                )
            )
        if changes:
            conn.execute(
                update(D)
                .where(and_(D.id == bindparam("b_id"), D.status == "pending"))
                .values(
                    status=bindparam("b_status"),
                    attempts=bindparam("b_attempts"),
                    next_attempt_at=bindparam("b_next"),
                    last_error=bindparam("b_error"),
                )
                .execution_options(synchronize_session=False),
                changes,
            )
        if released:
            conn.execute(
                update(D)
                .where(D.id.in_(released), D.status == "pending")
                .values(next_attempt_at=now)
            )
    return counts
