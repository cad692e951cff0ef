"""What every inbound feed shares: the HTTP client, the page loop, and what a feed writes.

- `FeedClient` reads any partner's `GET /v1/changes?after=CURSOR&limit=N` (answer
  `{"changes": [...], "next_cursor": "..."}`), built for an unreliable partner with the
  population connector's `RetryPolicy` and `CircuitBreaker`.
- `follow_feed` applies pages after the stored cursor, each page in one transaction with the
  cursor move (`nidb.feeds.cursors`), so a stopped follower resumes exactly after the
  last page kept: nothing is lost or applied twice.
- `EventRejected` / `reject`: an event that cannot be applied is recorded once (a `feed_rejected`
  alert and an audit entry naming the event, field, value and rule) and the feed moves on.
- `audit`, `outbox`, `alert`: the rows a change writes in its transaction.

Used by `business` and `molisa`; a further feed is one more `apply` function.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

import httpx
from sqlalchemy import Connection, Engine, insert, select, text

from nidb.connectors.population import CircuitBreaker, CircuitOpen, RetryPolicy
from nidb.domain.errors import DomainError
from nidb.feeds.cursors import advance_cursor, read_cursor
from nidb.store import models
from nidb.store.audit import write_audit, write_event

__all__ = [
    "PURPOSE",
    "CursorMoved",
    "EventRejected",
    "FeedClient",
    "FeedError",
    "FeedPage",
    "FeedProtocolError",
    "FeedReport",
    "FeedSource",
    "FeedUnavailable",
    "alert",
    "audit",
    "follow_feed",
    "outbox",
    "reject",
]

PURPOSE = "DONGBO"  # keeping the register in step with its source registries (Decree 43 Art. 7)

# --- the feed client (any stand-in's or partner's GET /v1/changes) -----------------------------


class FeedError(Exception):
    """Any failure to read a feed."""


class FeedUnavailable(FeedError):
    """The feed could not be read: retries exhausted or circuit open. Rerun later."""


class FeedProtocolError(FeedError):
    """The feed answered outside its contract (or refused the request: a 4xx answer)."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One page of a feed: raw events (checked one by one when applied) and the next cursor."""

    changes: tuple[dict[str, Any], ...]
    next_cursor: str


class FeedSource(Protocol):
    def changes(self, after: str | None = None, limit: int = 100) -> FeedPage: ...


class FeedClient:
    """Blocking client of a change feed, built for an unreliable partner: connect and read
    timeouts, retries with backoff and jitter on 5xx / 429 / broken connections (never on other
    4xx), and the population connector's `CircuitBreaker` and `RetryPolicy`."""

    def __init__(
        self,
        base_url: str,
        source: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.source = source
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self._sleep, self._rng = sleep, rng or random.Random()
        timeouts = httpx.Timeout(timeout, connect=connect_timeout)
        self._http = httpx.Client(base_url=base_url, timeout=timeouts)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def changes(self, after: str | None = None, limit: int = 100) -> FeedPage:
        """Events after a cursor (from the start when None), oldest first, at most `limit`."""
        params: dict[str, Any] = {"limit": limit} | ({} if after is None else {"after": after})
        body = self._get("/v1/changes", params)
        try:
            changes, cursor = body["changes"], body["next_cursor"]
            if not isinstance(changes, list) or not isinstance(cursor, str):
                raise TypeError("changes must be a list and next_cursor a string")
            return FeedPage(
                tuple(c if isinstance(c, dict) else {"raw": c} for c in changes), cursor
            )
        except (KeyError, TypeError) as error:
            raise FeedProtocolError(f"{self.source}: page outside the contract: {error}") from None

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            probe = self.breaker.before_call()
        except CircuitOpen as error:
            raise FeedUnavailable(
                f"{self.source}: circuit open, next try in {error.retry_after:.0f} s"
            ) from None
        attempts = 1 if probe else self.retry.retries + 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                self._sleep(self.retry.delay(attempt - 1, self._rng))
            try:
                response = self._http.get(path, params=params)
            except httpx.TransportError as error:
                last = type(error).__name__
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                continue
            self.breaker.record_success()
            if response.status_code >= 400:
                raise FeedProtocolError(
                    f"{self.source}: {response.status_code} {response.text[:300]}"
                )
            try:
                return response.json()
            except ValueError:
                raise FeedProtocolError(f"{self.source}: the answer is not JSON") from None
        self.breaker.record_failure()
        raise FeedUnavailable(f"{self.source}: {path} failed after {attempts} attempt(s): {last}")


# --- the page loop and what every feed writes ----------------------------------------------------


class EventRejected(Exception):
    """An event that cannot be applied: names the field, the value and the rule."""

    def __init__(
        self, field: str, value: object, rule: str, message_vi: str, message_en: str
    ) -> None:
        super().__init__(field, value, rule, message_vi, message_en)
        self.field, self.value, self.rule = field, value, rule
        self.message_vi, self.message_en = message_vi, message_en

    @classmethod
    def missing(cls, field: str) -> EventRejected:
        return cls(field, None, "missing", "thiếu trường bắt buộc", "required field missing")

    @classmethod
    def of(cls, error: DomainError, field: str) -> EventRejected:
        return cls(field, error.value, error.rule, error.message_vi, error.message_en)


class CursorMoved(Exception):
    """Another follower applied this page first; this one's work was rolled back."""


class FeedReport(Protocol):
    pages: int
    events: int


class FeedTotals(Protocol):
    """A feed run's totals as read by the commands (a report may compute ``events``)."""

    @property
    def pages(self) -> int: ...

    @property
    def events(self) -> int: ...


def follow_feed(
    engine: Engine,
    client: FeedSource,
    source: str,
    apply: Callable[[Connection, dict[str, Any]], None],
    report: FeedReport,
    page_size: int,
    max_pages: int | None,
) -> None:
    """Apply pages after the stored cursor until the feed has nothing newer (or `max_pages`
    pages); each page is one transaction with its cursor move. `apply` counts into `report`,
    which is put back as it was when a page's transaction fails."""
    pages = 0
    while max_pages is None or pages < max_pages:
        with engine.connect() as conn:
            after = read_cursor(conn, source)
        page = client.changes(after, page_size)
        if not page.changes:
            break
        before = copy.deepcopy(vars(report))
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"feed:{source}"},
                    )
                if read_cursor(conn, source) != after:
                    raise CursorMoved(f"the {source} cursor moved past {after!r}")
                for entry in page.changes:
                    apply(conn, entry)
                advance_cursor(conn, source, page.next_cursor, len(page.changes))
        except BaseException:
            vars(report).update(before)
            raise
        pages += 1
        report.pages += 1
        report.events += len(page.changes)


def audit(
    conn: Connection,
    source: str,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any],
) -> None:
    write_audit(
        conn,
        actor=f"feed:{source}",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        purpose=PURPOSE,
        detail=detail,
    )


def outbox(conn: Connection, topic: str, subject_key: str, payload: dict[str, Any]) -> None:
    write_event(conn, topic, subject_key, payload)


def alert(
    conn: Connection,
    kind: str,
    province: str | None,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any],
) -> None:
    conn.execute(
        insert(models.Alert).values(
            kind=kind,
            province=province,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
        )
    )


def reject(conn: Connection, source: str, entry: dict[str, Any], error: EventRejected) -> str:
    """Record a rejected event once (alert + audit entry); returns the message."""
    seq, kind = entry.get("seq"), entry.get("kind")
    value = None if error.value is None else str(error.value)[:100]
    message = (
        f"{source} event {seq} ({kind}): {error.field}={value!r} [{error.rule}] "
        f"{error.message_vi} ({error.message_en})"
    )
    subject = f"{source}:{seq}"[:40]
    held = select(models.Alert.id).where(
        models.Alert.kind == "feed_rejected", models.Alert.subject_id == subject
    )
    if conn.execute(held).first() is None:
        detail = {
            "source": source,
            "seq": seq,
            "kind": str(kind)[:40],
            "field": error.field,
            "value": value,
            "rule": error.rule,
            "message": message,
        }
        alert(conn, "feed_rejected", None, "feed_event", subject, detail)
        audit(conn, source, "feed.rejected", "feed_event", subject, detail)
    return message
