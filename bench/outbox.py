"""Outbound change feed benchmark: outbox events → 3 webhook subscribers over loopback HTTP.

    python bench/outbox.py --events 100000 --subjects 20000 --down-seconds 60 \
        [--engines postgresql,sqlite] [--concurrency 48] [--batch-size 500]

Per engine (PostgreSQL: a private cluster from scripts/pg-cluster.sh, stopped at the end;
SQLite: a file in a temporary folder): writes ``--events`` outbox events over ``--subjects``
subjects, subscribes 3 partners whose webhooks are `nidb sim webhook` child processes (so the
receivers and the dispatcher run in separate processes), and runs the dispatcher in this
process. When a third of the deliveries are done, subscriber 3 answers 503 for
``--down-seconds`` (its fault setting). At the end every receiver's accepted events are read
back and checked: each event exactly once, each subject in event order; duplicates (sent again
after a lost or late answer, dropped by Idempotency-Key) are counted.

Appends to bench/results/outbox.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "outbox.md"
PG = ROOT / "scripts" / "pg-cluster.sh"
PARTNERS = ("VN/GOV/BYT/BV-01001", "VN/GOV/BLDTBXH/CSDL-ASXH", "VN/GOV/BTC/THUE-01")
TOPICS = ("identity.verified", "identity.person_dead", "person.card_changed", "person.moved")

from sqlalchemy import Engine, insert, select  # noqa: E402

from nidb.exchange.partners import add_partner  # noqa: E402
from nidb.outbox.admin import status, subscribe  # noqa: E402
from nidb.outbox.dispatcher import Dispatcher, DispatchSettings, Stats  # noqa: E402
from nidb.protocol.keys import SigningKey  # noqa: E402
from nidb.store import models  # noqa: E402
from nidb.store.db import ensure_schema, make_engine  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_receivers(key: SigningKey) -> list[tuple[subprocess.Popen[bytes], str]]:
    receivers = []
    for code in PARTNERS:
        port = free_port()
        child = subprocess.Popen(
            [
                *(sys.executable, "-m", "nidb", "sim", "webhook", "--port", str(port)),
                *("--nidb-key", key.public_b64, "--member", code),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        receivers.append((child, f"http://127.0.0.1:{port}"))
    for _, url in receivers:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the webhook stand-in at {url} did not start") from None
                time.sleep(0.2)
    return receivers


def emit(engine: Engine, events: int, subjects: int) -> dict[str, list[int]]:
    """Write the events in chunks; the expected event ids per subject, in order."""
    rng = random.Random(7)
    rows = [
        {
            "topic": rng.choice(TOPICS),
            "subject_key": f"person:{rng.randrange(subjects):012d}",
            "payload": {"seq": i, "bhxh_code": f"{rng.randrange(10**10):010d}"},
        }
        for i in range(events)
    ]
    with engine.begin() as conn:
        for start in range(0, events, 10_000):
            conn.execute(insert(models.OutboxEvent), rows[start : start + 10_000])
    expected: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for event_id, subject in conn.execute(
            select(models.OutboxEvent.id, models.OutboxEvent.subject_key).order_by(
                models.OutboxEvent.id
            )
        ):
            expected.setdefault(subject, []).append(event_id)
    return expected


def check(url: str, expected: dict[str, list[int]]) -> dict[str, Any]:
    accepted: list[dict[str, Any]] = []
    while True:
        page = httpx.get(
            f"{url}/received", params={"after": len(accepted), "limit": 50_000}, timeout=60
        ).json()
        accepted.extend(page["events"])
        if len(accepted) >= page["total"]:
            break
    got: dict[str, list[int]] = {}
    for event in accepted:
        got.setdefault(event["subject_key"], []).append(event["event_id"])
    total = sum(map(len, expected.values()))
    lost = sum(len(set(ids) - set(got.get(s, []))) for s, ids in expected.items())
    out_of_order = sum(1 for s, ids in got.items() if ids != sorted(ids))
    stats = httpx.get(f"{url}/stats").json()
    return {
        "accepted": len(accepted),
        "expected": total,
        "lost": lost,
        "subjects_out_of_order": out_of_order,
        "exact": got == expected,
        "duplicates": stats.get("duplicates", 0),
        "answered_503": stats.get("down", 0),
    }


def run_engine(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(url)
    ensure_schema(engine)
    key = SigningKey.generate()
    receivers = start_receivers(key)
    try:
        for code, (_, base) in zip(PARTNERS, receivers, strict=True):
            add_partner(engine, code, code, "other", SigningKey.generate().public_b64, "bench")
            subscribe(engine, code, "*", "bench", f"{base}/events")
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        expected = emit(engine, args.events, args.subjects)
        print(f"[{name}] {args.events:,} events written in {time.perf_counter() - started:.1f} s")
        total = args.events * len(PARTNERS)
        timeline: list[tuple[float, int]] = []

        def progress(stats: Stats) -> None:
            timeline.append((time.perf_counter(), stats.delivered))

        settings = DispatchSettings(
            concurrency=args.concurrency,
            per_subscriber=args.per_subscriber,
            batch_size=args.batch_size,
        )
        dispatcher = Dispatcher(engine, key, settings, progress, progress_interval=0.5)
        thread = threading.Thread(target=dispatcher.run, daemon=True)
        t0 = time.perf_counter()
        thread.start()
        down_at = up_at = None
        while dispatcher.stats.delivered < total:
            time.sleep(0.2)
            now = time.perf_counter()
            if down_at is None and dispatcher.stats.delivered >= total // 3:
                httpx.put(
                    f"{receivers[2][1]}/admin/faults", json={"down_seconds": args.down_seconds}
                ).raise_for_status()
                down_at, up_at = now, now + args.down_seconds
                print(f"[{name}] subscriber 3 down for {args.down_seconds} s at {now - t0:.1f} s")
            if timeline and int(now - t0) % 10 == 0:
                print(f"[{name}] {now - t0:6.1f} s: {dispatcher.stats.delivered:,} delivered")
                time.sleep(0.8)
        wall = time.perf_counter() - t0
        dispatcher.stop()
        thread.join(timeout=60)
        assert down_at is not None and up_at is not None
        before = [d for t, d in timeline if t <= down_at]
        all_up_rate = (before[-1] if before else 0) / max(down_at - t0, 1e-9)
        during = [d for t, d in timeline if down_at <= t <= up_at]
        down_rate = (during[-1] - during[0]) / max(args.down_seconds, 1e-9) if during else 0.0
        checks = [check(base, expected) for _, base in receivers]
        counts = {row.subscription.partner_code: row.counts for row in status(engine)}
        return {
            "engine": name,
            "wall": wall,
            "deliveries": total,
            "rate": total / wall,
            "all_up_rate": all_up_rate,
            "down_rate": down_rate,
            "down_from": down_at - t0,
            "stats": dispatcher.stats,
            "checks": checks,
            "counts": counts,
            "load": (load_before, os.getloadavg()[0]),
        }
    finally:
        for child, _ in receivers:
            child.terminate()
            child.wait(timeout=10)
        engine.dispose()


def write_results(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    command = "python bench/outbox.py " + " ".join(sys.argv[1:])
    lines = [
        f"\n## {datetime.now():%Y-%m-%d %H:%M} — {args.events:,} events × 3 subscribers",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, 24 GiB, Python "
        f"{platform.python_version()}. Command: `{command}`.",
        "",
        f"{args.events:,} events over {args.subjects:,} subjects, 3 subscribers (`nidb sim "
        f"webhook` child processes on loopback), subscriber 3 answering 503 for "
        f"{args.down_seconds} s once a third of the deliveries were done. Dispatcher settings: "
        f"concurrency {args.concurrency}, {args.per_subscriber} per subscriber, batches of "
        f"{args.batch_size}.",
        "",
        "| engine | deliveries | wall s | deliveries/s (overall) | deliveries/s (all up, before "
        "the outage) | deliveries/s (during the outage, 2 up) | sent (incl. retries) | retries "
        "| dead | lost | subjects out of order | duplicates dropped | exactly once, in order |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        checks, stats = r["checks"], r["stats"]
        lines.append(
            f"| {r['engine']} | {r['deliveries']:,} | {r['wall']:.1f} | {r['rate']:,.0f} | "
            f"{r['all_up_rate']:,.0f} | {r['down_rate']:,.0f} | {stats.sent:,} | "
            f"{stats.retried:,} | {stats.dead:,} | {sum(c['lost'] for c in checks)} | "
            f"{sum(c['subjects_out_of_order'] for c in checks)} | "
            f"{' / '.join(str(c['duplicates']) for c in checks)} | "
            f"{'yes' if all(c['exact'] for c in checks) else 'NO'} |"
        )
    for r in results:
        lines.append(
            f"\n{r['engine']}: 503 answers by subscriber 3 during its outage: "
            f"{r['checks'][2]['answered_503']:,} (circuit breaker; outage began at "
            f"{r['down_from']:.1f} s). Final store status: "
            + "; ".join(
                f"{code}: {c['delivered']:,} delivered, {c['pending']} pending, {c['dead']} dead"
                for code, c in r["counts"].items()
            )
            + f". Load average (1 min) of the shared machine at start / end: "
            f"{r['load'][0]:.1f} / {r['load'][1]:.1f}."
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--down-seconds", type=float, default=60.0)
    parser.add_argument("--engines", default="postgresql")
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--per-subscriber", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    results = []
    work = Path(tempfile.mkdtemp(prefix="nidb-outbox-bench-"))
    try:
        for name in args.engines.split(","):
            if name == "sqlite":
                results.append(run_engine(name, f"sqlite:///{work / 'nidb.sqlite3'}", args))
            elif name == "postgresql":
                cluster = work / "pg"
                started = subprocess.run(
                    [str(PG), "start", str(cluster)], capture_output=True, text=True, check=True
                )
                url = started.stdout.strip().splitlines()[-1]
                try:
                    results.append(run_engine(name, url, args))
                finally:
                    subprocess.run([str(PG), "stop", str(cluster)], check=False)
            else:
                raise SystemExit(f"unknown engine {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(args, results)


if __name__ == "__main__":
    main()
