"""Signed employer declarations over HTTP: declarations per second and latency.

    python bench/employer_declarations.py [--declarations 300] [--threads 8] [--database-url URL]

Starts nidb's app under uvicorn on a loopback port (SQLite in a temporary folder unless
``--database-url``), seeds ``--declarations`` citizens and one enrolled employer, then sends
one signed one-worker increase per citizen (the partner protocol's envelope, Ed25519) from
``--threads`` client threads, each a separate HTTP connection. Every declaration is one
transaction with its audit entries, outbox events, periods and card. Prints a table and appends
it to bench/results/employer_declarations.md. Issue 14's target: 200 declarations/s, p99 ≤ 100 ms.

``--old REV`` (default: the merge base with main) first runs the same measurement on the code of
REV (``git archive REV nidb`` into a temporary folder, run in a subprocess with that folder first
on the path), so old and new come from the same run under the same machine load; ``--old none``
skips it. The load average is recorded with each row.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "--code-root" in sys.argv:  # the old code's tree, ahead of this one
    sys.path.insert(0, sys.argv[sys.argv.index("--code-root") + 1])
RESULTS = ROOT / "bench" / "results" / "employer_declarations.md"


def fresh_database(url: str, name: str) -> str:
    """``url`` with its database replaced by a new empty one called ``name`` (PostgreSQL)."""
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--declarations", type=int, default=300)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--note", default="")
    parser.add_argument("--old", default="merge-base", help="git revision, or none")
    parser.add_argument("--code-root", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.code_root is None and args.old != "none":
        rev = args.old
        if rev == "merge-base":
            rev = subprocess.run(
                ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        tree = Path(tempfile.mkdtemp(prefix="nidb-bench-old-"))
        try:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", rev, "nidb"], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
            command = [sys.executable, __file__, "--code-root", str(tree), "--old", "none"]
            command += ["--declarations", str(args.declarations), "--threads", str(args.threads)]
            if args.database_url:  # the old code gets a database of its own on the same server
                command += ["--database-url", fresh_database(args.database_url, "nidb_bench_old")]
            command += ["--note", f"{rev[:7]}; {args.note}"]
            subprocess.run(command, check=True)
        finally:
            shutil.rmtree(tree, ignore_errors=True)

    from sqlalchemy import insert

    from nidb.api.app import create_app
    from nidb.employers.accounts import enrol
    from nidb.protocol.employers import (
        DECLARATION_PATH,
        DECLARATION_SERVICE,
        EMPLOYER_PURPOSE,
        employer_member,
    )
    from nidb.protocol.envelope import NIDB_MEMBER, new_header, sign
    from nidb.protocol.keys import SigningKey
    from nidb.sim.population.server import BackgroundServer
    from nidb.store import models
    from nidb.store.db import ensure_schema, make_engine

    folder = tempfile.mkdtemp(prefix="nidb-bench-employers-")
    url = args.database_url or f"sqlite:///{folder}/nidb.sqlite3"
    engine = make_engine(url)
    ensure_schema(engine)
    key = SigningKey.generate()
    pids = [f"001090{n:06d}" for n in range(args.declarations)]
    with engine.begin() as conn:
        conn.execute(
            insert(models.Employer).values(
                employer_code="BENCH01",
                name="Công ty Bench",
                province="01",
                employer_type="enterprise",
                status="active",
            )
        )
        conn.execute(
            insert(models.Citizen),
            [
                {
                    "personal_id": pid,
                    "full_name": "Nguyễn Văn An",
                    "name_base": "nguyen van an",
                    "date_of_birth": "1990-05-12",
                    "dob_precision": "day",
                    "birth_year": 1990,
                    "gender": "M",
                    "birth_province": "001",
                    "status": "alive",
                }
                for pid in pids
            ],
        )
        enrol(conn, "BENCH01", key.public_b64, "bench")
    server = BackgroundServer(create_app(engine, SigningKey.generate()), lifespan="on").start()

    def envelope(pid: str) -> dict[str, object]:
        body = {
            "declaration_no": f"B-{pid}",
            "kind": "increase",
            "month": "2026-11",
            "workers": [
                {
                    "personal_id": pid,
                    "full_name": "Nguyễn Văn An",
                    "date_of_birth": "1990-05-12",
                    "wage": 9_000_000,
                    "facility_code": "01001",
                }
            ],
        }
        header = new_header(
            employer_member("BENCH01"),
            NIDB_MEMBER,
            DECLARATION_SERVICE,
            EMPLOYER_PURPOSE,
            datetime.now(UTC),
        )
        return sign(header, body, key)

    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def worker(share: list[str]) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for pid in share:
                message = envelope(pid)
                start = time.perf_counter()
                status = http.post(DECLARATION_PATH, json=message).status_code
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        failures.append(status)

    shares = [pids[i :: args.threads] for i in range(args.threads)]
    threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    server.stop()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    rate = len(latencies) / wall
    engine_name = engine.url.get_backend_name()
    import nidb

    code = "old" if args.code_root else "new"
    assert Path(nidb.__file__).is_relative_to(args.code_root or ROOT), nidb.__file__
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    args.note = f"{code} code; load {load}; {args.note}".rstrip("; ")
    row = (
        f"| {date.today()} | {engine_name} | {args.declarations} | {args.threads} | "
        f"{rate:.0f} | {p50:.0f} | {p99:.0f} | {len(failures)} | {args.note} |"
    )
    print(
        "| date | engine | declarations | threads | per second | p50 ms | p99 ms | failed | note |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(row)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Employers' signed declarations over HTTP (bench/employer_declarations.py)\n\n"
            f"Machine: {platform.machine()}, Python {platform.python_version()}. One-worker "
            "increases, each one transaction with audit, outbox, wages, periods and a card.\n\n"
            "| date | engine | declarations | threads | per second | p50 ms | p99 ms | failed | note |\n"
            "|---|---|---|---|---|---|---|---|---|\n",
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as file:
        file.write(row + "\n")


if __name__ == "__main__":
    main()
