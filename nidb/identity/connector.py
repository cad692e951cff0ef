"""Connector to the national population database (CSDLQG về dân cư) for Đề án 06 checks.

`AsyncPopulationClient` speaks the service's HTTP contract (the real one, or nidb's stand-in in
`nidb.sim.population`): field-by-field verification, one at a time or in batches of up to
1,000, demographic search (tra cứu) and the change feed. It is built for an unreliable partner:

- timeouts for connecting and for reading;
- retries with exponential backoff and jitter on 5xx, 429, timeouts and broken connections,
  never on other 4xx answers (the request itself is wrong, sending it again will not help);
- a circuit breaker that stops calling a service that keeps failing, and lets one probe call
  through after a cool-down;
- `verify_many`, which splits any number of requests into batches sent concurrently (with a
  limit) and returns the answers in input order.

Every failure is a `PopulationError`: `PopulationUnavailable` (retries exhausted; `cause` holds
the last error), `CircuitOpen` (a kind of unavailability), `PopulationRequestRejected` (a 4xx
answer) or `PopulationProtocolError` (an answer outside the contract). `PopulationClient` is a
blocking façade over the async client, for scripts and synchronous code.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType, TracebackType
from typing import Any, Self, TypeVar

import httpx

from nidb.domain.gender import Gender

__all__ = [
    "MAX_BATCH",
    "AsyncPopulationClient",
    "Candidate",
    "Change",
    "ChangeKind",
    "ChangePage",
    "CircuitBreaker",
    "CircuitOpen",
    "CircuitState",
    "FieldResult",
    "LifeStatus",
    "PopulationClient",
    "PopulationError",
    "PopulationProtocolError",
    "PopulationRequestRejected",
    "PopulationUnavailable",
    "RetryPolicy",
    "SearchResult",
    "VerifiedFields",
    "VerifyRequest",
    "VerifyResult",
]

MAX_BATCH = 1000
"""The most verifications the service takes in one call."""

_T = TypeVar("_T")


# --- errors ---------------------------------------------------------------------------------


class PopulationError(Exception):
    """Any failure to get an answer from the population database."""


class PopulationUnavailable(PopulationError):
    """The service could not answer: retries are exhausted (or the circuit is open).

    `cause` is the last error met (an httpx exception: a timeout, a refused connection, or an
    `httpx.HTTPStatusError` for a 5xx or 429 answer); `attempts` how many calls were made.
    """

    def __init__(self, message: str, cause: BaseException | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.cause = cause
        self.attempts = attempts


class CircuitOpen(PopulationUnavailable):
    """The circuit breaker is open: the service failed repeatedly and is left alone for now.

    `retry_after` is the number of seconds until a probe call will be let through.
    """

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"population service circuit is open; next probe in {retry_after:.1f} s", None, 0
        )
        self.retry_after = retry_after


class PopulationRequestRejected(PopulationError):
    """The service refused the request (a 4xx answer other than 429); retrying will not help.

    `code` and `message` come from the service's error body (`message` is Vietnamese, then
    English in brackets); `details` lists the fields at fault when the service gives them.
    """

    def __init__(
        self, status_code: int, code: str, message: str, details: tuple[Mapping[str, str], ...]
    ) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details


class PopulationProtocolError(PopulationError):
    """The service answered something the contract does not allow."""


# --- values ---------------------------------------------------------------------------------


class FieldResult(StrEnum):
    """The service's verdict on one field."""

    MATCH = "match"
    MISMATCH = "mismatch"
    PARTIAL = "partial"  # dates only: the less precise one (e.g. year only) agrees


class LifeStatus(StrEnum):
    """Whether the registry holds the person as alive or dead."""

    ALIVE = "alive"
    DEAD = "dead"


class ChangeKind(StrEnum):
    """What a change-feed entry records."""

    DEATH = "death"
    NAME_CHANGE = "name_change"
    ID_CORRECTION = "id_correction"


@dataclass(frozen=True, slots=True)
class VerifyRequest:
    """What to check about one person (xác thực thông tin công dân).

    `date_of_birth` is `YYYY-MM-DD`, `YYYY-MM` or `YYYY`; `gender` None leaves it unchecked.
    """

    personal_id: str
    full_name: str
    date_of_birth: str
    gender: Gender | None = None

    def to_json(self) -> dict[str, Any]:
        """The request as the service's JSON body."""
        return {
            "personal_id": self.personal_id,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth,
            "gender": None if self.gender is None else self.gender.value,
        }


@dataclass(frozen=True, slots=True)
class VerifiedFields:
    """The verdict per field; `gender` is None when it was not asked."""

    full_name: FieldResult
    date_of_birth: FieldResult
    gender: FieldResult | None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The service's answer about one personal ID.

    When `found` is False, `fields`, `status` and `death_date` are None, and `superseded_by`
    holds the corrected personal ID if this one was replaced.
    """

    personal_id: str
    found: bool
    fields: VerifiedFields | None
    status: LifeStatus | None
    death_date: date | None
    superseded_by: str | None = None

    @property
    def all_match(self) -> bool:
        """Found, and every field asked about matches exactly."""
        fields = self.fields
        return (
            fields is not None
            and fields.full_name is FieldResult.MATCH
            and fields.date_of_birth is FieldResult.MATCH
            and fields.gender in (None, FieldResult.MATCH)
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person found by demographic search."""

    personal_id: str
    full_name: str
    date_of_birth: str
    gender: Gender
    birth_province: str | None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Search answer: the closest candidates first; `truncated` when more matched."""

    candidates: tuple[Candidate, ...]
    truncated: bool


@dataclass(frozen=True, slots=True)
class Change:
    """One change-feed entry. `data` by kind: death `death_date`; name_change `full_name`;
    id_correction `new_personal_id` (and `personal_id` is the old one)."""

    seq: int
    kind: ChangeKind
    personal_id: str
    data: Mapping[str, str]
    at: datetime


@dataclass(frozen=True, slots=True)
class ChangePage:
    """A page of the change feed; read the next one with `after=next_cursor`."""

    changes: tuple[Change, ...]
    next_cursor: str


# Dict look-ups instead of Enum(value) calls: answers are parsed by the hundred thousand. An
# unknown word raises KeyError, which _parse reports as a protocol error.
_FIELD_RESULTS = {r.value: r for r in FieldResult}
_STATUSES = {s.value: s for s in LifeStatus}


def _verify_result(item: Any) -> VerifyResult:
    fields = item["fields"]
    status = item["status"]
    death = item["death_date"]
    gender = None if fields is None else fields["gender"]
    return VerifyResult(
        item["personal_id"],
        item["found"] is True,
        None
        if fields is None
        else VerifiedFields(
            _FIELD_RESULTS[fields["full_name"]],
            _FIELD_RESULTS[fields["date_of_birth"]],
            None if gender is None else _FIELD_RESULTS[gender],
        ),
        None if status is None else _STATUSES[status],
        None if death is None else date.fromisoformat(death),
        item.get("superseded_by"),
    )


def _candidate(item: Any) -> Candidate:
    return Candidate(
        item["personal_id"],
        item["full_name"],
        item["date_of_birth"],
        Gender(item["gender"]),
        item["birth_province"],
    )


def _change(item: Any) -> Change:
    return Change(
        int(item["seq"]),
        ChangeKind(item["kind"]),
        item["personal_id"],
        MappingProxyType({str(k): str(v) for k, v in item["data"].items()}),
        datetime.fromisoformat(item["at"]),
    )


def _parse(what: str, parse: Callable[[Any], _T], body: Any) -> _T:
    try:
        return parse(body)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PopulationProtocolError(f"unexpected {what} answer: {error!r}") from error


# --- resilience -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a failed call.

    `retries` is the number of calls after the first. The wait before retry n (0-based) is
    drawn from [step/2, step] with step = min(max_backoff, backoff * 2**n) ("equal jitter":
    growing, but spread out so that many clients do not retry in step).
    """

    retries: int = 3
    backoff: float = 0.1
    max_backoff: float = 5.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("retries and backoff times must not be negative")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (0 for the first retry)."""
        step = min(self.max_backoff, self.backoff * 2.0**retry)
        return step / 2 + rng.uniform(0, step / 2)


class CircuitState(StrEnum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once with CircuitOpen
    HALF_OPEN = "half_open"  # the cool-down is over: the next call is a probe


class CircuitBreaker:
    """Stops calls to a service after `failure_threshold` consecutive failed calls.

    A failed call is one that raised PopulationUnavailable, i.e. after its retries. Once open,
    calls fail at once with CircuitOpen for `reset_timeout` seconds; then one probe call goes
    through (with no retries) while the others still fail fast. The probe's success closes the
    circuit, its failure opens it for another `reset_timeout`. `clock` is injectable for tests.
    Meant for one event loop (not thread-safe); share one breaker among clients of one service.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_timeout < 0:
            raise ValueError("failure_threshold must be >= 1 and reset_timeout >= 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> CircuitState:
        """The state now (an open circuit whose cool-down is over reports HALF_OPEN)."""
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._probing or self._clock() - self._opened_at >= self.reset_timeout:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    @property
    def consecutive_failures(self) -> int:
        """Failed calls since the last success."""
        return self._failures

    def before_call(self) -> bool:
        """Admit a call or raise CircuitOpen; True when the admitted call is the probe."""
        if self._opened_at is None:
            return False
        waited = self._clock() - self._opened_at
        if self._probing or waited < self.reset_timeout:
            raise CircuitOpen(max(0.0, self.reset_timeout - waited))
        self._probing = True
        return True

    def record_success(self) -> None:
        """The service answered: close the circuit."""
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        """A call failed: count it, and open the circuit at the threshold or on a failed probe."""
        self._failures += 1
        if self._probing or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        self._probing = False

    def record_abandoned(self, probe: bool) -> None:
        """A call ended without a verdict (cancelled): free the probe slot if it held it."""
        if probe:
            self._probing = False


# --- the client -----------------------------------------------------------------------------

_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _retry_after(response: httpx.Response) -> float:
    """The wait a 429/503 answer asks for, in seconds (0 when absent or not a number)."""
    try:
        return max(0.0, float(response.headers.get("retry-after", "0")))
    except ValueError:
        return 0.0


def _rejected(response: httpx.Response) -> PopulationRequestRejected:
    try:
        body = response.json()
        code, message = str(body["code"]), str(body["message"])
        details = tuple(MappingProxyType(dict(d)) for d in body.get("details") or ())
    except (ValueError, KeyError, TypeError):
        code, message, details = "HTTP_ERROR", response.reason_phrase, ()
    return PopulationRequestRejected(response.status_code, code, message, details)


class AsyncPopulationClient:
    """Async client of the population database's verification service.

    `base_url` is the service root (e.g. `http://127.0.0.1:8001`); `timeout` bounds each read
    and `connect_timeout` each connection attempt, in seconds; `retry` sets retries and
    backoff; `breaker` may be shared by several clients of one service; `max_connections`
    caps the connection pool; `headers` go on every call (credentials for a real service).
    `sleep` and `rng` exist so that tests can observe the backoff without waiting.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        max_connections: int = 16,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers=dict(headers or {}),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- the service's operations -----------------------------------------------------------

    async def verify(self, request: VerifyRequest) -> VerifyResult:
        """Verify one person's fields against the registry."""
        body = await self._call("POST", "/v1/verify", json=request.to_json())
        return _parse("verify", _verify_result, body)

    async def verify_batch(self, requests: Sequence[VerifyRequest]) -> list[VerifyResult]:
        """Verify up to 1,000 people in one call; the answers are in the order asked."""
        if len(requests) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} requests, not {len(requests)}")
        if not requests:
            return []
        body = await self._call(
            "POST", "/v1/verify/batch", json={"requests": [r.to_json() for r in requests]}
        )
        results = _parse("batch verify", lambda b: [_verify_result(i) for i in b["results"]], body)
        if len(results) != len(requests) or any(
            result.personal_id != request.personal_id
            for result, request in zip(results, requests, strict=True)
        ):
            raise PopulationProtocolError("batch answers do not line up with the requests")
        return results

    async def verify_many(
        self, requests: Iterable[VerifyRequest], batch_size: int = 500, concurrency: int = 4
    ) -> list[VerifyResult]:
        """Verify any number of people: batches of `batch_size`, `concurrency` at a time.

        Returns the answers in input order. If a batch fails for good, the others are
        cancelled and its error is raised (verification is read-only: re-running is safe).
        """
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be within 1..{MAX_BATCH}, not {batch_size}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        items = list(requests)
        limit = asyncio.Semaphore(concurrency)

        async def run(batch: list[VerifyRequest]) -> list[VerifyResult]:
            async with limit:
                return await self.verify_batch(batch)

        tasks = [
            asyncio.ensure_future(run(items[start : start + batch_size]))
            for start in range(0, len(items), batch_size)
        ]
        try:
            parts = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [result for part in parts for result in part]

    async def search(
        self,
        full_name: str,
        date_of_birth: str,
        *,
        gender: Gender | None = None,
        birth_province: str | None = None,
    ) -> SearchResult:
        """Find people by name (without diacritics) and birth year (tra cứu): at most 10."""
        query: dict[str, Any] = {"full_name": full_name, "date_of_birth": date_of_birth}
        if gender is not None:
            query["gender"] = gender.value
        if birth_province is not None:
            query["birth_province"] = birth_province
        body = await self._call("POST", "/v1/search", json=query)
        return _parse(
            "search",
            lambda b: SearchResult(
                tuple(_candidate(c) for c in b["candidates"]), bool(b["truncated"])
            ),
            body,
        )

    async def changes(self, after: str | None = None, limit: int = 100) -> ChangePage:
        """Changes after a cursor (from the start when None), oldest first, at most `limit`."""
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        body = await self._call("GET", "/v1/changes", params=params)
        return _parse(
            "changes",
            lambda b: ChangePage(tuple(_change(c) for c in b["changes"]), str(b["next_cursor"])),
            body,
        )

    async def healthy(self) -> bool:
        """Whether the service answers its health check now (one call, no retries)."""
        try:
            response = await self._http.get("/healthz")
        except httpx.HTTPError:
            return False
        return response.is_success

    # --- resilience -------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """One logical call through the circuit breaker, with retries; the JSON answer."""
        probe = self.breaker.before_call()
        attempts = 1 if probe else self.retry.retries + 1
        try:
            body = await self._attempts(method, path, json, params, attempts)
        except PopulationUnavailable:
            self.breaker.record_failure()
            raise
        except PopulationError:
            self.breaker.record_success()  # it answered: the service is up
            raise
        except BaseException:
            self.breaker.record_abandoned(probe)
            raise
        self.breaker.record_success()
        return body

    async def _attempts(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, Any] | None,
        attempts: int,
    ) -> Any:
        last: BaseException | None = None
        asked_wait = 0.0  # what the service asked for in Retry-After
        for attempt in range(attempts):
            if attempt:
                await self._sleep(max(self.retry.delay(attempt - 1, self._rng), asked_wait))
            try:
                response = await self._http.request(method, path, json=json, params=params)
            except _RETRYABLE_ERRORS as error:
                last, asked_wait = error, 0.0
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                last = httpx.HTTPStatusError(
                    f"{status} {response.reason_phrase}", request=response.request,
                    response=response,
                )
                asked_wait = min(_retry_after(response), self.retry.max_backoff)
                continue
            if status >= 400:
                raise _rejected(response)
            try:
                return response.json()
            except ValueError as error:
                raise PopulationProtocolError(f"{method} {path}: answer is not JSON") from error
        raise PopulationUnavailable(
            f"{method} {path} failed after {attempts} attempt(s): {last!r}", last, attempts
        ) from last


class PopulationClient:
    """Blocking façade over AsyncPopulationClient, for scripts and synchronous code.

    Runs the async client on a private event loop in a daemon thread, so it can be used from
    any thread (also one that runs its own event loop). Takes the same arguments; close it
    (or use it as a context manager) to stop the thread.
    """

    def __init__(self, base_url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="population-client", daemon=True
        )
        self._thread.start()
        self.client = AsyncPopulationClient(base_url, **options)

    def _run(self, call: Coroutine[Any, Any, _T]) -> _T:
        future = asyncio.run_coroutine_threadsafe(call, self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def breaker(self) -> CircuitBreaker:
        """The client's circuit breaker."""
        return self.client.breaker

    def verify(self, request: VerifyRequest) -> VerifyResult:
        """See AsyncPopulationClient.verify."""
        return self._run(self.client.verify(request))

    def verify_batch(self, requests: Sequence[VerifyRequest]) -> list[VerifyResult]:
        """See AsyncPopulationClient.verify_batch."""
        return self._run(self.client.verify_batch(requests))

    def verify_many(
        self, requests: Iterable[VerifyRequest], batch_size: int = 500, concurrency: int = 4
    ) -> list[VerifyResult]:
        """See AsyncPopulationClient.verify_many."""
        return self._run(self.client.verify_many(requests, batch_size, concurrency))

    def search(
        self,
        full_name: str,
        date_of_birth: str,
        *,
        gender: Gender | None = None,
        birth_province: str | None = None,
    ) -> SearchResult:
        """See AsyncPopulationClient.search."""
        return self._run(
            self.client.search(
                full_name, date_of_birth, gender=gender, birth_province=birth_province
            )
        )

    def changes(self, after: str | None = None, limit: int = 100) -> ChangePage:
        """See AsyncPopulationClient.changes."""
        return self._run(self.client.changes(after, limit))

    def healthy(self) -> bool:
        """See AsyncPopulationClient.healthy."""
        return self._run(self.client.healthy())

    def close(self) -> None:
        """Close the connections and stop the loop thread."""
        if not self._loop.is_closed():
            self._run(self.client.aclose())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
