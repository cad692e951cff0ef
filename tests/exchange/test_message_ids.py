"""Issue 16, defects 1 and 2: a message id has one spelling, and one bad access-log entry cannot
fail its neighbours (their log writes or their replies)."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future

import pytest
from sqlalchemy import Engine, func, select

from nidb.accesslog import AccessLog, AccessRecord, EntryRefused
from nidb.protocol.envelope import parse_header, sign
from nidb.protocol.errors import Refused
from nidb.protocol.keys import SigningKey
from nidb.store import models
from tests.conftest import HOSPITAL, Exchange
from tests.exchange.test_refusals import CARD, good, post


def spellings(message_id: str) -> list[str]:
    """Other spellings of ``message_id`` that ``uuid.UUID()`` reads as the same id."""
    return [
        message_id.upper(),
        f"urn:uuid:{message_id}",
        "urn:uuid:" * 20 + message_id,
        message_id.replace("-", ""),
        "{" + message_id + "}",
        "-" * 100 + message_id.replace("-", ""),
    ]


def test_only_the_lower_case_hyphenated_spelling_is_a_message_id() -> None:
    message_id = str(uuid.uuid4())
    header = {
        "message_id": message_id,
        "sender": HOSPITAL,
        "receiver": "VN/GOV/BHXH/CSDLBH",
        "service": "card.check/v1",
        "purpose": "KCB",
        "issued_at": "2026-01-01T00:00:00+00:00",
    }
    assert parse_header(header).message_id == message_id
    for spelling in [*spellings(message_id), message_id + "\x00", " " + message_id]:
        with pytest.raises(Refused) as refused:
            parse_header({**header, "message_id": spelling})
        assert refused.value.code == "E_MALFORMED"
        assert "lower-case" in str(refused.value.detail)
    with pytest.raises(Refused):
        parse_header({**header, "in_reply_to": "x" * 500})


def test_no_other_spelling_of_a_used_message_id_is_answered_again(exchange: Exchange) -> None:
    first = good(exchange)
    assert post(exchange, first) == (200, "ok")
    used = first["header"]["message_id"]
    assert post(exchange, first) == (409, "E_REPLAY")
    for spelling in spellings(used):
        assert post(exchange, good(exchange, message_id=spelling)) == (400, "E_MALFORMED")
    with exchange.engine.connect() as conn:
        ids = conn.execute(select(models.AccessLogEntry.message_id)).scalars().all()
    assert [i for i in ids if i] == [used]  # only the canonical id was ever claimed


def test_a_long_claimed_sender_is_refused_signed_and_logged(exchange: Exchange) -> None:
    """An unknown sender of the longest form the header allows: its refusal is logged (the
    prefixed actor would pass the column) and signed."""
    sender = "VN/GOVXXXXXXX/" + "M" * 40 + "/" + "S" * 40
    key = SigningKey.generate()
    message = exchange.client(sender, key).envelope("card.check/v1", "KCB", dict(CARD))
    reply = exchange.client(sender, key).send(
        "card.check/v1", sign(message["header"], message["body"], key)
    )
    assert (reply.status, reply.error_code) == (401, "E_UNKNOWN_SENDER")
    with exchange.engine.connect() as conn:
        actor, detail = conn.execute(
            select(models.AccessLogEntry.actor, models.AccessLogEntry.detail)
            .order_by(models.AccessLogEntry.seq.desc())
            .limit(1)
        ).one()
    assert actor.startswith("unverified:VN/GOVXXXXXXX/") and len(actor) <= 100
    assert sender in detail


def _entries(bad_at: int, count: int = 6) -> list[AccessRecord]:
    records = [
        AccessRecord(
            actor=HOSPITAL, service="card.check/v1", result="ok", message_id=str(uuid.uuid4())
        )
        for _ in range(count)
    ]
    records[bad_at] = AccessRecord(
        actor="X" * 300,
        service="card.check/v1",
        result="ok",
        fields="a\x00b",
        message_id=str(uuid.uuid4()),
    )
    return records


def _written(engine: Engine, records: list[AccessRecord]) -> set[str]:
    ids = [r.message_id for r in records]
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(models.AccessLogEntry.message_id).where(
                    models.AccessLogEntry.message_id.in_(ids)
                )
            ).scalars()
        )


def test_one_bad_entry_fails_alone_in_the_threaded_writer(engine: Engine) -> None:
    log = AccessLog(engine, linger=0)
    try:
        records = _entries(bad_at=2)
        batch: list[tuple[AccessRecord, Future[bool]]] = [(r, Future()) for r in records]
        log._write(batch)  # one batch, as the writer thread would form it
        good_ids = {r.message_id for i, r in enumerate(records) if i != 2}
        assert good_ids <= _written(engine, records)
        for i, (_, future) in enumerate(batch):
            if i != 2:
                assert future.result(5) is True
        if engine.dialect.name == "postgresql":  # SQLite stores what PostgreSQL refuses
            with pytest.raises(EntryRefused):
                batch[2][1].result(5)
        # the chain stays whole after the refused entry
        assert log.record(AccessRecord(actor=HOSPITAL, service="card.check/v1", result="ok"))
    finally:
        log.close()
    from nidb.accesslog import verify_chain

    assert verify_chain(engine).intact


def test_one_bad_entry_fails_alone_on_the_event_loop(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the event-loop writer is PostgreSQL's")
    log = AccessLog(engine)
    records = _entries(bad_at=0, count=8)

    async def run() -> list[object]:
        await log.start_async()
        try:
            # submitted in one tick: the loop's writer takes them as one batch
            waits = [log.record_async(r) for r in records]
            return list(await asyncio.gather(*waits, return_exceptions=True))
        finally:
            await log.stop_async()

    try:
        results = asyncio.run(run())
    finally:
        log.close()
    assert isinstance(results[0], EntryRefused)
    assert results[1:] == [True] * 7
    assert len(_written(engine, records)) == 7
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.AccessLogEntry)).scalar() == 7
