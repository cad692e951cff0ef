"""What the shared rate limit costs the card check: the per-process limiter against the database's,
side by side in one run, on PostgreSQL (durable, a private cluster) and SQLite.

    .venv/bin/python bench/rate_limit.py --cards 100000 --requests 4000 --rounds 3

1. a register of ``--cards`` cards and persons (bench/exchange.py's synthetic holders);
2. **the limiter alone**: ``allow()`` calls per second in one thread: the per-process bucket;
   the database's for a partner sending at its 2,000/s (a lease of 40 tokens per statement),
   for one at 50/s (a lease of 1: a statement per request), and for a partner flooding past its
   limit (refusals answered from the process's memory);
3. **the card check**: ``ExchangeRuntime.answer_async`` as ``nidb serve`` calls it (on
   PostgreSQL the event-loop path: card read and access log on the loop), 32 requests in
   flight, pre-signed envelopes of random holders, the hospital allowed 2,000 requests per
   second; rounds alternate the two limiters (A B A B …) so drift of the shared machine falls on
   both; the median round of each is compared.

Prints a table and appends a dated section to bench/results/rate_limit.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.exchange import (  # noqa: E402
    GROUPS,
    HOSPITAL,
    _strip,
    load_register,
    person,
    start_cluster,
    stop_cluster,
)
from bench.sections import append_section  # noqa: E402
from nidb.exchange.partners import add_grant, add_partner  # noqa: E402
from nidb.exchange.ratelimit import Limiter, RateLimiter, SharedRateLimiter  # noqa: E402
from nidb.exchange.runtime import ExchangeRuntime  # noqa: E402
from nidb.protocol.client import ExchangeClient  # noqa: E402
from nidb.protocol.keys import SigningKey  # noqa: E402
from nidb.store.db import ensure_schema, make_engine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "rate_limit.md"
RATE = 2000
IN_FLIGHT = 32


def load_sqlite(engine: Engine, cards: int) -> None:
    """The same holders as ``load_register``, inserted (SQLite has no COPY)."""
    year = date.today().year
    persons, health_cards = [], []
    for i in range(cards):
        code, name, born, gender = person(i)
        persons.append(
            {
                "r": f"B{i}",
                "c": code,
                "n": name,
                "b": _strip(name),
                "d": born,
                "y": int(born[:4]),
                "g": gender,
            }
        )
        group, level = GROUPS[i % 8]
        health_cards.append(
            {
                "k": f"{group}{level}{1 + i % 96:02d}{code}",
                "c": code,
                "g": group,
                "l": level,
                "p": f"{1 + i % 96:02d}",
                "f": f"{1 + i % 96:02d}{i % 900 + 1:03d}",
                "a": f"{year}-01-01",
                "z": f"{year}-12-31",
                "s": "active" if i % 50 else "suspended",
            }
        )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO persons (record_id, bhxh_code, full_name, name_base, date_of_birth, "
                "dob_precision, birth_year, gender, verification_status) "
                "VALUES (:r, :c, :n, :b, :d, 'day', :y, :g, 'verified')"
            ),
            persons,
        )
        conn.execute(
            text(
                "INSERT INTO health_cards (card_code, bhxh_code, group_code, benefit_level, "
                "province_code, facility_code, valid_from, valid_to, status) "
                "VALUES (:k, :c, :g, :l, :p, :f, :a, :z, :s)"
            ),
            health_cards,
        )


class Ticking:
    """A clock that moves ``step`` seconds each time it is read: a partner sending at 1/step."""

    def __init__(self, step: float) -> None:
        self.now, self.step = time.time(), step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def limiter_alone(engine: Engine, seconds: float = 2.0) -> dict[str, float]:
    """allow() calls per second in one thread, per limiter and kind of traffic."""
    found: dict[str, float] = {}
    cases: list[tuple[str, Limiter, int]] = [
        ("per process (before), always admitted", RateLimiter(), 10**9),
        (
            "database, a partner at its 2,000/s (a lease of 40: a statement per 40 calls)",
            SharedRateLimiter(engine, Ticking(1 / RATE)),
            RATE,
        ),
        (
            "database, a partner at 50/s (a lease of 1: a statement per call)",
            SharedRateLimiter(engine, Ticking(1.0)),
            50,
        ),
        (
            "database, a partner flooding past its 50/s (refusals from memory)",
            SharedRateLimiter(engine),
            50,
        ),
    ]
    for number, (name, limiter, rate) in enumerate(cases):
        calls, admitted = 0, 0
        partner = f"VN/GOV/BYT/BENCH-{number}"
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            admitted += limiter.allow(partner, rate)
            calls += 1
        elapsed = time.perf_counter() - started
        found[name] = calls / elapsed
        found[name + " share"] = admitted / calls
    return found


async def _round(runtime: ExchangeRuntime, bodies: list[bytes]) -> tuple[float, int]:
    queue = iter(bodies)
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for body in queue:
            reply = await runtime.answer_async("card.check/v1", body)
            ok += reply.status == 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return len(bodies) / (time.perf_counter() - started), ok


async def card_checks(
    engine: Engine, key: SigningKey, args: argparse.Namespace
) -> dict[str, list[tuple[float, int]]]:
    runtime = ExchangeRuntime(engine, SigningKey.generate())
    await runtime.start_async()
    signer = ExchangeClient("http://unused", HOSPITAL, key)
    rng = random.Random(7)
    import orjson

    def signed(n: int) -> list[bytes]:
        out = []
        for _ in range(n):
            code, name, born, gender = person(rng.randrange(args.cards))
            body = {"card_code": code, "full_name": name, "date_of_birth": born, "gender": gender}
            out.append(orjson.dumps(signer.envelope("card.check/v1", "KCB", body)))
        return out

    limiters: dict[str, Limiter] = {
        "per process (before)": RateLimiter(),
        "database (now)": SharedRateLimiter(runtime.reader),
    }
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in limiters}
    try:
        runtime.gate.limiter = limiters["database (now)"]
        await _round(runtime, signed(500))  # warm-up: pools, caches
        for number in range(args.rounds):
            for name, limiter in limiters.items():
                runtime.gate.limiter = limiter
                bodies = signed(args.requests)
                await asyncio.sleep(1.0)  # both limiters start each round with a full bucket
                rps, ok = await _round(runtime, bodies)
                runs[name].append((rps, ok))
                print(f"  round {number + 1}: {name}: {rps:,.0f} req/s, {ok:,} answered 200")
    finally:
        await runtime.stop_async()
        runtime.close()
    return runs


def bench_engine(url: str, args: argparse.Namespace, postgres: bool) -> dict[str, Any]:
    engine = make_engine(url)
    ensure_schema(engine)
    print(f"loading {args.cards:,} cards …")
    if postgres:
        load_register(url, args.cards)
    else:
        load_sqlite(engine, args.cards)
    key = SigningKey.generate()
    add_partner(engine, HOSPITAL, "Bệnh viện (benchmark)", "hospital", key.public_b64, "b", RATE)
    add_grant(engine, HOSPITAL, "card.check/v1", "KCB", "dd", "Luật BHYT", "bench")
    alone = limiter_alone(engine)
    runs = asyncio.run(card_checks(engine, key, args))
    engine.dispose()
    return {"alone": alone, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=4000, help="card checks per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default="postgresql,sqlite")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    work = Path(tempfile.mkdtemp(prefix="nidb-ratelimit-"))
    try:
        for engine_name in args.engines.split(","):
            print(f"== {engine_name}")
            if engine_name == "postgresql":
                cluster = work / "pg"
                url = start_cluster(cluster)
                try:
                    results[engine_name] = bench_engine(url, args, postgres=True)
                finally:
                    stop_cluster(cluster)
            else:
                url = f"sqlite:///{work / 'nidb.sqlite3'}"
                results[engine_name] = bench_engine(url, args, postgres=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write(results, args)


def write(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    load = os.getloadavg()
    lines = [
        "",
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.node()}, "
        f"{os.cpu_count()} CPUs, load average before/after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "",
        f"Command: `python bench/rate_limit.py --cards {args.cards} --requests {args.requests} "
        f"--rounds {args.rounds} --engines {args.engines}`. PostgreSQL: a private durable cluster "
        "(fsync, synchronous commit). The hospital is allowed 2,000 requests per second.",
        "",
        "### The limiter alone (one thread, 2 s each)",
        "",
        "| engine | limiter, traffic | allow() calls/s | µs per call | share admitted |",
        "|---|---|---|---|---|",
    ]
    for engine_name, result in results.items():
        alone = result["alone"]
        for name, value in alone.items():
            if name.endswith(" share"):
                continue
            lines.append(
                f"| {engine_name} | {name} | {value:,.0f} | {1e6 / value:.2f} | "
                f"{alone[name + ' share']:.1%} |"
            )
    lines += [
        "",
        f"### Card checks through the runtime ({args.requests:,} per round, {IN_FLIGHT} in flight, "
        f"{args.rounds} rounds alternating)",
        "",
        "| engine | limiter | req/s per round | median req/s | answered 200 | shared / per process |",
        "|---|---|---|---|---|---|",
    ]
    for engine_name, result in results.items():
        runs = result["runs"]
        medians = {name: statistics.median(r for r, _ in rounds) for name, rounds in runs.items()}
        before = medians["per process (before)"]
        for name, rounds in runs.items():
            ratio = "" if name.startswith("per process") else f"{medians[name] / before:.3f}"
            lines.append(
                f"| {engine_name} | {name} | {', '.join(f'{r:,.0f}' for r, _ in rounds)} | "
                f"{medians[name]:,.0f} | {', '.join(f'{ok:,}' for _, ok in rounds)} | {ratio} |"
            )
    text_out = "\n".join(lines) + "\n"
    print(text_out)
    append_section(
        RESULTS,
        "# The partner rate limit: per process (before) against shared in the database\n",
        text_out,
    )


if __name__ == "__main__":
    main()
