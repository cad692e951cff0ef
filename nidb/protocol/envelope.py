"""Signed envelopes (INTERCHANGE.md, "Partner messages").

``signature`` is a JWS in compact serialisation with a detached payload (RFC 7515 App. F):
``BASE64URL(protected) + ".." + BASE64URL(Ed25519 signature)``, where the signing input is
``BASE64URL(protected) + "." + BASE64URL(canonical JSON of {"header": ..., "body": ...})`` and
the protected header is ``{"alg": "EdDSA", "kid": <thumbprint of the sender's key>}``.
"""

from __future__ import annotations

import binascii
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from nidb.protocol.canonical import NotCanonical, canonical_json
from nidb.protocol.errors import RefusalCode, Refused
from nidb.protocol.keys import SigningKey, VerifyKey, b64url, b64url_decode

NIDB_MEMBER = "VN/GOV/BHXH/CSDLBH"
"""The insurance database's own identifier as receiver and as signer of responses."""

MEMBER_ID = re.compile(r"^[A-Z]{2}/[A-Z]{2,10}/[A-Za-z0-9-]{1,40}/[A-Za-z0-9._-]{1,40}$")
SERVICE_ID = re.compile(r"^[a-z][a-z0-9_.-]{1,40}/v[0-9]{1,3}$")
PURPOSE_ID = re.compile(r"^[A-Z0-9_]{2,20}$")
MESSAGE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""The one spelling of a message id: a UUID, lower-case, hyphenated, 36 characters.

``uuid.UUID()`` also reads upper case, ``urn:uuid:``, braces, no hyphens and any number of
extra hyphens; were those accepted, one id would have many spellings (each a fresh id to the
replay check) and unbounded length (past the access log's column). Only this spelling is read.
"""
HEADER_KEYS = ("message_id", "sender", "receiver", "service", "purpose", "issued_at")
_HEADER_FIELDS = frozenset({*HEADER_KEYS, "in_reply_to"})
_ENVELOPE_FIELDS = frozenset({"header", "body", "signature"})


class JwsHeader(TypedDict):
    """The JWS protected header of a partner signature, validated."""

    alg: str
    kid: str


@dataclass(frozen=True, slots=True)
class Header:
    """The envelope header, validated."""

    message_id: str
    sender: str
    receiver: str
    service: str
    purpose: str
    issued_at: datetime
    in_reply_to: str | None = None

    def as_json(self) -> dict[str, str]:
        data = {
            "message_id": self.message_id,
            "sender": self.sender,
            "receiver": self.receiver,
            "service": self.service,
            "purpose": self.purpose,
            "issued_at": self.issued_at.isoformat(),
        }
        if self.in_reply_to:
            data["in_reply_to"] = self.in_reply_to
        return data


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed envelope: the header, the body and the signature as received."""

    header: Header
    body: dict[str, Any]
    signature: str
    raw_header: dict[str, Any]

    def signing_payload(self) -> bytes:
        return canonical_json({"header": self.raw_header, "body": self.body})


def _malformed(detail: str) -> Refused:
    return Refused(RefusalCode.MALFORMED, detail)


def _text(header: dict[str, Any], key: str, pattern: re.Pattern[str] | None = None) -> str:
    value = header.get(key)
    if not isinstance(value, str) or not value:
        raise _malformed(f"header.{key} is missing or not a string")
    if pattern is not None and not pattern.fullmatch(value):
        raise _malformed(f"header.{key} has the wrong form")
    return value


def parse_header(raw: Any) -> Header:
    """Validate a header object; raises Refused(E_MALFORMED) naming the field."""
    if not isinstance(raw, dict):
        raise _malformed("header must be an object")
    unknown = raw.keys() - _HEADER_FIELDS
    if unknown:
        raise _malformed(f"unknown header fields: {', '.join(sorted(unknown))}")
    message_id = _text(raw, "message_id")
    if not MESSAGE_ID.fullmatch(message_id):
        raise _malformed(
            "header.message_id must be a UUID written lower-case with hyphens (36 characters)"
        )
    issued_text = _text(raw, "issued_at")
    try:
        issued_at = datetime.fromisoformat(issued_text)
    except ValueError:
        raise _malformed("header.issued_at must be an ISO 8601 date-time") from None
    if issued_at.tzinfo is None:
        raise _malformed("header.issued_at must carry a UTC offset")
    in_reply_to = raw.get("in_reply_to")
    if in_reply_to is not None and (
        not isinstance(in_reply_to, str) or not MESSAGE_ID.fullmatch(in_reply_to)
    ):
        raise _malformed(
            "header.in_reply_to must be a UUID written lower-case with hyphens (36 characters)"
        )
    return Header(
        message_id=message_id,
        sender=_text(raw, "sender", MEMBER_ID),
        receiver=_text(raw, "receiver", MEMBER_ID),
        service=_text(raw, "service", SERVICE_ID),
        purpose=_text(raw, "purpose", PURPOSE_ID),
        issued_at=issued_at,
        in_reply_to=in_reply_to,
    )


def parse_envelope(raw: Any) -> Envelope:
    """Check the shape of a received envelope (not its signature); raises Refused."""
    if not isinstance(raw, dict):
        raise _malformed("the message must be a JSON object")
    unknown = raw.keys() - _ENVELOPE_FIELDS
    if unknown:
        raise _malformed(f"unknown envelope fields: {', '.join(sorted(unknown))}")
    header = parse_header(raw.get("header"))
    body = raw.get("body")
    if not isinstance(body, dict):
        raise _malformed("body must be an object")
    signature = raw.get("signature")
    if signature is None or signature == "":
        raise Refused(RefusalCode.UNSIGNED)
    if not isinstance(signature, str):
        raise _malformed("signature must be a string")
    return Envelope(header, body, signature, raw["header"])


def signature_kid(signature: str) -> str:
    """The ``kid`` of a detached compact JWS; raises Refused(E_BAD_SIGNATURE) if unreadable."""
    protected, _ = split_signature(signature)
    return protected["kid"]


def split_signature(signature: str) -> tuple[JwsHeader, bytes]:
    """The protected header and the raw signature of a detached compact JWS; raises
    Refused(E_BAD_SIGNATURE) if it is not one."""
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise Refused(RefusalCode.BAD_SIGNATURE, "not a detached compact JWS")
    try:
        raw_signature = b64url_decode(parts[2])
    except ValueError:
        raise Refused(RefusalCode.BAD_SIGNATURE, "JWS parts are not base64url JSON") from None
    # a partner signs every message with the same protected header: it is read once
    protected = _protected_headers.get(parts[0])
    if protected is None:
        protected = _protected_header(parts[0])
        if len(parts[0]) <= _PROTECTED_HEADER_WIDTH:
            if len(_protected_headers) >= _PROTECTED_HEADERS_KEPT:
                _protected_headers.clear()
            _protected_headers[parts[0]] = protected
    return protected, raw_signature


_PROTECTED_HEADERS_KEPT = 1024
"""Protected headers remembered (one per partner key in use; refused ones are not kept)."""
_PROTECTED_HEADER_WIDTH = 200
"""Longer ones are read every time, not remembered (a real one, with a 43-character kid, has
80): a sender cannot fill the memory with long made-up headers."""
_protected_headers: dict[str, JwsHeader] = {}


def _protected_header(encoded: str) -> JwsHeader:
    """The validated JWS protected header ``encoded`` (base64url); raises Refused."""
    try:
        protected = json.loads(b64url_decode(encoded))
    except ValueError:
        raise Refused(RefusalCode.BAD_SIGNATURE, "JWS parts are not base64url JSON") from None
    kid = protected.get("kid") if isinstance(protected, dict) else None
    if (
        not isinstance(protected, dict)
        or protected.get("alg") != "EdDSA"
        or not isinstance(kid, str)
        or set(protected) - {"alg", "kid"}
    ):
        raise Refused(RefusalCode.BAD_SIGNATURE, 'protected header must be {"alg":"EdDSA","kid"}')
    return JwsHeader(alg="EdDSA", kid=kid)


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _signing_input(protected_b64: str, payload: bytes) -> bytes:
    """``protected_b64 + "." + BASE64URL(payload)`` (`b64url`, in fewer steps: this runs on
    every message in and out)."""
    encoded = binascii.b2a_base64(payload, newline=False).translate(_TO_URLSAFE).rstrip(b"=")
    return protected_b64.encode("ascii") + b"." + encoded


def verify_signature(
    envelope: Envelope, key: VerifyKey, parts: tuple[JwsHeader, bytes] | None = None
) -> None:
    """Raise Refused(E_BAD_SIGNATURE) unless ``key`` signed exactly this header and body.

    ``parts`` is `split_signature` of the envelope's signature if the caller has it already.
    """
    protected, raw_signature = parts or split_signature(envelope.signature)
    if protected["kid"] != key.kid:
        raise Refused(RefusalCode.BAD_SIGNATURE, "kid is not the sender's key")
    try:
        payload = envelope.signing_payload()
    except NotCanonical as error:
        raise _malformed(str(error)) from None
    protected_b64 = envelope.signature.split(".", 1)[0]
    if not key.verify(raw_signature, _signing_input(protected_b64, payload)):
        raise Refused(RefusalCode.BAD_SIGNATURE)


def sign(header: dict[str, Any], body: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """A complete signed envelope for ``header`` and ``body``."""
    protected_b64 = key.protected_header
    payload = canonical_json({"header": header, "body": body})
    signature = key.sign(_signing_input(protected_b64, payload))
    return {"header": header, "body": body, "signature": f"{protected_b64}..{b64url(signature)}"}


def new_header(
    sender: str,
    receiver: str,
    service: str,
    purpose: str,
    now: datetime,
    in_reply_to: str | None = None,
) -> dict[str, Any]:
    """A fresh header as JSON (new message_id, issued now): `Header.as_json` of a header with
    a new message id, built directly (every reply has one)."""
    data = {
        "message_id": new_message_id(),
        "sender": sender,
        "receiver": receiver,
        "service": service,
        "purpose": purpose,
        "issued_at": now.isoformat(),
    }
    if in_reply_to:
        data["in_reply_to"] = in_reply_to
    return data


def new_message_id() -> str:
    """A new message id: a random (version 4) UUID in its one spelling (`MESSAGE_ID`), as
    ``str(uuid.uuid4())`` writes it, without building a UUID object."""
    digits = os.urandom(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]  # RFC 4122: the two top bits of octet 8 are 10
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


@dataclass(frozen=True, slots=True)
class ClockWindow:
    """How old or how far ahead ``issued_at`` may be."""

    max_age: timedelta = timedelta(minutes=5)
    max_ahead: timedelta = timedelta(seconds=30)

    def check(self, issued_at: datetime, now: datetime) -> None:
        if issued_at < now - self.max_age:
            raise Refused(RefusalCode.STALE, f"older than {int(self.max_age.total_seconds())} s")
        if issued_at > now + self.max_ahead:
            raise Refused(
                RefusalCode.FUTURE, f"more than {int(self.max_ahead.total_seconds())} s ahead"
            )
