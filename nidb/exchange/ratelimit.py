"""A partner's rate limit: ``rate`` requests per second with a one-second burst, for one process
(`RateLimiter`) or for every process on the database (`SharedRateLimiter`).

The shared limiter keeps one token bucket per partner in the database (``partner_rate_buckets``)
and takes tokens from it by one atomic statement, ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` (PostgreSQL and SQLite alike): the row refills from the time elapsed since it was
last touched, hands out what is asked if it holds that much, and says what is left. So however
many worker processes or machines serve partners, together they never admit more than the
partner's ``rate`` per second (plus the one-second burst), as one process did before.

Cost: a round trip per request would make the database the card check's bottleneck, so a
process takes a **lease** of several tokens at once (``rate ÷ LEASES_PER_SECOND``, at least 1)
and spends them locally; a lease not spent within ``LEASE_SECONDS`` lapses (a lapsed token is
never returned, so an idle worker cannot hoard the budget for a later burst). A partner at
2,000 requests per second costs about 50 short statements per second, whatever the number of
workers. The price: with N workers busy for the same partner, up to N − 1 leases may lapse
unspent, so the partner may get slightly *less* than its rate (never more). A refusal also
tells the process how long the bucket needs to refill one token; until then it refuses
locally, so a partner flooding past its limit does not turn into database writes.

Should the statement fail (the database unreachable for a moment), the process falls back to
its own bucket for that request, as before the shared limit: the partner is limited per
process rather than refused or answered with a server error.

Time is the servers' clock (``time.time()``), kept by NTP: a server whose clock runs behind
never refills a bucket backwards (elapsed time is floored at zero).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

LEASES_PER_SECOND = 50
"""A lease is 1/50 of the partner's rate: about 50 database statements per second for a busy
partner (bench/results/rate_limit.md), and at most 2 % of the rate lapsing per extra worker."""

LEASE_SECONDS = 0.2
"""A leased token not spent within this lapses: a lease is for the burst at hand."""

_TAKE = text(
    """
    INSERT INTO partner_rate_buckets (partner_code, tokens, refilled_at, granted)
    VALUES (:partner, :rate - :lease, :now, :lease)
    ON CONFLICT (partner_code) DO UPDATE SET
      granted = CASE
        WHEN {refilled} >= :lease THEN :lease
        WHEN {refilled} >= 1 THEN 1
        ELSE 0 END,
      tokens = {refilled} - CASE
        WHEN {refilled} >= :lease THEN :lease
        WHEN {refilled} >= 1 THEN 1
        ELSE 0 END,
      refilled_at = CASE WHEN :now > partner_rate_buckets.refilled_at THEN :now
        ELSE partner_rate_buckets.refilled_at END
    RETURNING granted, tokens
    """.format(
        refilled="(CASE WHEN {sum} > :rate THEN :rate ELSE {sum} END)".format(
            sum="(partner_rate_buckets.tokens + CASE "
            "WHEN :now > partner_rate_buckets.refilled_at "
            "THEN (:now - partner_rate_buckets.refilled_at) * :rate ELSE 0 END)"
        )
    )
)


class Limiter(Protocol):
    """What the gate asks: may ``partner`` (limited to ``rate`` per second) send one more?"""

    def allow(self, partner: str, rate: int) -> bool: ...

    def reset(self) -> None:
        """Forget what this process holds (a changed rate takes effect at once)."""


class RateLimiter:
    """A token bucket per partner in this process's memory (one process: tests, benchmarks)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, partner: str, rate: int) -> bool:
        """Take one token of ``partner``'s bucket if it has one."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(partner, (float(rate), now))
            tokens = min(float(rate), tokens + (now - last) * rate)
            allowed = tokens >= 1.0
            self._buckets[partner] = (tokens - 1.0 if allowed else tokens, now)
        return allowed

    def reset(self) -> None:
        """Forget every bucket (a partner's next request finds a full one)."""
        with self._lock:
            self._buckets.clear()


def lease_size(rate: int) -> int:
    """How many tokens a process takes from the shared bucket at once for a partner at ``rate``."""
    return max(1, rate // LEASES_PER_SECOND)


class SharedRateLimiter:
    """A token bucket per partner in the database, shared by every process (module docstring)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        # partner → (leased tokens left, lapse time), or (-1, time before which we refuse locally)
        self._leases: dict[str, tuple[int, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._fallback = RateLimiter(clock)
        self.fallbacks = 0
        """Requests limited by this process's own bucket because the database did not answer."""

    def allow(self, partner: str, rate: int) -> bool:
        """Spend a leased token, or take a new lease from the database; False if it has none."""
        if rate <= 0:
            return False
        with self._lock:
            lock = self._locks.setdefault(partner, threading.Lock())
        with lock:  # one partner's lease taken at a time; other partners are not held up
            now = self._clock()
            left, until = self._leases.get(partner, (0, 0.0))
            if now < until:
                if left > 0:
                    self._leases[partner] = (left - 1, until)
                    return True
                if left < 0:
                    return False  # refused lately and the bucket has not refilled a token since
            try:
                granted, tokens = self._take(partner, rate, lease_size(rate), now)
            except SQLAlchemyError:
                self.fallbacks += 1
                return self._fallback.allow(partner, rate)
            if granted == 0:
                self._leases[partner] = (-1, now + max(0.0, 1.0 - tokens) / rate)
                return False
            self._leases[partner] = (granted - 1, now + LEASE_SECONDS)
            return True

    def reset(self) -> None:
        """Forget this process's leases (the database's buckets stay)."""
        with self._lock:
            self._leases.clear()
            self._locks.clear()
        self._fallback.reset()

    def _take(self, partner: str, rate: int, lease: int, now: float) -> tuple[int, float]:
        with self._engine.begin() as conn:
            row = conn.execute(
                _TAKE, {"partner": partner, "rate": rate, "lease": lease, "now": now}
            ).one()
        return int(row.granted), float(row.tokens)
