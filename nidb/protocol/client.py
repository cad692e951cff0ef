"""A partner's side of the exchange: build, sign and send envelopes; check signed replies.

Hospitals, ministries and the stand-ins under ``nidb/sim`` use it; so do the tests and the
benchmark, which therefore exercise exactly the bytes a real partner sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from nidb.protocol.envelope import (
    NIDB_MEMBER,
    new_header,
    parse_envelope,
    sign,
    split_signature,
    verify_signature,
)
from nidb.protocol.errors import Refused
from nidb.protocol.keys import SigningKey, VerifyKey
from nidb.protocol.trusted import keys_from_document


class ReplyNotTrusted(Exception):
    """A reply whose signature is not nidb's, or that answers another message."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    header: dict[str, Any]
    body: dict[str, Any]

    @property
    def error_code(self) -> str | None:
        error = self.body.get("error")
        return error.get("code") if isinstance(error, dict) else None


class ExchangeClient:
    """Calls nidb's partner services as ``sender``, signing with ``key``."""

    def __init__(
        self,
        base_url: str,
        sender: str,
        key: SigningKey,
        server_key: VerifyKey | None = None,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.sender, self.key = sender, key
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._server_key, self._pinned = server_key, server_key is not None
        # nidb's keys by kid; fetched from /keys (again when a reply names a kid not yet seen,
        # as after nidb rotates its key) unless the caller pinned one key
        self._server_keys: dict[str, VerifyKey] = {server_key.kid: server_key} if server_key else {}

    def close(self) -> None:
        self.http.close()

    @property
    def server_key(self) -> VerifyKey:
        """nidb's current public key, fetched from ``/keys`` once if it was not given."""
        if self._server_key is None:
            self.refresh_server_keys()
        assert self._server_key is not None
        return self._server_key

    def refresh_server_keys(self) -> None:
        """Fetch the keys nidb publishes at ``/keys``: the current one and those it retired
        recently (each key's kid is recomputed from the key, never taken from the page)."""
        published = self.http.get("/keys").raise_for_status().json()
        try:
            keys = keys_from_document(published)
        except ValueError as error:
            raise ReplyNotTrusted(str(error)) from None
        try:
            self._server_key = VerifyKey.from_b64(published["public_key"])
        except (KeyError, TypeError, ValueError):
            raise ReplyNotTrusted("/keys has no valid current key") from None
        self._server_keys = {**keys, self._server_key.kid: self._server_key}

    def _server_key_for(self, kid: str) -> VerifyKey | None:
        if kid not in self._server_keys and not self._pinned:
            self.refresh_server_keys()
        return self._server_keys.get(kid)

    def envelope(
        self,
        service: str,
        purpose: str,
        body: dict[str, Any],
        issued_at: datetime | None = None,
        receiver: str = NIDB_MEMBER,
    ) -> dict[str, Any]:
        """A signed envelope, ready to send (or to tamper with, in tests)."""
        header = new_header(self.sender, receiver, service, purpose, issued_at or datetime.now(UTC))
        return sign(header, body, self.key)

    def send(self, service: str, message: dict[str, Any] | bytes) -> Reply:
        """POST a prepared message and check the reply's signature."""
        content = message if isinstance(message, bytes) else json.dumps(message).encode("utf-8")
        response = self.http.post(
            f"/x/{service}", content=content, headers={"content-type": "application/json"}
        )
        return self.check(response.status_code, response.json())

    def call(self, service: str, purpose: str, body: dict[str, Any]) -> Reply:
        """Sign ``body`` for ``service`` and ``purpose``, send it, return the verified reply."""
        return self.send(service, self.envelope(service, purpose, body))

    def check(self, status: int, raw: Any) -> Reply:
        """Verify a reply envelope; raises ReplyNotTrusted."""
        try:
            envelope = parse_envelope(raw)
            parts = split_signature(envelope.signature)
            key = self._server_key_for(parts[0]["kid"])
            if key is None:
                raise ReplyNotTrusted("reply signed with a key nidb does not publish")
            verify_signature(envelope, key, parts)
        except Refused as refused:
            raise ReplyNotTrusted(str(refused)) from None
        if envelope.header.sender != NIDB_MEMBER:
            raise ReplyNotTrusted(f"reply from {envelope.header.sender}")
        return Reply(status, envelope.raw_header, envelope.body)
