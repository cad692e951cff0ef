"""A partner's rate limit is one budget in the database, however many processes draw on it.

Two `SharedRateLimiter`s on one database stand for two worker processes (or two machines);
their clock is set by hand so the arithmetic of the bucket can be checked exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from nidb.exchange.ratelimit import (
    LEASE_SECONDS,
    RateLimiter,
    SharedRateLimiter,
    lease_size,
)
from nidb.store.db import make_engine
from nidb.store.models_access import PartnerRateBucket

PARTNER = "VN/GOV/BYT/BV-01001"
OTHER = "VN/GOV/BYT/BV-79001"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def workers(engine: Engine, clock: Clock, n: int = 2) -> list[SharedRateLimiter]:
    return [SharedRateLimiter(engine, clock) for _ in range(n)]


def admitted(limiters: list[SharedRateLimiter], requests: int, rate: int) -> int:
    """Requests spread round-robin over the limiters, all at the same instant."""
    return sum(limiters[i % len(limiters)].allow(PARTNER, rate) for i in range(requests))


def test_two_processes_share_one_partners_budget(engine: Engine) -> None:
    clock = Clock()
    assert admitted(workers(engine, clock), 40, rate=5) == 5
    # each process on its own would have admitted 5: the old limit doubled with two workers
    own = [RateLimiter(clock), RateLimiter(clock)]
    assert sum(own[i % 2].allow(PARTNER, 5) for i in range(40)) == 10


def test_the_bucket_refills_at_the_rate_and_holds_at_most_one_second(engine: Engine) -> None:
    clock = Clock()
    limiters = workers(engine, clock)
    assert admitted(limiters, 40, rate=5) == 5
    clock.now += 0.4  # two tokens back
    assert admitted(limiters, 40, rate=5) == 2
    clock.now += 60  # an idle minute refills one second's worth, no more
    assert admitted(limiters, 40, rate=5) == 5


def test_partners_have_separate_budgets(engine: Engine) -> None:
    clock = Clock()
    limiter = SharedRateLimiter(engine, clock)
    assert sum(limiter.allow(PARTNER, 3) for _ in range(10)) == 3
    assert sum(limiter.allow(OTHER, 3) for _ in range(10)) == 3


def test_a_busy_partner_takes_leases_and_never_exceeds_its_rate(engine: Engine) -> None:
    clock = Clock()
    limiters = workers(engine, clock, n=3)
    statements = count_statements(engine)
    rate = 1000
    got = admitted(limiters, 3000, rate)
    # never more than the rate; less by at most the leases the other workers still hold
    assert rate - 2 * lease_size(rate) <= got <= rate
    assert statements["n"] <= rate // lease_size(rate) + 3 + 1  # ~a statement per lease
    clock.now += LEASE_SECONDS + 0.001  # unspent leases lapse; the bucket refilled 0.201 s
    assert admitted(limiters, 3000, rate) <= int(rate * (LEASE_SECONDS + 0.001)) + 1


def test_refusals_do_not_reach_the_database_until_a_token_is_due(engine: Engine) -> None:
    clock = Clock()
    limiter = SharedRateLimiter(engine, clock)
    assert sum(limiter.allow(PARTNER, 2) for _ in range(2)) == 2
    statements = count_statements(engine)
    assert not any(limiter.allow(PARTNER, 2) for _ in range(100))
    assert statements["n"] == 1  # the first refusal asked; the other 99 knew the answer
    clock.now += 0.5  # the next token is due
    assert limiter.allow(PARTNER, 2)


def test_a_clock_behind_the_buckets_does_not_refill_it(engine: Engine) -> None:
    ahead, behind = Clock(), Clock()
    behind.now = T0 - 30  # a server whose clock runs 30 s late
    assert admitted([SharedRateLimiter(engine, ahead)], 10, rate=4) == 4
    assert admitted([SharedRateLimiter(engine, behind)], 10, rate=4) == 0
    with engine.connect() as conn:
        bucket = conn.execute(select(PartnerRateBucket.__table__)).one()
    assert bucket.refilled_at == T0 and bucket.tokens < 1


def test_a_lowered_rate_applies_to_the_tokens_already_in_the_bucket(engine: Engine) -> None:
    clock = Clock()
    limiter = SharedRateLimiter(engine, clock)
    assert limiter.allow(PARTNER, 100)
    limiter.reset()  # the directory was refreshed with the partner's new rate
    clock.now += 0.01
    assert admitted([limiter], 10, rate=2) == 2


def test_without_the_database_a_process_falls_back_to_its_own_bucket(tmp_path: Path) -> None:
    clock = Clock()
    gone = make_engine(f"sqlite:///{tmp_path / 'absent' / 'no.sqlite3'}")  # no such table
    limiter = SharedRateLimiter(gone, clock)
    assert sum(limiter.allow(PARTNER, 4) for _ in range(10)) == 4
    assert limiter.fallbacks == 10
    gone.dispose()


@pytest.mark.parametrize("rate", [0, -1])
def test_a_partner_without_a_rate_is_refused(engine: Engine, rate: int) -> None:
    assert not SharedRateLimiter(engine, Clock()).allow(PARTNER, rate)


def count_statements(engine: Engine) -> dict[str, int]:
    seen = {"n": 0}

    def count(*_: Any) -> None:
        seen["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    return seen
