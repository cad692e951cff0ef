"""Retention benchmark: removing the access log's old entries, batch by batch, and verifying
what remains.

    python bench/retention.py --entries 300000 [--lanes 4] [--batch 5000] \
        [--engines sqlite,postgresql]

Per engine (PostgreSQL: a private cluster from scripts/pg-cluster.sh, stopped at the end;
SQLite: a file in a temporary folder): writes ``--entries`` access-log entries over ``--lanes``
lanes, the first 90 % of each lane six years old and the rest recent, then times
`nidb.retention.runner.overview` (counting what is past its period), `apply` of the access-log
kind (a batch per transaction, the checkpoint moved in each) and `verify_chain` of what remains.

Appends to bench/results/retention.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "retention.md"
PG = ROOT / "scripts" / "pg-cluster.sh"

from nidb.accesslog import AccessRecord, append, verify_chain  # noqa: E402
from nidb.accesslog import chain as chain_module  # noqa: E402
from nidb.retention.kinds import BY_KEY  # noqa: E402
from nidb.retention.runner import apply, overview  # noqa: E402
from nidb.settings import Settings  # noqa: E402
from nidb.store.db import ensure_schema, make_engine  # noqa: E402


def fill(engine: Any, entries: int, lanes: int) -> None:
    """``entries`` entries over ``lanes`` lanes; 90 % of each lane six years old."""
    old = (datetime.now(UTC) - timedelta(days=6 * 365)).isoformat(timespec="microseconds")
    new = datetime.now(UTC).isoformat(timespec="microseconds")
    per_lane = entries // lanes
    chunk = 10_000
    for lane in range(lanes):
        written = 0
        while written < per_lane:
            n = min(chunk, per_lane - written)
            stamps = iter(old if written + i < per_lane * 0.9 else new for i in range(n))
            chain_module._now_text = lambda stamps=stamps: next(stamps)  # type: ignore[misc]
            with engine.begin() as conn:
                append(
                    conn,
                    [
                        AccessRecord(
                            actor="VN/GOV/BYT/BV-01001", service="card.check/v1", result="ok",
                            subject=f"{(written + i) % 10**10:010d}", purpose="KCB", fields="dd",
                        )
                        for i in range(n)
                    ],
                    lane=lane,
                )  # fmt: skip
            written += n


def run_engine(name: str, url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    engine = make_engine(url)
    ensure_schema(engine)
    load_before = os.getloadavg()[0]
    clock = time.perf_counter()
    real_now = chain_module._now_text
    try:
        fill(engine, args.entries, args.lanes)
    finally:
        chain_module._now_text = real_now  # type: ignore[misc]
    fill_s = time.perf_counter() - clock
    settings = Settings(data_dir=work / "data")
    clock = time.perf_counter()
    due = {s.kind.key: s.past for s in overview(engine, settings=settings)}["access_log"]
    show_s = time.perf_counter() - clock
    clock = time.perf_counter()
    [result] = apply(
        engine, kinds=[BY_KEY["access_log"]], batch=args.batch, settings=settings, actor="bench"
    )
    apply_s = time.perf_counter() - clock
    clock = time.perf_counter()
    report = verify_chain(engine)
    verify_s = time.perf_counter() - clock
    engine.dispose()
    return {
        "engine": name, "due": due, "removed": result.removed, "batches": result.batches,
        "fill": fill_s, "show": show_s, "apply": apply_s, "verify": verify_s,
        "kept": report.entries, "intact": report.intact,
        "load": (load_before, os.getloadavg()[0]),
    }  # fmt: skip


def write_results(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    command = "python bench/retention.py " + " ".join(sys.argv[1:])
    lines = [
        f"\n## {datetime.now():%Y-%m-%d %H:%M} — {args.entries:,} access-log entries, "
        f"{args.lanes} lanes, batches of {args.batch:,}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared with other work), Python "
        f"{platform.python_version()}. Command: `{command}`.",
        "",
        "| engine | past period | removed | batches | `retention show` s | `apply` s | removed/s "
        "| `audit verify` of the rest s | kept | verifies | load avg start / end |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['engine']} | {r['due']:,} | {r['removed']:,} | {r['batches']} | "
            f"{r['show']:.2f} | {r['apply']:.1f} | {r['removed'] / r['apply']:,.0f} | "
            f"{r['verify']:.2f} | {r['kept']:,} | {'yes' if r['intact'] else 'NO'} | "
            f"{r['load'][0]:.1f} / {r['load'][1]:.1f} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    work = Path(tempfile.mkdtemp(prefix="nidb-retention-bench-"))
    try:
        for name in args.engines.split(","):
            if name == "sqlite":
                url = f"sqlite:///{work / 'nidb.sqlite3'}"
                results.append(run_engine(name, url, args, work))
            elif name == "postgresql":
                cluster = work / "pg"
                started = subprocess.run(
                    [str(PG), "start", str(cluster)], capture_output=True, text=True, check=True
                )
                url = started.stdout.strip().splitlines()[-1]
                try:
                    results.append(run_engine(name, url, args, work))
                finally:
                    subprocess.run([str(PG), "stop", str(cluster)], check=False)
            else:
                raise SystemExit(f"unknown engine {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(args, results)


if __name__ == "__main__":
    main()
