"""The parts of an envelope the exchange makes and reads on every message: message ids, the
signing input, and the JWS protected header (read once per partner key, refused every time)."""

from __future__ import annotations

import base64
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.protocol.envelope import (
    MESSAGE_ID,
    _signing_input,
    new_header,
    new_message_id,
    split_signature,
)
from nidb.protocol.errors import RefusalCode, Refused
from nidb.protocol.keys import SigningKey, b64url


def test_new_message_ids_are_random_version_4_uuids_in_the_one_spelling() -> None:
    made = {new_message_id() for _ in range(2000)}
    assert len(made) == 2000
    for text in made:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text and MESSAGE_ID.fullmatch(text)


def test_a_new_header_is_what_the_header_type_writes() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)
    made = new_header("VN/GOV/BHXH/CSDLBH", "VN/GOV/BYT/BV-1", "card.check/v1", "KCB", now)
    assert list(made) == ["message_id", "sender", "receiver", "service", "purpose", "issued_at"]
    assert made["issued_at"] == now.isoformat()
    replied = new_header("A", "B", "s/v1", "KCB", now, in_reply_to=made["message_id"])
    assert replied["in_reply_to"] == made["message_id"]


@given(st.binary(max_size=600))
def test_the_signing_input_is_the_protected_header_dot_base64url_of_the_payload(
    payload: bytes,
) -> None:
    assert _signing_input("eyJhbGci", payload) == f"eyJhbGci.{b64url(payload)}".encode()


def _jws(protected: bytes) -> str:
    return _jws_with(b64url(protected), bytes([1]) * 64)


def _jws_with(protected_b64: str, signature: bytes) -> str:
    return protected_b64 + ".." + b64url(signature)


def test_a_remembered_protected_header_does_not_let_a_bad_signature_part_through() -> None:
    key = SigningKey.generate()
    good = _jws_with(key.protected_header, bytes([2]) * 64)
    assert split_signature(good)[0]["kid"] == key.kid
    assert split_signature(good)[0]["kid"] == key.kid  # remembered: the same answer
    with pytest.raises(Refused) as refused:
        split_signature(f"{key.protected_header}..not*base64")
    assert refused.value.code == RefusalCode.BAD_SIGNATURE


@pytest.mark.parametrize(
    "protected",
    [
        b'{"alg":"RS256","kid":"k"}',
        b'{"alg":"EdDSA"}',
        b'{"alg":"EdDSA","kid":"k","x":1}',
        b"[1]",
        b"not json",
    ],
)
def test_a_bad_protected_header_is_refused_each_time(protected: bytes) -> None:
    for _ in range(2):
        with pytest.raises(Refused) as refused:
            split_signature(_jws(protected))
        assert refused.value.code == RefusalCode.BAD_SIGNATURE


def test_a_long_protected_header_is_read_but_not_remembered() -> None:
    from nidb.protocol import envelope

    kid = "k" * 400
    protected = base64.urlsafe_b64encode(b'{"alg":"EdDSA","kid":"' + kid.encode() + b'"}').rstrip(
        b"="
    )
    signature = _jws_with(protected.decode(), bytes([3]) * 64)
    assert split_signature(signature)[0]["kid"] == kid
    assert protected.decode() not in envelope._protected_headers
