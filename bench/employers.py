"""Benchmark of the monthly assessment and of bank-statement reconciliation (issue 14 targets).

    python bench/employers.py --workers 1000000 --lines 100000 --engine both

For each engine (SQLite file; PostgreSQL from NIDB_BENCH_POSTGRES_URL, else a private cluster
started with scripts/pg-cluster.sh), on a fresh store: declares ``--workers`` workers in
``workers / 20`` employers (declared_wages, bulk-loaded, not timed), then times
``assess_month`` for 2026-11 (one transaction: lines, per-fund totals, charges, events) and the
reconciliation of a camt.053 statement of ``--lines`` credit lines (80% carrying the
``BHXH <employer>`` reference, 10% from a known account, 10% unmatched). Peak RSS of this
process is reported beside each step: the assessment runs in SQL, so it should not grow with
the workers. Appends a table to bench/results/employers.md.

With ``--old REV`` (default: the merge base with main) the same statement is first reconciled
by the code of REV (its camt.py, ledger.py and reconcile.py, loaded from git), the tables it
wrote are emptied and the charges reopened, then the current code reconciles it: both columns
come from the same run on the same machine load. ``--old none`` skips that.

Targets: 1M workers assessed in ≤ 60 s on PostgreSQL; 100k lines reconciled in ≤ 30 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import types
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "employers.md"
MONTH = date(2026, 11, 1)


def old_reconcile(rev: str) -> Any:
    """``reconcile_file`` as it was at ``rev`` (its camt, ledger and reconcile modules)."""
    modules: dict[str, str] = {}
    for name in ("camt", "ledger", "reconcile"):
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:nidb/contributions/{name}.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for other in ("camt", "ledger"):
            source = source.replace(f"nidb.contributions.{other} ", f"bench_old_{other} ")
        modules[name] = source
    loaded: dict[str, Any] = {}
    for name in ("camt", "ledger", "reconcile"):
        module = types.ModuleType(f"bench_old_{name}")
        sys.modules[module.__name__] = module
        exec(compile(modules[name], f"{rev}:{name}.py", "exec"), module.__dict__)
        loaded[name] = module
    return loaded["reconcile"].reconcile_file


def reopen(engine: Any) -> None:
    """Undo a reconciliation of the bench's fresh store: its lines, payments and allocations
    deleted, the charges open again (the bench store has no other payments)."""
    from sqlalchemy import text

    with engine.begin() as conn:
        for table in (
            "contribution_allocations",
            "contribution_bank_lines",
            "contribution_payments",
            "contribution_payer_accounts",
        ):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("UPDATE contribution_charges SET settled = 0"))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(url: str, workers: int) -> None:
    """Employers and declared wages, bulk-loaded (not timed)."""
    from sqlalchemy import text

    from nidb.store.db import ensure_schema, make_engine

    engine = make_engine(url)
    ensure_schema(engine)
    employers = max(1, workers // 20)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO employers (employer_code, name, province, employer_type, status) "
                "VALUES (:c, :n, :p, 'enterprise', 'active')"
            ),
            [
                {"c": f"DN{e:06d}", "n": f"Công ty {e}", "p": "01" if e % 2 else "79"}
                for e in range(employers)
            ],
        )
        chunk = 50_000
        for start in range(0, workers, chunk):
            conn.execute(
                text(
                    "INSERT INTO declared_wages (employer_code, bhxh_code, from_month, wage, "
                    "contract_type, full_time, social, health, unemployment) VALUES "
                    "(:e, :b, :f, :w, 'indefinite', TRUE, TRUE, TRUE, TRUE)"
                ),
                [
                    {
                        "e": f"DN{i % employers:06d}",
                        "b": f"{i:010d}",
                        "f": date(2026, 1, 1),
                        "w": 4_000_000 + (i * 7919) % 60_000_000,
                    }
                    for i in range(start, min(workers, start + chunk))
                ],
            )
    engine.dispose()


def statement_file(folder: Path, lines: int, employers: int) -> Path:
    from nidb.sim.bank.camt import Credit, write_statement

    def credits() -> object:
        for n in range(lines):
            employer = f"DN{n % employers:06d}"
            kind = (n // 7) % 10
            remittance = f"BHXH {employer} nop tien" if kind < 8 else "chuyen tien"
            account = f"ACC{n % employers:06d}" if kind < 9 else f"X{n}"
            yield Credit(
                f"FT{n:08d}", 100_000 + n, date(2026, 12, 5), "CONG TY", account, remittance
            )

    path = folder / f"camt053-{lines}.xml"
    write_statement(path, f"STMT-{lines}", "1234567890", date(2026, 12, 5), credits())  # type: ignore[arg-type]
    return path


def measure(
    url: str, engine_name: str, workers: int, lines: int, folder: Path, old: Any
) -> list[str]:
    from nidb.contributions.assess import assess_month
    from nidb.contributions.reconcile import reconcile_file
    from nidb.store.db import make_engine

    seed(url, workers)
    engine = make_engine(url)
    before = rss_mb()
    started = time.perf_counter()
    report = assess_month(engine, MONTH, actor="bench")
    assess_s = time.perf_counter() - started
    after_assess = rss_mb()
    path = statement_file(folder, lines, max(1, workers // 20))
    old_s = "–"
    if old is not None:
        started = time.perf_counter()
        before_old = old(engine, path, actor="bench")
        old_s = f"{time.perf_counter() - started:.1f}"
        print(f"{engine_name}: old code reconciled {before_old.lines:,} lines in {old_s} s")
        reopen(engine)
    started = time.perf_counter()
    rec = reconcile_file(engine, path, actor="bench")
    reconcile_s = time.perf_counter() - started
    engine.dispose()
    matched = sum(rec.matched.values())
    if old is not None:
        assert (before_old.matched, before_old.unmatched) == (rec.matched, rec.unmatched)
    print(
        f"{engine_name}: assessed {report.workers:,} workers in {assess_s:.1f} s; "
        f"reconciled {rec.lines:,} lines ({matched:,} matched) in {reconcile_s:.1f} s",
        flush=True,
    )
    return [
        f"| {engine_name} | {workers:,} | {report.employers:,} | {assess_s:.1f} | "
        f"{before:.0f} → {after_assess:.0f} | {lines:,} | {matched:,} | {rec.unmatched:,} | "
        f"{old_s} | {reconcile_s:.1f} |"
    ]


def postgres_url(work: Path) -> tuple[str, Path | None]:
    url = os.environ.get("NIDB_BENCH_POSTGRES_URL")
    if url:
        return url, None
    cluster = work / "pg"
    started = subprocess.run(
        [str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(cluster)],
        capture_output=True,
        text=True,
        check=True,
    )
    return started.stdout.strip().splitlines()[-1], cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--note", default="under load, small scale")
    parser.add_argument("--old", default="merge-base", help="git revision, or none")
    args = parser.parse_args()
    rev = args.old
    if rev == "merge-base":
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    old = None if rev == "none" else old_reconcile(rev)
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="nidb-bench-employers-"))
    rows: list[str] = []
    cluster: Path | None = None
    try:
        if args.engine in ("sqlite", "both"):
            rows += measure(
                f"sqlite:///{work / 'bench.sqlite3'}", "SQLite", args.workers, args.lines, work, old
            )
        if args.engine in ("postgresql", "both"):
            url, cluster = postgres_url(work)
            rows += measure(url, "PostgreSQL", args.workers, args.lines, work, old)
    finally:
        if cluster is not None:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(cluster)], check=False
            )
        shutil.rmtree(work, ignore_errors=True)
    stamp = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M")
    table = [
        "",
        f"## {stamp} — {args.note}",
        "",
        f"Load average (1, 5, 15 min) at the start: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}; "
        f"at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())} (2 cores). "
        f"Old code: {rev if old is not None else 'not run'}.",
        "",
        "| engine | workers | employers | assess s | peak RSS MB | lines | matched | "
        "unmatched | reconcile s (old) | reconcile s |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
        *rows,
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Employers: monthly assessment and reconciliation (bench/employers.py)\n\n"
            "Targets (issue 14): 1,000,000 workers assessed in ≤ 60 s on PostgreSQL; a bank "
            "statement of 100,000 lines reconciled in ≤ 30 s.\n",
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
