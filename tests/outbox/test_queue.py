"""The per-subject delivery queue in the store: fan-out, claim order, backoff, dead letters."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from nidb.cli import app
from nidb.exchange.partners import add_partner
from nidb.outbox.admin import (
    dead_letters,
    resolve_dead,
    set_state,
    status,
    subscribe,
)
from nidb.outbox.events import Outcome, RetryPolicy, claim, fan_out, record, topic_matches, utcnow
from nidb.protocol.keys import SigningKey
from nidb.settings import get_settings
from nidb.store import models
from tests.outbox.support import emit

CODE = "VN/GOV/BYT/BV-01001"


@pytest.fixture
def sub_id(engine: Engine) -> int:
    add_partner(engine, CODE, "Bệnh viện", "hospital", SigningKey.generate().public_b64, "t")
    return subscribe(engine, CODE, "person.*", "test", "http://127.0.0.1:9/events").id


def test_topic_patterns() -> None:
    assert topic_matches("*", "identity.person_dead")
    assert topic_matches("identity.*", "identity.person_dead")
    assert not topic_matches("identity.*", "identityx.a")
    assert topic_matches("person.death", "person.death")
    assert not topic_matches("person.death", "person.deaths")


def test_fan_out_matches_topics_once_and_marks_events(engine: Engine, sub_id: int) -> None:
    emit(engine, [("person.death", "person:1"), ("register.batch_imported", "batch:1")])
    assert fan_out(engine) == 2
    assert fan_out(engine) == 0
    with engine.connect() as conn:
        deliveries = conn.execute(select(models.Delivery.event_id)).scalars().all()
        undispatched = conn.execute(
            select(func.count())
            .select_from(models.OutboxEvent)
            .where(models.OutboxEvent.dispatched_at.is_(None))
        ).scalar_one()
    assert len(deliveries) == 1  # only person.* matched
    assert undispatched == 0


def test_claim_is_one_event_per_subject_in_order(engine: Engine, sub_id: int) -> None:
    ids = emit(
        engine, [("person.x", "person:A"), ("person.x", "person:B"), ("person.x", "person:A")]
    )
    fan_out(engine)
    first = claim(engine, sub_id, 10)
    assert [c.event_id for c in first] == [ids[0], ids[1]]  # A's second event waits
    assert claim(engine, sub_id, 10) == []  # leased
    # A fails and backs off: B's next event (none) and A's later event stay held
    rng = random.Random(1)
    counts = record(
        engine, [Outcome(first[0], "retry", "HTTP 503"), Outcome(first[1], "delivered")], rng=rng
    )
    assert counts["retry"] == 1 and counts["delivered"] == 1
    assert claim(engine, sub_id, 10) == []  # A's first event backs off; its second waits
    later = claim(engine, sub_id, 10, now=utcnow() + timedelta(minutes=10))
    assert [c.event_id for c in later] == [ids[0]]
    assert later[0].attempts == 1


def test_dead_letter_holds_its_subject_until_retried_or_skipped(
    engine: Engine, sub_id: int
) -> None:
    ids = emit(
        engine,
        [("person.x", "person:A"), ("person.x", "person:A"), ("person.x", "person:B")],
    )
    fan_out(engine)
    batch = claim(engine, sub_id, 10)
    record(engine, [Outcome(batch[0], "permanent", "HTTP 422"), Outcome(batch[1], "delivered")])
    assert claim(engine, sub_id, 10) == []  # A's second event is held by the dead one
    dead = dead_letters(engine)
    assert [(d.event_id, d.held, d.last_error) for d in dead] == [(ids[0], 1, "HTTP 422")]
    assert resolve_dead(engine, "retry", "test", [dead[0].delivery_id]) == 1
    again = claim(engine, sub_id, 10)
    assert [c.event_id for c in again] == [ids[0]] and again[0].attempts == 0
    record(engine, [Outcome(again[0], "permanent", "HTTP 422")])
    with pytest.raises(ValueError, match="note"):
        resolve_dead(engine, "skip", "test", subscription_id=sub_id)
    assert resolve_dead(engine, "skip", "test", subscription_id=sub_id, note="đã xử lý tay") == 1
    assert [c.event_id for c in claim(engine, sub_id, 10)] == [ids[1]]


def test_retries_run_out_into_a_dead_letter(engine: Engine, sub_id: int) -> None:
    emit(engine, [("person.x", "person:A")])
    fan_out(engine)
    policy = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_cap=0.0)
    for attempt in range(3):
        batch = claim(engine, sub_id, 10)
        assert len(batch) == 1 and batch[0].attempts == attempt
        record(engine, [Outcome(batch[0], "retry", "ConnectError")], policy)
    assert claim(engine, sub_id, 10) == []
    assert [d.attempts for d in dead_letters(engine)] == [3]


def test_released_claims_do_not_count_an_attempt(engine: Engine, sub_id: int) -> None:
    emit(engine, [("person.x", "person:A")])
    fan_out(engine)
    batch = claim(engine, sub_id, 10)
    record(engine, [Outcome(batch[0], "released")])
    again = claim(engine, sub_id, 10)
    assert [c.attempts for c in again] == [0]


def test_paused_subscription_still_queues(engine: Engine, sub_id: int) -> None:
    set_state(engine, sub_id, "pause", "test")
    emit(engine, [("person.x", "person:A")])
    fan_out(engine)
    (row,) = status(engine)
    assert row.subscription.paused and row.counts["pending"] == 1


def test_backfill_queues_earlier_events(engine: Engine, sub_id: int) -> None:
    ids = emit(engine, [("person.x", "person:A"), ("person.y", "person:B")])
    fan_out(engine)
    late = subscribe(engine, CODE, "person.y", "test", "http://127.0.0.1:9/e", from_event=ids[0])
    assert [c.event_id for c in claim(engine, late.id, 10)] == [ids[1]]


def test_cli_subscribe_status_and_dead(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIDB_DATABASE_URL", database_url)
    monkeypatch.setenv("NIDB_ACTOR", "test:cli")
    get_settings.cache_clear()
    try:
        add_partner(engine, CODE, "Bệnh viện", "hospital", SigningKey.generate().public_b64, "t")
        runner = CliRunner()
        result = runner.invoke(app, ["outbox", "subscribe", CODE, "--topic", "bad topic!"])
        assert result.exit_code == 2, result.output
        result = runner.invoke(
            app, ["outbox", "subscribe", CODE, "--topic", "person.*", "--url", "http://h/e"]
        )
        assert result.exit_code == 0, result.output
        emit(engine, [("person.x", "person:A")])
        fan_out(engine)
        (sub,) = status(engine)
        batch = claim(engine, sub.subscription.id, 10)
        record(engine, [Outcome(batch[0], "permanent", "HTTP 410")])
        result = runner.invoke(app, ["outbox", "status"])
        assert result.exit_code == 0 and "person.*" in result.output, result.output
        result = runner.invoke(app, ["outbox", "dead", "list"])
        assert "HTTP 410" in result.output, result.output
        result = runner.invoke(app, ["outbox", "dead", "retry", str(batch[0].delivery_id)])
        assert result.exit_code == 0 and "1" in result.output, result.output
        assert dead_letters(engine) == []
    finally:
        get_settings.cache_clear()
