"""CPU per signed card check, without HTTP: what nidb's runtime and PostgreSQL spend on one.

The soak (bench/soak.py) judges the rate, which a machine shared with other work cannot give;
this measures the two numbers the rate depends on, in CPU time, which the other work changes
little: the runtime's (gate, signature check, card look-up, verdict, signed reply, access-log
entry) in this process, and PostgreSQL's (its backends' ticks from /proc). ``--concurrency``
checks are in flight at once on one event loop, as in one ``nidb serve`` worker behind
``--connections`` clients, on uvloop as `nidb serve` runs; envelopes are signed beforehand
(not counted).

    python bench/cardcheck_cpu.py --requests 20000 --cards 100000 --work /tmp/nidb-bench

Run it with ``PYTHONPATH`` at another checkout to compare two versions on the same cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.exchange import HOSPITAL, person, prepare, start_cluster, stop_cluster  # noqa: E402
from bench.soak import TICK, descendants, kib_fields  # noqa: E402
from nidb.accesslog import count_entries  # noqa: E402
from nidb.exchange.runtime import ExchangeRuntime  # noqa: E402
from nidb.protocol.client import ExchangeClient  # noqa: E402
from nidb.protocol.keys import SigningKey  # noqa: E402


def backend_ticks(postmaster: int) -> int:
    return sum(kib_fields(pid).get("ticks", 0) for pid in descendants(postmaster)[1:])


async def drive(runtime: ExchangeRuntime, envelopes: list[bytes], concurrency: int) -> None:
    pending = iter(envelopes)

    async def client() -> None:
        for raw in pending:
            reply = await runtime.answer_async("card.check/v1", raw)
            assert reply.status == 200, reply.content[:300]

    await asyncio.gather(*(client() for _ in range(concurrency)))


Run = Callable[[str, Path, argparse.Namespace], None]


def cli(description: str | None, run: Run, requests: int) -> None:
    """The card-check CPU benches' options and their private cluster (the register of
    ``--cards`` cards that bench/exchange.py and soak.py share), around ``run``."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--warm", type=int, default=2_000, help="checks before measuring")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "nidb-bench")
    args = parser.parse_args()
    folder = args.work / f"pg-exchange-{args.cards}"  # shared with bench/exchange.py, soak.py
    url = start_cluster(folder)
    try:
        run(url, folder, args)
    finally:
        stop_cluster(folder)


def main() -> None:
    cli(__doc__, run, requests=20_000)


def run(url: str, folder: Path, args: argparse.Namespace) -> None:
    engine, key, _, _ = prepare(url, args.cards)
    postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    client = ExchangeClient("http://unused.invalid", HOSPITAL, key)
    rng = random.Random(7)
    envelopes = []
    for _ in range(args.warm + args.requests):
        code, holder, born, gender = person(rng.randrange(args.cards))
        body = {"card_code": code, "full_name": holder, "date_of_birth": born, "gender": gender}
        envelope = client.envelope("card.check/v1", "KCB", body)
        envelopes.append(json.dumps(envelope, ensure_ascii=False).encode())
    runtime = ExchangeRuntime(engine, SigningKey.load_or_create(args.work / "cpu-bench-key.json"))

    async def measured() -> tuple[float, float, float]:
        await runtime.start_async()
        try:
            await drive(runtime, envelopes[: args.warm], args.concurrency)
            pg_before, cpu_before, wall_before = (
                backend_ticks(postmaster),
                time.process_time(),
                time.perf_counter(),
            )
            await drive(runtime, envelopes[args.warm :], args.concurrency)
            return (
                time.process_time() - cpu_before,
                (backend_ticks(postmaster) - pg_before) / TICK,
                time.perf_counter() - wall_before,
            )
        finally:
            await runtime.stop_async()

    import uvloop  # what uvicorn runs nidb serve on (uvicorn[standard])

    cpu, pg, wall = uvloop.run(measured())
    runtime.close()
    logged = count_entries(engine)
    engine.dispose()
    assert logged == args.warm + args.requests, (logged, args.warm + args.requests)
    n = args.requests
    print(
        f"{n:,} card checks, {args.concurrency} in flight, {wall:.1f} s: runtime "
        f"{cpu * 1000 / n:.3f} ms CPU per check, PostgreSQL {pg * 1000 / n:.3f} ms; "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
