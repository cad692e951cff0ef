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

The messages and errors are defined in `nidb.connectors.population_messages`, the retry policy
and circuit breaker in `nidb.connectors.resilience`; all are importable from here.
Every failure is a `PopulationError`. `PopulationClient` is a blocking façade over the async
client, for scripts and synchronous code.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from types import MappingProxyType, TracebackType
from typing import Any, Self, TypeVar

import httpx

from nidb.connectors.population_messages import (
    MAX_BATCH,
    Candidate,
    Change,
    ChangeKind,
    ChangePage,
    CircuitOpen,
    FieldResult,
    LifeStatus,
    PopulationError,
    PopulationProtocolError,
    PopulationRequestRejected,
    PopulationUnavailable,
    SearchResult,
    VerifiedFields,
    VerifyRequest,
    VerifyResult,
    parse,
    parse_candidate,
    parse_change,
    parse_verify_result,
)
from nidb.connectors.resilience import CircuitBreaker, CircuitState, RetryPolicy
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

_T = TypeVar("_T")


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
        return parse("verify", parse_verify_result, body)

    async def verify_batch(self, requests: Sequence[VerifyRequest]) -> list[VerifyResult]:
        """Verify up to 1,000 people in one call; the answers are in the order asked."""
        if len(requests) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} requests, not {len(requests)}")
        if not requests:
            return []
        body = await self._call(
            "POST", "/v1/verify/batch", json={"requests": [r.to_json() for r in requests]}
        )
        results = parse(
            "batch verify", lambda b: [parse_verify_result(i) for i in b["results"]], body
        )
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
        return parse(
            "search",
            lambda b: SearchResult(
                tuple(parse_candidate(c) for c in b["candidates"]), bool(b["truncated"])
            ),
            body,
        )

    async def changes(self, after: str | None = None, limit: int = 100) -> ChangePage:
        """Changes after a cursor (from the start when None), oldest first, at most `limit`."""
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        body = await self._call("GET", "/v1/changes", params=params)
        return parse(
            "changes",
            lambda b: ChangePage(
                tuple(parse_change(c) for c in b["changes"]), str(b["next_cursor"])
            ),
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
                    f"{status} {response.reason_phrase}",
                    request=response.request,
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
