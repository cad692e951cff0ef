"""How the connector survives an unreliable partner: retry policy and circuit breaker.

`RetryPolicy` says how often and how patiently a failed call is retried (exponential backoff
with jitter); `CircuitBreaker` stops calling a service that keeps failing and lets one probe
call through after a cool-down. Both are used by `nidb.connectors.population`'s client.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from nidb.connectors.population_messages import CircuitOpen

__all__ = ["CircuitBreaker", "CircuitState", "RetryPolicy"]


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
