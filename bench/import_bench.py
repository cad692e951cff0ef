"""Import benchmark: `nidb import` of generated files into SQLite and PostgreSQL.

For each engine and file it runs the real command in a child process (so peak RSS is the
import's own), then runs a named peer on the same file in the same run:
- PostgreSQL: the server's own ``COPY … FROM`` of the raw file into an unconstrained table
  (no validation, no normalisation, no upsert) — the floor of what loading can cost;
- SQLite: Python's ``csv`` + ``sqlite3.executemany`` of the raw rows into an unconstrained table.
The ratio nidb/peer is the price of validation, normalisation, quarantine and idempotent upsert.

    python bench/import_bench.py --people 1000000            # 1M-person registry + records
    python bench/import_bench.py --people 100000 --engines sqlite

Writes bench/results/import.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "import.md"


def run_import(kind: str, path: Path, url: str) -> tuple[float, int, str]:
    """(seconds, peak RSS in MiB, summary line) of `nidb import` in a child process."""
    env = {**os.environ, "NIDB_DATABASE_URL": url}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "nidb", "import", "--kind", kind, str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"nidb import failed: {output}")
    return seconds, usage.ru_maxrss // 1024, " ".join(output.split())[:160]


def peer_postgres(path: Path, url: str) -> float:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    columns = ", ".join(f"{c} text" for c in header)
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE peer ({columns})")
        with (
            open(path, "rb") as handle,
            cur.copy("COPY peer FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        conn.commit()
    return time.perf_counter() - started


def peer_sqlite(path: Path, work: Path) -> float:
    db = work / "peer.sqlite3"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        conn.execute(f"CREATE TABLE peer ({', '.join(header)})")
        marks = ", ".join("?" for _ in header)
        while True:
            chunk = [row for _, row in zip(range(50_000), reader, strict=False)]
            if not chunk:
                break
            conn.executemany(f"INSERT INTO peer VALUES ({marks})", chunk)
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--kinds", default="registry,records")
    parser.add_argument("--work", type=Path, default=None, help="folder for data (default: temp)")
    args = parser.parse_args()

    from nidb.sim.generate import generate

    work = args.work or Path(tempfile.mkdtemp(prefix="nidb-bench-"))
    data = work / f"data-{args.people}"
    if not (data / "manifest.json").exists():
        print(f"generating {args.people:,} people into {data} …", flush=True)
        started = time.perf_counter()
        generate(data, args.people, seed=7)
        print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)

    rows_out: list[str] = []
    pg_dir: Path | None = None
    try:
        for engine in args.engines.split(","):
            if engine == "postgresql":
                pg_dir = work / "pg"
                shutil.rmtree(pg_dir, ignore_errors=True)  # a cluster left by an earlier run
                url = (
                    subprocess.run(
                        [str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(pg_dir)],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
            else:
                db = work / "bench.sqlite3"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                url = f"sqlite:///{db}"
            for kind in args.kinds.split(","):
                path = data / f"{kind}.csv"
                with path.open("rb") as handle:
                    rows = sum(1 for _ in handle) - 1
                seconds, rss, summary = run_import(kind, path, url)
                again, _, _ = run_import(kind, path, url)
                peer = (
                    peer_postgres(path, url) if engine == "postgresql" else peer_sqlite(path, work)
                )
                peer_name = (
                    "PostgreSQL COPY (raw text)"
                    if engine == "postgresql"
                    else "sqlite3 executemany (raw)"
                )
                line = (
                    f"| {engine} | {kind} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | "
                    f"{rss:,} | {peer_name}: {peer:.1f} s | {seconds / peer:.1f}× | {again:.1f} |"
                )
                print(line, flush=True)
                print(f"    {summary}", flush=True)
                rows_out.append(line)
    finally:
        if pg_dir is not None:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(pg_dir)], check=False
            )
            shutil.rmtree(pg_dir, ignore_errors=True)

    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}"
    )
    table = "\n".join(
        [
            "| engine | kind | rows | seconds | rows/s | peak RSS MiB | peer (same file, same run) | nidb ÷ peer | re-import s |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows_out,
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n## {time.strftime('%Y-%m-%d %H:%M')} — {args.people:,} people\n\n"
            f"Machine: {machine}. Command: `python bench/import_bench.py --people {args.people} "
            f"--engines {args.engines} --kinds {args.kinds}`.\n\n{table}\n"
        )
    print(f"\nappended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
