"""Usage events to the EMC measurement stand-in: batched, retried, sent once, on both engines."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from nidb.cli import app
from nidb.connectors.platforms import EmcClient
from nidb.connectors.resilience import RetryPolicy
from nidb.services import streams
from nidb.services.claims import submit_one_time_claim, submit_unemployment_claim
from nidb.services.decisions import decide
from nidb.services.measurement import STREAM, send_usage
from nidb.sim.platforms.emc import Measurements, create_app
from tests.platforms.conftest import KEY, serve
from tests.seed import LAID_OFF, LEFT


@pytest.fixture
def emc() -> Iterator[tuple[Measurements, str]]:
    held = Measurements()
    with serve(create_app({"BHXH": KEY}, held)) as server:
        yield held, server.url


def client(url: str, retries: int = 4) -> EmcClient:
    return EmcClient(url, KEY, retry=RetryPolicy(retries=retries, backoff=0.01, max_backoff=0.05))


def dossiers(engine: Engine) -> int:
    """Two claims; the first checked and approved: 2 uses and 1 completion."""
    first = submit_one_time_claim(engine, LEFT, "no_contribution_12_months", "0123456789")
    submit_unemployment_claim(engine, LAID_OFF, "2026-01-31", "0123456789")
    checked = decide(engine, first.summary.id, "check", actor="s:r", role="reviewer", version=1)
    decide(
        engine,
        first.summary.id,
        "approve",
        actor="s:a",
        role="approver",
        version=checked.summary.version,
    )
    return first.summary.id


def test_usage_events_arrive_batched_despite_failures_and_once(
    register: Engine, emc: tuple[Measurements, str]
) -> None:
    held, url = emc
    dossiers(register)
    held.fail_next = 2  # the EMC answers 503 twice: the client retries
    with client(url) as http:
        result = send_usage(register, http, batch_size=2, settle=0)
        assert http.attempts == 2 + result.batches
    assert result.stopped is None and result.events == 3
    kinds = sorted((e["service"], e["kind"]) for e in held.events.values())
    assert kinds == [
        ("one_time_si", "completed"),
        ("one_time_si", "used"),
        ("unemployment", "used"),
    ]
    done = next(e for e in held.events.values() if e["kind"] == "completed")
    assert done["outcome"] == "approved" and done["duration_seconds"] >= 0
    assert {e["channel"] for e in held.events.values()} == {"online"}
    stats = httpx.get(f"{url}/v1/stats").json()["services"]
    assert stats["one_time_si"]["completed"] == 1 and stats["unemployment"]["used"] == 1
    with client(url) as http:  # nothing new
        assert send_usage(register, http, settle=0).events == 0
    assert len(held.events) == 3


def test_an_emc_down_longer_than_the_retries_keeps_the_events_for_the_next_run(
    register: Engine, emc: tuple[Measurements, str]
) -> None:
    held, url = emc
    dossiers(register)
    held.fail_next = 100
    with client(url, retries=1) as http:
        stopped = send_usage(register, http, settle=0)
    assert stopped.stopped and "503" in stopped.stopped and not held.events
    with register.connect() as conn:
        assert streams.position(conn, STREAM) == 0
    held.fail_next = 0
    with client(url) as http:
        assert send_usage(register, http, settle=0).events == 3
    assert len(held.events) == 3


def test_a_batch_sent_again_is_a_repeat(emc: tuple[Measurements, str]) -> None:
    held, url = emc
    event = {
        "event_id": "nidb-1",
        "service": "one_time_si",
        "kind": "used",
        "at": "2026-12-07T10:00:00+07:00",
    }
    with client(url) as http:
        assert http.send("nidb-1-1", [event])["status"] == "accepted"
        assert http.send("nidb-1-1", [event]) == {"status": "duplicate", "accepted": 0}
        assert http.send("nidb-1-2", [event])["accepted"] == 0  # the event id was seen
    assert len(held.events) == 1


def test_the_emc_answers_bad_batches_with_coded_errors(emc: tuple[Measurements, str]) -> None:
    _, url = emc
    headers = {"x-api-key": KEY}
    naive = {"event_id": "e", "service": "s", "kind": "used", "at": "2026-12-07T10:00:00"}
    no_time = {"event_id": "e", "service": "s", "kind": "completed", "at": "2026-12-07T10:00:00Z"}
    for body, status, code in [
        ({"batch_id": "b", "events": []}, 422, "INVALID_REQUEST"),
        ({"batch_id": "b", "events": [naive]}, 422, "INVALID_REQUEST"),
        ({"batch_id": "b", "events": [no_time]}, 422, "INVALID_REQUEST"),
    ]:
        answer = httpx.post(f"{url}/v1/batches", json=body, headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
        assert "yêu cầu không hợp lệ" in answer.json()["message"]
    answer = httpx.post(f"{url}/v1/batches", json={"batch_id": "b", "events": [no_time]})
    assert answer.status_code == 422  # the body is checked before the key
    unauthorised = httpx.post(
        f"{url}/v1/batches",
        json={"batch_id": "b", "events": [{**no_time, "duration_seconds": 1}]},
        headers={"x-api-key": "wrong"},
    )
    assert (unauthorised.status_code, unauthorised.json()["code"]) == (401, "API_KEY_INVALID")


def test_emc_send_command(register: Engine, cli: CliRunner, emc: tuple[Measurements, str]) -> None:
    held, url = emc
    dossiers(register)
    time.sleep(2.1)  # the command leaves events younger than 2 s for its next run
    args = ["platforms", "emc-send", "--url", "http://127.0.0.1:9", "--api-key", KEY]
    down = cli.invoke(app, args)
    assert down.exit_code == 1 and "dừng" in down.output and "không phản hồi" in down.output
    done = cli.invoke(
        app, ["platforms", "emc-send"], env={"NIDB_EMC_URL": url, "NIDB_EMC_API_KEY": KEY}
    )
    assert done.exit_code == 0, done.output
    assert "EMC: 3 sự kiện trong 1 lô" in done.output and len(held.events) == 3


def test_an_event_the_emc_refuses_is_skipped_and_the_rest_arrive(register: Engine) -> None:
    held = Measurements(services=frozenset({"one_time_si"}))  # it does not know unemployment
    dossiers(register)
    with serve(create_app({"BHXH": KEY}, held)) as server, client(server.url) as http:
        result = send_usage(register, http, settle=0)
    assert result.stopped is None and result.events == 2
    assert [code for _, code in result.refused] == ["UNKNOWN_SERVICE"]
    assert sorted(e["kind"] for e in held.events.values()) == ["completed", "used"]
    with register.connect() as conn:
        assert streams.position(conn, STREAM) > 0  # not stuck on the refused event
