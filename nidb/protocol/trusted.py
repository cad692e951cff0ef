"""nidb's public keys as a partner trusts them: the set ``GET /keys`` publishes (the key nidb
signs with now, and those it retired within the grace period), looked up by the ``kid`` that
each signature's protected header names.

A receiver of nidb's messages (the webhook stand-in, or a partner's own) keeps a `TrustedKeys`:
a message naming a kid in the set is verified with that key; a kid not in the set makes it ask
the source again (nidb may have rotated its key), at most once every ``min_refresh`` seconds so
that a stream of forged kids cannot make it fetch without end; still unknown, the message is
refused. The set is also fetched again when older than ``max_age``, so that a key whose grace
period ended stops being trusted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from nidb.protocol.keys import VerifyKey

__all__ = ["TrustedKeys", "keys_from_document"]

log = logging.getLogger("nidb.keys")

KeySource = Callable[[], Any]
"""Returns a ``/keys`` document (or raises): fetched over HTTP, or read from nidb's key files."""


def keys_from_document(document: Any) -> dict[str, VerifyKey]:
    """The keys a ``/keys`` document lists, by kid; each kid is computed from its key, never
    taken from the page. Raises ValueError if the document lists no valid key."""
    if not isinstance(document, dict):
        raise ValueError("/keys is not an object")
    listed = document.get("keys")
    entries = listed if isinstance(listed, list) else [document]
    keys: dict[str, VerifyKey] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("public_key"), str):
            try:
                key = VerifyKey.from_b64(entry["public_key"])
            except ValueError:
                continue
            keys[key.kid] = key
    if not keys:
        raise ValueError("/keys lists no valid key")
    return keys


def fetch_keys(url: str, timeout: float = 5.0) -> KeySource:
    """A source reading nidb's ``/keys`` at ``url`` (e.g. ``http://nidb:8000/keys``)."""

    def fetch() -> Any:
        return httpx.get(url, timeout=timeout).raise_for_status().json()

    return fetch


class TrustedKeys:
    """The set of nidb keys a receiver verifies with, refreshed from ``source`` (if any)."""

    def __init__(
        self,
        source: KeySource | None = None,
        keys: Iterable[VerifyKey] = (),
        min_refresh: float = 5.0,
        max_age: float = 3600.0,
    ) -> None:
        self.source = source
        self.min_refresh, self.max_age = min_refresh, max_age
        self._keys = {key.kid: key for key in keys}
        self._lock = threading.Lock()
        self._fetched_at: float | None = None  # monotonic time of the last successful fetch
        self._tried_at = float("-inf")  # of the last attempt, successful or not

    @classmethod
    def pinned(cls, *public_keys: str) -> TrustedKeys:
        """Exactly these keys (base64url, as `nidb keys` shows them), never refreshed."""
        return cls(None, [VerifyKey.from_b64(text) for text in public_keys])

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def get(self, kid: str) -> VerifyKey | None:
        """The key named ``kid``, if trusted now (no fetch)."""
        return self._keys.get(kid)

    def wants_refresh(self, kid: str) -> bool:
        """Whether `refresh` should run before ``kid`` is looked up: the kid is unknown or the
        set is old, and the last attempt is more than ``min_refresh`` seconds ago."""
        if self.source is None:
            return False
        now = time.monotonic()
        if now - self._tried_at < self.min_refresh:
            return False
        old = self._fetched_at is None or now - self._fetched_at > self.max_age
        return old or kid not in self._keys

    def refresh(self) -> None:
        """Fetch the set again (blocking; run it off an event loop). A failed fetch keeps the
        set as it was, so nidb being briefly unreachable refuses only unknown kids."""
        if self.source is None:
            return
        with self._lock:
            now = time.monotonic()
            if now - self._tried_at < self.min_refresh:
                return  # another thread has just done it
            self._tried_at = now
            try:
                keys = keys_from_document(self.source())
            except (httpx.HTTPError, ValueError, OSError) as error:
                log.warning("nidb's keys could not be fetched: %s", error)
                return
            self._keys = keys
            self._fetched_at = now
