"""Every refusal path of the gate has a coded, signed answer and an access-log entry."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from nidb.exchange.partners import revoke_grant
from nidb.protocol.envelope import sign
from nidb.protocol.keys import SigningKey
from nidb.store import models
from tests.conftest import HOSPITAL, Exchange
from tests.seed import BHXH

CARD = {"card_code": f"DN401{BHXH}", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-17"}


def last_log(exchange: Exchange) -> tuple[str, str]:
    with exchange.engine.connect() as conn:
        row = conn.execute(
            select(models.AccessLogEntry.actor, models.AccessLogEntry.result)
            .order_by(models.AccessLogEntry.seq.desc())
            .limit(1)
        ).one()
    return row.actor, row.result


def post(exchange: Exchange, message: object, service: str = "card.check/v1") -> tuple[int, str]:
    reply = exchange.client().send(service, message)  # type: ignore[arg-type]
    return reply.status, reply.error_code or "ok"


def good(exchange: Exchange, **header: object) -> dict:
    message = exchange.client().envelope("card.check/v1", "KCB", dict(CARD))
    message["header"].update(header)
    return sign(message["header"], message["body"], exchange.hospital_key)


def test_unsigned_message_is_refused(exchange: Exchange) -> None:
    message = good(exchange)
    del message["signature"]
    assert post(exchange, message) == (401, "E_UNSIGNED")
    assert last_log(exchange) == (f"unverified:{HOSPITAL}", "E_UNSIGNED")


def test_tampered_body_is_refused(exchange: Exchange) -> None:
    message = good(exchange)
    message["body"]["full_name"] = "Trần Thị Bé"
    assert post(exchange, message) == (401, "E_BAD_SIGNATURE")


def test_tampered_header_is_refused(exchange: Exchange) -> None:
    message = good(exchange)
    message["header"]["purpose"] = "THONGKE"
    assert post(exchange, message) == (401, "E_BAD_SIGNATURE")


def test_signature_by_another_key_is_refused(exchange: Exchange) -> None:
    message = exchange.client(key=SigningKey.generate()).envelope("card.check/v1", "KCB", CARD)
    assert post(exchange, message) == (401, "E_BAD_SIGNATURE")


def test_a_partner_signing_as_another_is_refused(exchange: Exchange) -> None:
    """The ministry's own valid key does not make it the hospital."""
    message = exchange.client(HOSPITAL, key=exchange.ministry_key).envelope(
        "card.check/v1", "KCB", CARD
    )
    assert post(exchange, message) == (401, "E_BAD_SIGNATURE")


def test_garbage_signatures_are_refused_not_crashing(exchange: Exchange) -> None:
    for signature in ("abc", "a..b", "..", "eyJhbGciOiJub25lIn0..", "e30..AAAA", 7):
        message = good(exchange)
        message["signature"] = signature
        status, code = post(exchange, message)
        assert (status, code) in {(401, "E_BAD_SIGNATURE"), (400, "E_MALFORMED")}, signature


def test_unknown_sender_is_refused(exchange: Exchange) -> None:
    stranger = SigningKey.generate()
    message = exchange.client("VN/GOV/BYT/BV-99999", key=stranger).envelope(
        "card.check/v1", "KCB", CARD
    )
    assert post(exchange, message) == (401, "E_UNKNOWN_SENDER")


def test_stale_and_future_messages_are_refused(exchange: Exchange) -> None:
    client = exchange.client()
    now = datetime.now(UTC)
    stale = client.envelope("card.check/v1", "KCB", CARD, issued_at=now - timedelta(minutes=6))
    future = client.envelope("card.check/v1", "KCB", CARD, issued_at=now + timedelta(minutes=2))
    assert post(exchange, stale) == (401, "E_STALE")
    assert post(exchange, future) == (401, "E_FUTURE")


def test_a_replayed_message_is_refused_and_the_first_answer_stands(exchange: Exchange) -> None:
    message = good(exchange)
    assert post(exchange, copy.deepcopy(message)) == (200, "ok")
    assert post(exchange, message) == (409, "E_REPLAY")
    assert last_log(exchange) == (HOSPITAL, "E_REPLAY")


def test_a_replay_seen_first_by_another_process_is_caught_by_the_log(exchange: Exchange) -> None:
    message = good(exchange)
    assert post(exchange, copy.deepcopy(message)) == (200, "ok")
    exchange.http.app.state.exchange.gate.recent._ids.clear()  # as if another worker had it
    assert post(exchange, message) == (409, "E_REPLAY")


def test_wrong_receiver_and_wrong_service_are_refused(exchange: Exchange) -> None:
    other = exchange.client().envelope("card.check/v1", "KCB", CARD, receiver="VN/GOV/BCA/CSDLQGDC")
    assert post(exchange, other) == (400, "E_WRONG_RECEIVER")
    summary = exchange.client().envelope("person.summary/v1", "KCB", {"bhxh_code": BHXH})
    assert post(exchange, summary) == (400, "E_WRONG_SERVICE")


def test_service_or_purpose_not_granted_is_refused(exchange: Exchange) -> None:
    client = exchange.client()
    wrong_purpose = client.envelope("card.check/v1", "THONGKE", CARD)
    assert post(exchange, wrong_purpose) == (403, "E_NOT_GRANTED")
    summary = client.envelope("person.summary/v1", "KCB", {"bhxh_code": BHXH})
    assert post(exchange, summary, "person.summary/v1") == (403, "E_NOT_GRANTED")


def test_a_revoked_grant_stops_working(exchange: Exchange) -> None:
    with exchange.engine.connect() as conn:
        grant_id = conn.execute(
            select(models.Grant.id).where(models.Grant.partner_code == HOSPITAL)
        ).scalar_one()
    revoke_grant(exchange.engine, grant_id, "test", "hết hợp đồng")
    exchange.http.app.state.exchange.directory.refresh()
    assert post(exchange, good(exchange)) == (403, "E_NOT_GRANTED")


def test_an_expired_grant_stops_working(exchange: Exchange) -> None:
    with exchange.engine.begin() as conn:
        conn.execute(
            update(models.Grant)
            .where(models.Grant.partner_code == HOSPITAL)
            .values(valid_to=datetime.now(UTC).date() - timedelta(days=2))
        )
    exchange.http.app.state.exchange.directory.refresh()
    assert post(exchange, good(exchange)) == (403, "E_NOT_GRANTED")


def test_a_suspended_partner_is_refused(exchange: Exchange) -> None:
    with exchange.engine.begin() as conn:
        conn.execute(
            update(models.Partner)
            .where(models.Partner.code == HOSPITAL)
            .values(suspended_at=datetime.now(UTC))
        )
    exchange.http.app.state.exchange.directory.refresh()
    assert post(exchange, good(exchange)) == (403, "E_SENDER_SUSPENDED")


def test_rate_limit_per_partner(exchange: Exchange) -> None:
    with exchange.engine.begin() as conn:
        conn.execute(
            update(models.Partner).where(models.Partner.code == HOSPITAL).values(rate_limit=3)
        )
    exchange.http.app.state.exchange.directory.refresh()
    exchange.http.app.state.exchange.gate.limiter.reset()
    codes = [post(exchange, good(exchange))[1] for _ in range(6)]
    assert codes[:3] == ["ok"] * 3 and "E_RATE_LIMITED" in codes[3:]


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"header": 1, "body": {}, "signature": "x"}',
        b'{"header": {}, "body": {}, "signature": "x"}',
        b"\xff\xfe",
        json.dumps({"header": {"message_id": "x"}, "body": {}}).encode(),
        b'{"header": NaN, "body": {}, "signature": "x"}',  # not JSON, though Python reads it
        b'{"header": {}, "body": {"a": "\\ud800"}, "signature": "x"}',  # a lone surrogate
        b'{"header": {}, "body": {"a": 1e400}, "signature": "x"}',  # infinity
        b'{"header": {}, "body": {}, "signature": "x"} {}',  # something after the object
    ],
)
def test_malformed_messages_are_refused_with_a_code(exchange: Exchange, raw: bytes) -> None:
    status, code = post(exchange, raw)
    assert (status, code) == (400, "E_MALFORMED")


def test_header_fields_are_checked_one_by_one(exchange: Exchange) -> None:
    for field, value in [
        ("message_id", "not-a-uuid"),
        ("issued_at", "2026-01-31T08:00:00"),  # no offset
        ("sender", "hospital"),
        ("service", "card check"),
        ("extra", "x"),
    ]:
        message = good(exchange, **{field: value})
        assert post(exchange, message) == (400, "E_MALFORMED"), field


def test_invalid_bodies_are_refused_after_authentication(exchange: Exchange) -> None:
    client = exchange.client()
    for body in (
        {**CARD, "full_name": ""},
        {**CARD, "surprise": 1},
        {"card_code": BHXH},
        {**CARD, "visit_date": "hôm nay"},
    ):
        message = client.envelope("card.check/v1", "KCB", body)
        assert post(exchange, message) == (422, "E_BODY_INVALID"), body


def test_floats_cannot_be_signed_ambiguously(exchange: Exchange) -> None:
    message = good(exchange)
    message["body"]["full_name"] = 1.5
    assert post(exchange, message)[1] in {"E_MALFORMED", "E_BAD_SIGNATURE"}


def test_an_integer_beyond_64_bits_cannot_be_signed_ambiguously(exchange: Exchange) -> None:
    # read as a float (as most JSON parsers would), so it has no canonical form to verify
    message = good(exchange)
    message["body"]["full_name"] = "PLACEHOLDER"
    raw = json.dumps(message).replace('"PLACEHOLDER"', "123456789012345678901234567890")
    assert post(exchange, raw.encode()) == (400, "E_MALFORMED")


def test_oversized_message_is_refused(exchange: Exchange) -> None:
    message = good(exchange)
    message["body"]["full_name"] = "A" * 300_000
    assert post(exchange, message) == (400, "E_MALFORMED")


def test_each_message_id_is_only_claimed_once_per_accepted_message(exchange: Exchange) -> None:
    """A refused message does not burn its id: the partner may fix and resend it."""
    message = good(exchange, message_id=str(uuid.uuid4()))
    message["body"]["full_name"] = "tampered"
    assert post(exchange, message)[1] == "E_BAD_SIGNATURE"
    fixed = good(exchange, message_id=message["header"]["message_id"])
    assert post(exchange, fixed) == (200, "ok")
