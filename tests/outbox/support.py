"""Shared pieces of the outbox tests: partners, events, receivers on threads, a dispatcher."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine, insert, select

from nidb.exchange.partners import add_partner
from nidb.outbox.admin import subscribe
from nidb.outbox.dispatcher import Dispatcher, DispatchSettings
from nidb.outbox.events import RetryPolicy
from nidb.protocol.keys import SigningKey
from nidb.sim.population.server import BackgroundServer
from nidb.sim.webhook import FaultSettings, Receiver, create_app
from nidb.store import models

FAST = DispatchSettings(
    concurrency=16,
    per_subscriber=4,
    batch_size=50,
    timeout=2.0,
    connect_timeout=0.5,
    lease=timedelta(seconds=2),
    poll_interval=0.05,
    fanout_batch=500,
    refresh_interval=0.2,
    circuit_threshold=3,
    circuit_base=0.2,
    circuit_cap=1.0,
    retry=RetryPolicy(max_attempts=100, backoff_base=0.02, backoff_cap=0.3),
)


@dataclass
class Partner:
    code: str
    app: FastAPI
    server: BackgroundServer
    subscription_id: int

    @property
    def receiver(self) -> Receiver:
        receiver: Receiver = self.app.state.receiver
        return receiver

    def by_subject(self) -> dict[str, list[int]]:
        """Accepted event ids per subject, in arrival order."""
        seen: dict[str, list[int]] = {}
        for event in self.receiver.accepted:
            seen.setdefault(event["subject_key"], []).append(event["event_id"])
        return seen


def add_subscriber(
    engine: Engine,
    nidb_key: SigningKey,
    member: str,
    topic: str = "*",
    faults: FaultSettings | None = None,
    up: bool = True,
) -> Partner:
    """A partner with a webhook stand-in on a loopback port, subscribed to ``topic``.

    ``up=False``: the port is bound once and released, so connections are refused until
    ``partner.server.start()`` serves it again.
    """
    app = create_app(nidb_key.public_b64, member, faults)
    server = BackgroundServer(app).start()
    if not up:
        server.stop()
    add_partner(engine, member, f"Partner {member}", "other", SigningKey.generate().public_b64, "t")
    sub = subscribe(engine, member, topic, "test", f"{server.url}/events")
    return Partner(member, app, server, sub.id)


def emit(engine: Engine, events: list[tuple[str, str]]) -> list[int]:
    """Write (topic, subject_key) outbox events as producers do; their ids in order."""
    with engine.begin() as conn:
        return [
            conn.execute(
                insert(models.OutboxEvent)
                .values(topic=topic, subject_key=subject, payload={"n": i, "score": 0.5})
                .returning(models.OutboxEvent.id)
            ).scalar_one()
            for i, (topic, subject) in enumerate(events)
        ]


def interleaved(
    subjects: int, per_subject: int, topic: str = "person.changed"
) -> list[tuple[str, str]]:
    """Events of many subjects, interleaved (subject 0, 1, ..., 0, 1, ...)."""
    return [(topic, f"person:{s:04d}") for _ in range(per_subject) for s in range(subjects)]


def expected_by_subject(engine: Engine, ids: list[int]) -> dict[str, list[int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(models.OutboxEvent.id, models.OutboxEvent.subject_key)
            .where(models.OutboxEvent.id.in_(ids))
            .order_by(models.OutboxEvent.id)
        ).all()
    result: dict[str, list[int]] = {}
    for event_id, subject in rows:
        result.setdefault(subject, []).append(event_id)
    return result


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


@contextmanager
def dispatching(
    engine: Engine, key: SigningKey, settings: DispatchSettings = FAST
) -> Iterator[Dispatcher]:
    """A dispatcher running on a thread until the block ends (then stopped gracefully)."""
    dispatcher = Dispatcher(engine, key, settings, seed=7)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            dispatcher.run()
        except BaseException as error:  # surfaced in the test thread
            errors.append(error)

    thread = threading.Thread(target=run, name="dispatcher", daemon=True)
    thread.start()
    try:
        yield dispatcher
    finally:
        dispatcher.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the dispatcher did not stop"
        if errors:
            raise errors[0]


def delivery_counts(engine: Engine, subscription_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(models.Delivery.status, models.Delivery.attempts).where(
                models.Delivery.subscription_id == subscription_id
            )
        ).all()
    counts: dict[str, int] = {"attempts": 0}
    for state, attempts in rows:
        counts[state] = counts.get(state, 0) + 1
        counts["attempts"] += attempts
    return counts
