"""Bulk extracts: one granted person service over many people, asynchronously, all logged."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select, update

from nidb.accesslog import access_history
from nidb.exchange.extracts import run_pending
from nidb.exchange.partners import PartnerError, add_grant
from nidb.protocol.client import Reply
from nidb.store import models
from tests.conftest import MINISTRY, Exchange
from tests.seed import BHXH, PID


def wait_done(exchange: Exchange, job_id: str, sender: str = MINISTRY) -> Reply:
    client = exchange.client(sender)
    deadline = time.monotonic() + 30
    while True:
        reply = client.call("extract.status/v1", "GQCD", {"job_id": job_id})
        if reply.body.get("status") in {"done", "failed"} or time.monotonic() > deadline:
            return reply
        time.sleep(0.1)


def test_a_ministry_extracts_many_people_and_each_read_is_in_their_history(
    exchange: Exchange,
) -> None:
    client = exchange.client(MINISTRY)
    subjects = [
        {"personal_id": PID},
        {"bhxh_code": "9999999999"},
        {"personal_id": "999999999999"},
        {"bhxh_code": BHXH},
    ]
    submitted = client.call(
        "extract.submit/v1", "GQCD", {"service": "person.summary/v1", "subjects": subjects}
    )
    assert submitted.status == 200 and submitted.body["status"] == "queued"
    job_id = submitted.body["job_id"]
    done = wait_done(exchange, job_id)
    assert (done.body["status"], done.body["found"], done.body["not_found"]) == ("done", 2, 2)
    page = client.call("extract.result/v1", "GQCD", {"job_id": job_id, "limit": 3})
    outcomes = [(i["position"], i["outcome"]) for i in page.body["items"]]
    assert outcomes == [(0, "ok"), (1, "E_SUBJECT_NOT_FOUND"), (2, "E_BODY_INVALID")]
    first = page.body["items"][0]["answer"]
    assert set(first) == {"bhxh_code", "identity", "social_insurance", "unemployment_insurance"}
    rest = client.call("extract.result/v1", "GQCD", {"job_id": job_id, "offset": 3})
    assert [i["position"] for i in rest.body["items"]] == [3]
    reads = [(h.actor, h.service) for h in access_history(exchange.engine, BHXH)]
    assert reads.count((MINISTRY, "extract.result/v1")) == 2  # one per page that disclosed them


def test_an_extract_needs_the_grant_of_the_extracted_service(exchange: Exchange) -> None:
    hospital = exchange.client()  # granted card checks only
    reply = hospital.call(
        "extract.submit/v1",
        "KCB",
        {"service": "person.summary/v1", "subjects": [{"personal_id": PID}]},
    )
    assert (reply.status, reply.error_code) == (403, "E_NOT_GRANTED")
    wrong_purpose = exchange.client(MINISTRY).call(
        "extract.submit/v1",
        "THONGKE",
        {"service": "person.summary/v1", "subjects": [{"personal_id": PID}]},
    )
    assert (wrong_purpose.status, wrong_purpose.error_code) == (403, "E_NOT_GRANTED")
    not_extractable = exchange.client(MINISTRY).call(
        "extract.submit/v1",
        "GQCD",
        {"service": "card.check/v1", "subjects": [{"personal_id": PID}]},
    )
    assert (not_extractable.status, not_extractable.error_code) == (422, "E_BODY_INVALID")


def test_a_partner_cannot_see_another_partners_job(exchange: Exchange) -> None:
    submitted = exchange.client(MINISTRY).call(
        "extract.submit/v1",
        "GQCD",
        {"service": "person.summary/v1", "subjects": [{"personal_id": PID}]},
    )
    wait_done(exchange, submitted.body["job_id"])
    other = exchange.client().call("extract.result/v1", "KCB", {"job_id": submitted.body["job_id"]})
    assert (other.status, other.error_code) == (404, "E_SUBJECT_NOT_FOUND")


def test_extract_services_have_no_grant_of_their_own(exchange: Exchange) -> None:
    with pytest.raises(PartnerError, match="no grant of its own"):
        add_grant(exchange.engine, MINISTRY, "extract.submit/v1", "GQCD", "a", "x", "test")


def test_oversized_extracts_are_refused(exchange: Exchange) -> None:
    subjects = [{"bhxh_code": f"{n:010d}"} for n in range(10_001)]
    reply = exchange.client(MINISTRY).call(
        "extract.submit/v1", "GQCD", {"service": "person.summary/v1", "subjects": subjects}
    )
    assert (reply.status, reply.error_code) == (
        400,
        "E_MALFORMED",
    )  # over 256 KiB before any parsing


def _stored_job(engine: Engine, job_id: str, heartbeat: datetime | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(models.ExtractJob).values(
                id=job_id,
                partner_code=MINISTRY,
                service="person.summary/v1",
                purpose="GQCD",
                grant_id=1,
                groups="identity",
                status="running",
                subjects=3,
                heartbeat_at=heartbeat,
            )
        )
        conn.execute(
            insert(models.ExtractItem),
            [
                {"job_id": job_id, "position": n, "query": {"bhxh_code": f"999999999{n}"}}
                for n in range(3)
            ],
        )
        # the dead worker had answered the first subject before it died
        conn.execute(
            update(models.ExtractItem)
            .where(models.ExtractItem.job_id == job_id, models.ExtractItem.position == 0)
            .values(outcome="ok", bhxh_code="0000000001", answer={"answered": "before"})
        )


def test_a_job_left_running_by_a_dead_worker_is_taken_over_where_it_stopped(
    engine: Engine,
) -> None:
    now = datetime.now(UTC)
    _stored_job(engine, "dead-worker-job", heartbeat=now - timedelta(minutes=10))
    _stored_job(engine, "live-worker-job", heartbeat=now)
    assert run_pending(engine, lease=timedelta(seconds=60)) == 1
    with engine.connect() as conn:
        jobs = dict(conn.execute(select(models.ExtractJob.id, models.ExtractJob.status)).all())
        items = conn.execute(
            select(
                models.ExtractItem.position, models.ExtractItem.outcome, models.ExtractItem.answer
            )
            .where(models.ExtractItem.job_id == "dead-worker-job")
            .order_by(models.ExtractItem.position)
        ).all()
    assert jobs == {"dead-worker-job": "done", "live-worker-job": "running"}
    assert items[0].answer == {"answered": "before"}  # resumed, not redone
    assert [i.outcome for i in items[1:]] == ["E_SUBJECT_NOT_FOUND"] * 2
