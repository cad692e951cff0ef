"""Webhook delivery over real HTTP: dispatcher → webhook stand-ins on loopback threads."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
from sqlalchemy import Engine

from nidb.outbox.admin import dead_letters, resolve_dead
from nidb.outbox.dispatcher import Dispatcher, envelope_for
from nidb.outbox.events import claim, fan_out
from nidb.protocol.keys import SigningKey
from nidb.sim.webhook import FaultSettings
from tests.outbox.support import (
    FAST,
    Partner,
    add_subscriber,
    delivery_counts,
    dispatching,
    emit,
    expected_by_subject,
    interleaved,
    wait_until,
)

A, B, C = "VN/GOV/BYT/BV-01001", "VN/GOV/BLDTBXH/CSDL-ASXH", "VN/GOV/BCA/CSDL-DC"


def _complete(partner: Partner, expected: dict[str, list[int]]) -> bool:
    return len(partner.receiver.accepted) >= sum(map(len, expected.values()))


def test_order_per_subject_holds_with_an_intermittently_failing_subscriber(
    engine: Engine,
) -> None:
    key = SigningKey.generate()
    faults = FaultSettings(fail_rate=0.3, slow_ms=1, seed=3)
    partner = add_subscriber(engine, key, A, faults=faults)
    try:
        ids = emit(engine, interleaved(subjects=25, per_subject=8))
        expected = expected_by_subject(engine, ids)
        with dispatching(engine, key):
            wait_until(lambda: _complete(partner, expected), what="all 200 events")
        assert partner.by_subject() == expected  # every event, each subject in order
        stats = partner.receiver.stats()
        assert stats["failed"] > 20 and stats.get("out_of_order", 0) == 0
        counts = delivery_counts(engine, partner.subscription_id)
        assert counts["delivered"] == 200 and counts["attempts"] > 200
    finally:
        partner.server.stop()


def test_one_subscriber_down_does_not_hold_the_others(engine: Engine) -> None:
    key = SigningKey.generate()
    up1, up2 = add_subscriber(engine, key, A), add_subscriber(engine, key, B)
    down = add_subscriber(engine, key, C, up=False)  # connections refused
    try:
        ids = emit(engine, interleaved(subjects=20, per_subject=10))
        expected = expected_by_subject(engine, ids)
        with dispatching(engine, key) as dispatcher:
            wait_until(lambda: _complete(up1, expected) and _complete(up2, expected))
            time.sleep(1.0)  # the circuit keeps the down subscriber from being hammered
            tried = delivery_counts(engine, down.subscription_id)["attempts"]
            assert tried < 60, tried
            assert dispatcher.circuits[down.subscription_id].trips >= 1
            down.server.start()  # back on the same port
            wait_until(lambda: _complete(down, expected), what="the recovered subscriber")
        for partner in (up1, up2, down):
            assert partner.by_subject() == expected
        assert delivery_counts(engine, down.subscription_id)["delivered"] == 200
    finally:
        for partner in (up1, up2, down):
            partner.server.stop()


def test_lost_acknowledgements_cause_duplicates_the_receiver_drops(engine: Engine) -> None:
    key = SigningKey.generate()
    partner = add_subscriber(engine, key, A, faults=FaultSettings(ack_loss_rate=0.3, seed=5))
    try:
        ids = emit(engine, interleaved(subjects=10, per_subject=10))
        expected = expected_by_subject(engine, ids)
        with dispatching(engine, key):
            wait_until(
                lambda: delivery_counts(engine, partner.subscription_id).get("delivered") == 100
            )
        stats = httpx.get(f"{partner.server.url}/stats").json()
        received = httpx.get(f"{partner.server.url}/received").json()
        assert stats["ack_lost"] > 10 and stats["duplicates"] >= stats["ack_lost"]
        assert received["total"] == 100  # each event once, whatever was sent twice
        keys = [e["idempotency_key"] for e in received["events"]]
        assert len(set(keys)) == 100
        assert partner.by_subject() == expected
    finally:
        partner.server.stop()


def test_permanent_refusal_becomes_a_dead_letter_that_can_be_retried(engine: Engine) -> None:
    key = SigningKey.generate()
    faults = FaultSettings(reject_subjects=["person:0001"])
    partner = add_subscriber(engine, key, A, faults=faults)
    try:
        ids = emit(engine, interleaved(subjects=3, per_subject=4))
        expected = expected_by_subject(engine, ids)
        with dispatching(engine, key):
            wait_until(lambda: len(partner.receiver.accepted) == 8, what="the other subjects")
            wait_until(lambda: len(dead_letters(engine)) == 1)
            time.sleep(0.3)
            assert len(partner.receiver.accepted) == 8  # person:0001's later events are held
            (dead,) = dead_letters(engine)
            assert (dead.event_id, dead.held, dead.last_error) == (
                expected["person:0001"][0],
                3,
                "HTTP 422",
            )
            partner.receiver.configure(FaultSettings())  # the partner fixes its side
            assert resolve_dead(engine, "retry", "test", [dead.delivery_id]) == 1
            wait_until(lambda: _complete(partner, expected), what="the retried subject")
        assert partner.by_subject() == expected
        assert dead_letters(engine) == []
    finally:
        partner.server.stop()


def test_bad_signature_is_refused_by_the_receiver(engine: Engine) -> None:
    key = SigningKey.generate()
    partner = add_subscriber(engine, key, A)
    try:
        emit(engine, [("person.x", "person:1")])
        fan_out(engine)
        (claimed,) = claim(engine, partner.subscription_id, 1)
        message = envelope_for(SigningKey.generate(), A, claimed)  # not nidb's key
        answer = httpx.post(
            f"{partner.server.url}/events",
            content=json.dumps(message),
            headers={"idempotency-key": claimed.idempotency_key},
        )
        assert answer.status_code == 401 and partner.receiver.accepted == []
    finally:
        partner.server.stop()


def test_nothing_is_lost_when_the_dispatcher_stops_mid_batch_or_dies(engine: Engine) -> None:
    key = SigningKey.generate()
    partner = add_subscriber(engine, key, A, faults=FaultSettings(slow_ms=15))
    try:
        ids = emit(engine, interleaved(subjects=40, per_subject=6))
        expected = expected_by_subject(engine, ids)
        # 1. a graceful stop while batches are in flight
        with dispatching(engine, key):
            wait_until(lambda: len(partner.receiver.accepted) >= 40)
        first = len(partner.receiver.accepted)
        counts = delivery_counts(engine, partner.subscription_id)
        assert counts["delivered"] == first < 240  # recorded exactly what was acknowledged
        # 2. a dispatcher that dies holding a claimed batch, after sending part of it
        crashed = claim(engine, partner.subscription_id, 20, lease=timedelta(seconds=1))
        for claimed in crashed[:5]:
            httpx.post(
                f"{partner.server.url}/events",
                content=json.dumps(envelope_for(key, A, claimed)),
                headers={"idempotency-key": claimed.idempotency_key},
            ).raise_for_status()
        # 3. restart: the lease runs out, the batch is sent again, the receiver drops repeats
        with dispatching(engine, key):
            wait_until(lambda: _complete(partner, expected), what="the rest after restart")
        assert partner.by_subject() == expected
        assert partner.receiver.stats()["duplicates"] >= 5
        assert delivery_counts(engine, partner.subscription_id)["delivered"] == 240
    finally:
        partner.server.stop()


def test_dispatch_once_delivers_what_is_due_and_returns(engine: Engine) -> None:
    key = SigningKey.generate()
    partner = add_subscriber(engine, key, A, topic="identity.*")
    try:
        ids = emit(engine, [("identity.person_dead", "person:1"), ("register.x", "batch:1")])
        stats = Dispatcher(engine, key, FAST).run(once=True)
        assert stats.delivered == 1 and stats.fanned_out == 2
        assert [e["event_id"] for e in partner.receiver.accepted] == [ids[0]]
    finally:
        partner.server.stop()
