"""Sending what is due, retrying transient failures with backoff, recording every outcome.

A pass takes the pending deliveries whose time has come, claims them in one statement (a
lease: their next attempt moved ``LEASE`` ahead, so a second runner skips them), sends each,
and records each in its own transaction: ``sent`` (with the gateway's message id), or another attempt scheduled
``backoff × 2^(attempts-1)`` later, or ``failed`` (a permanent refusal at once; a transient
one after ``max_attempts``), with the last error. A debt reminder's e-mail, once sent, also
marks the reminder sent (``contribution_reminders.sent_at``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update

from nidb.notify.channels import Channels, Permanent, Transient
from nidb.notify.collect import Built, build_deliveries
from nidb.store.models_contributions import Reminder
from nidb.store.models_notify import NotifyDelivery

__all__ = ["LEASE", "Passed", "backoff_delay", "deliver_due", "run"]

LEASE = timedelta(minutes=5)
MAX_DELAY = 86_400.0


@dataclass
class Passed:
    """What one or more passes did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    waiting: int = 0
    """Pending deliveries not yet due (or SMS without a gateway configured)."""

    def add(self, other: Passed) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.waiting = other.waiting


def backoff_delay(base: float, attempts: int) -> float:
    """Seconds before the next attempt, after ``attempts`` failed ones."""
    return float(min(MAX_DELAY, base * (2 ** max(0, attempts - 1))))


def _due(engine: Engine, now: datetime, limit: int, sms_ready: bool) -> list[NotifyDelivery]:
    d = NotifyDelivery
    query = select(d).where(d.status == "pending", d.next_attempt_at <= now)
    if not sms_ready:
        query = query.where(d.channel == "email")
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(d.next_attempt_at, d.id).limit(limit)).all()
    return [NotifyDelivery(**row._mapping) for row in rows]


def _claim(engine: Engine, ids: list[int], now: datetime) -> set[int]:
    """Take the rows still due (one statement): their next attempt moves ``LEASE`` ahead, so
    another runner skips them; the ids taken."""
    d = NotifyDelivery
    taken: set[int] = set()
    with engine.begin() as conn:
        for start in range(0, len(ids), 500):
            taken.update(
                conn.execute(
                    update(d)
                    .where(
                        d.id.in_(ids[start : start + 500]),
                        d.status == "pending",
                        d.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=now + LEASE)
                    .returning(d.id)
                ).scalars()
            )
    return taken


def deliver_due(
    engine: Engine,
    channels: Channels,
    *,
    max_attempts: int,
    backoff: float,
    now: datetime | None = None,
    limit: int = 500,
) -> Passed:
    """One pass over the deliveries due."""
    moment = now or datetime.now(UTC)
    passed = Passed()
    d = NotifyDelivery
    due = _due(engine, moment, limit, channels.sms_ready)
    taken = _claim(engine, [delivery.id for delivery in due], moment)
    for delivery in due:
        if delivery.id not in taken:
            continue
        attempts = delivery.attempts + 1
        values: dict[str, object]
        try:
            if delivery.channel == "email":
                ref = channels.send_email(
                    delivery.id, delivery.address, delivery.subject or "", delivery.body
                )
            else:
                ref = channels.send_sms(delivery.id, delivery.address, delivery.body)
        except Permanent as error:
            values = {"status": "failed", "last_error": str(error)[:500]}
            passed.failed += 1
        except Transient as error:
            if attempts >= max_attempts:
                values = {"status": "failed", "last_error": str(error)[:500]}
                passed.failed += 1
            else:
                retry_at = datetime.now(UTC) + timedelta(seconds=backoff_delay(backoff, attempts))
                values = {"last_error": str(error)[:500], "next_attempt_at": retry_at}
                passed.retried += 1
        else:
            values = {
                "status": "sent",
                "sent_at": datetime.now(UTC),
                "provider_ref": ref[:100],
                "last_error": None,
            }
            passed.sent += 1
        with engine.begin() as conn:
            conn.execute(update(d).where(d.id == delivery.id).values(attempts=attempts, **values))
            if (
                values.get("status") == "sent"
                and delivery.channel == "email"
                and delivery.event_key.startswith("reminder:")
            ):
                conn.execute(
                    update(Reminder)
                    .where(Reminder.id == int(delivery.event_key.split(":", 1)[1]))
                    .where(Reminder.sent_at.is_(None))
                    .values(sent_at=values["sent_at"])
                )
    with engine.connect() as conn:
        query = select(d.id).where(d.status == "pending")
        if not channels.sms_ready:
            query = query.where(d.channel == "email")
        passed.waiting = len(conn.execute(query.limit(100_000)).all())
    return passed


def run(
    engine: Engine,
    channels: Channels,
    *,
    max_attempts: int,
    backoff: float,
    access_every: timedelta,
    settle_seconds: float = 0.0,
) -> tuple[Built, Passed]:
    """Build the deliveries due, then send them; with ``settle_seconds``, keep passing (sleeping
    until the next retry is due) until nothing is pending or the time is up."""
    built = build_deliveries(engine, access_every=access_every)
    total = Passed()
    deadline = time.monotonic() + settle_seconds
    try:
        while True:
            total.add(deliver_due(engine, channels, max_attempts=max_attempts, backoff=backoff))
            if not total.waiting or time.monotonic() >= deadline:
                return built, total
            with engine.connect() as conn:
                query = select(NotifyDelivery.next_attempt_at).where(
                    NotifyDelivery.status == "pending"
                )
                if not channels.sms_ready:
                    query = query.where(NotifyDelivery.channel == "email")
                next_due = conn.execute(
                    query.order_by(NotifyDelivery.next_attempt_at).limit(1)
                ).scalar()
            if next_due is None:
                return built, total
            if next_due.tzinfo is None:
                next_due = next_due.replace(tzinfo=UTC)
            pause = (next_due - datetime.now(UTC)).total_seconds()
            time.sleep(max(0.05, min(pause, deadline - time.monotonic())))
    finally:
        channels.close()
