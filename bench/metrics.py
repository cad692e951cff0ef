"""What watching costs: the request middleware per request, and a ``/metrics`` scrape.

    python bench/metrics.py [--requests 20000] [--deliveries 200000] [--runs 10000]
        [--engines sqlite,postgresql]

1. **Per request.** `nidb.api.observe.Observe` (request id, two metric updates, one JSON log
   line handled by the serve configuration into /dev/null) in front of a trivial ASGI app,
   against the bare app, ``--requests`` times on one event loop: CPU microseconds per request
   (process time, not wall time: the machine is shared).
2. **Per scrape.** `nidb.api.metrics.exposition` over a register holding ``--deliveries``
   webhook deliveries (10 % pending, 1 % dead; events fanned out except 5 %), ``--runs`` batch
   runs and 3 feed cursors; median and worst of 20 scrapes, per engine (PostgreSQL: a private
   cluster from scripts/pg-cluster.sh, stopped at the end).

Prints a table and appends it to bench/results/metrics.md with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "metrics.md"
PG = ROOT / "scripts" / "pg-cluster.sh"


async def _plain(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def per_request(requests: int) -> tuple[float, float]:
    """CPU microseconds per request: bare app, and behind Observe (warmed up first)."""
    from nidb.api.logs import logging_config
    from nidb.api.observe import Observe

    config = logging_config("INFO")
    config["handlers"]["stderr"] = {
        "class": "logging.FileHandler",
        "filename": os.devnull,
        "formatter": "json",
        "filters": ["request_id"],
    }
    logging.config.dictConfig(config)
    observed = Observe(_plain)  # type: ignore[arg-type]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def run(app: Any) -> float:
        started = time.process_time()  # CPU of this process: the machine is shared
        for _ in range(requests):
            scope = {"type": "http", "method": "GET", "path": "/healthz", "headers": []}
            await app(scope, receive, send)
        return (time.process_time() - started) / requests * 1e6

    asyncio.run(run(observed))  # warm: imports, labelled children, the log file
    bare = asyncio.run(run(_plain))
    watched = asyncio.run(run(observed))
    logging.getLogger().handlers.clear()
    return bare, watched


def fill(url: str, deliveries: int, runs: int) -> None:
    """The backlog a scrape counts."""
    from sqlalchemy import insert

    from nidb.exchange.partners import add_partner
    from nidb.feeds.cursors import advance_cursor
    from nidb.protocol.keys import SigningKey
    from nidb.store import models
    from nidb.store.db import ensure_schema, make_engine
    from nidb.store.models_ops import BatchRun

    engine = make_engine(url)
    ensure_schema(engine)
    add_partner(engine, "VN/GOV/BCA/C06", "Bộ Công an", "population",
                SigningKey.generate().public_b64, "bench")  # fmt: skip
    now = datetime.now(UTC)
    with engine.begin() as conn:
        subscription = conn.execute(
            insert(models.Subscription)
            .values(partner_code="VN/GOV/BCA/C06", topic="*", url="http://x", created_by="b")
            .returning(models.Subscription.id)
        ).scalar_one()
        chunk = 20_000
        for start in range(0, deliveries, chunk):
            ids = range(start, min(start + chunk, deliveries))
            conn.execute(
                insert(models.OutboxEvent),
                [
                    {
                        "id": i + 1,
                        "topic": "identity.linked",
                        "subject_key": f"person:{i}",
                        "payload": {},
                        "dispatched_at": None if i % 20 == 0 else now,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(models.Delivery),
                [
                    {
                        "subscription_id": subscription,
                        "event_id": i + 1,
                        "subject_key": f"person:{i}",
                        "next_attempt_at": now,
                        "status": "dead"
                        if i % 100 == 0
                        else "pending"
                        if i % 10 == 1
                        else "delivered",
                    }
                    for i in ids
                ],
            )
        for source in ("population", "business", "molisa"):
            advance_cursor(conn, source, "c", 1000)
        conn.execute(
            insert(BatchRun),
            [
                {
                    "kind": ("import", "verify", "match")[i % 3],
                    "started_at": now,
                    "finished_at": now,
                    "duration_seconds": float(i % 5000),
                    "outcome": "ok" if i % 17 else "failed",
                }
                for i in range(runs)
            ],
        )
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def per_scrape(url: str) -> tuple[float, float, int]:
    """Median and worst milliseconds of 20 scrapes, and the size of one."""
    from nidb.api.metrics import exposition
    from nidb.store.db import make_engine

    engine = make_engine(url)
    exposition(engine)  # warm: connection, statements
    times, size = [], 0
    for _ in range(20):
        started = time.perf_counter()
        size = len(exposition(engine))
        times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return statistics.median(times), max(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--deliveries", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    bare, watched = per_request(args.requests)
    rows = [f"| request middleware (CPU) | {args.requests:,} requests | bare {bare:.1f} µs, "
            f"observed {watched:.1f} µs: **+{watched - bare:.1f} µs per request** | |"]  # fmt: skip
    print(rows[0], flush=True)
    with tempfile.TemporaryDirectory() as work:
        for name in args.engines.split(","):
            if name == "sqlite":
                url = f"sqlite:///{work}/bench.sqlite3"
                fill(url, args.deliveries, args.runs)
                median, worst, size = per_scrape(url)
            elif name == "postgresql":
                cluster = Path(work) / "pg"
                started = subprocess.run(
                    [str(PG), "start", str(cluster)], capture_output=True, text=True, check=True
                )
                url = started.stdout.strip().splitlines()[-1]
                try:
                    fill(url, args.deliveries, args.runs)
                    median, worst, size = per_scrape(url)
                finally:
                    subprocess.run([str(PG), "stop", str(cluster)], check=False)
            else:
                raise SystemExit(f"unknown engine {name}")
            rows.append(
                f"| scrape, {name} | {args.deliveries:,} deliveries, {args.runs:,} batch runs | "
                f"median {median:.1f} ms, worst {worst:.1f} ms | {size:,} bytes |"
            )
            print(rows[-1], flush=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    table = "\n".join(
        [
            f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — load average {load}, "
            f"{os.cpu_count()} cores",
            "",
            "| what | data | time | size |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as results:
        if results.tell() == 0:
            results.write("# What watching costs (bench/metrics.py)\n\n")
        results.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
