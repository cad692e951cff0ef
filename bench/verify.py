"""Verification benchmark: `nidb verify` against the population stand-in over HTTP.

    python bench/verify.py --people 100000 [--work DIR] [--engines sqlite,postgresql]

Generates a synthetic country (seed 7), imports its registry extract and person records into
SQLite and into a private PostgreSQL cluster (scripts/pg-cluster.sh, stopped at the end),
serves the registry with the stand-in (`BackgroundServer` on a thread of this process) and
runs the real `nidb verify` command in a child process against it, once per engine. The
stand-in and nidb thus run in two processes, as nidb and the population database would; the
child's own report gives records/s (service calls, classification and writes, from the first
read to the last commit), the wall clock adds interpreter start-up.

Then one run per engine against a stand-in that answers 10% of calls with 503
(`FaultConfig(error_rate=0.1)`), rerun until it finishes (a run stopped by exhausted retries
is resumed by running again), and checked: no record left unverified, exactly one `verify`
audit entry per record, and every record's status and reasons equal to the fault-free run's.

Appends to bench/results/verify.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "verify.md"
PG = ROOT / "scripts" / "pg-cluster.sh"
REPORT = re.compile(r"([\d,]+) hồ sơ \(records\) · ([\d.]+) s · ([\d,]+) hồ sơ/s")


def run_verify(url: str, service: str, extra: list[str]) -> tuple[int, float, int, float, str]:
    """(exit code, wall seconds, records, records/s from the report, output) of one run."""
    env = {**os.environ, "NIDB_DATABASE_URL": url, "NIDB_ACTOR": "bench:verify"}
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "nidb", "verify", "--population-url", service, *extra],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    found = REPORT.search(child.stdout)
    if found is None:
        raise SystemExit(f"nidb verify printed no report:\n{child.stdout}\n{child.stderr[-3000:]}")
    records = int(found.group(1).replace(",", ""))
    return child.returncode, wall, records, float(found.group(3).replace(",", "")), child.stdout


def outcomes(url: str) -> dict[str, tuple[str, str]]:
    from sqlalchemy import text

    from nidb.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT record_id, verification_status, verification_reasons FROM persons")
            )
            return {r[0]: (r[1], r[2] or "") for r in rows}
    finally:
        engine.dispose()


def integrity(url: str) -> dict[str, int]:
    """Counts that must all be zero after a complete run (see the docstring)."""
    from sqlalchemy import text

    from nidb.store.db import make_engine

    checks = {
        "unverified": "SELECT COUNT(*) FROM persons WHERE verification_status = 'unverified'",
        "records without one verify entry": (
            "SELECT COUNT(*) FROM persons p LEFT JOIN (SELECT subject_id, COUNT(*) AS n "
            "FROM audit_log WHERE action = 'verify' GROUP BY subject_id) a "
            "ON a.subject_id = p.record_id WHERE a.n IS NULL OR a.n <> 1"
        ),
        "duplicate verified links": (
            "SELECT COUNT(*) FROM (SELECT bhxh_code, personal_id FROM identity_links "
            "WHERE source = 'verified' AND valid_to IS NULL GROUP BY bhxh_code, personal_id "
            "HAVING COUNT(*) > 1) d"
        ),
        "duplicate open review items": (
            "SELECT COUNT(*) FROM (SELECT record_id FROM review_items WHERE status = 'open' "
            "GROUP BY record_id HAVING COUNT(*) > 1) d"
        ),
        "review records without an item": (
            "SELECT COUNT(*) FROM persons p WHERE verification_status = 'review' AND NOT "
            "EXISTS (SELECT 1 FROM review_items r WHERE r.record_id = p.record_id)"
        ),
    }
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("ANALYZE"))  # fresh statistics after the run's writes
            return {name: int(conn.execute(text(sql)).scalar_one()) for name, sql in checks.items()}
    finally:
        engine.dispose()


class Databases:
    """A loaded register per engine, copied fresh for every run."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.pg_dir: Path | None = None
        self.pg_url: str | None = None
        self.copies = 0

    def start_postgres(self) -> None:
        self.pg_dir = self.work / "pg"
        shutil.rmtree(self.pg_dir, ignore_errors=True)  # a cluster left by an earlier run
        started = subprocess.run(
            [str(PG), "start", str(self.pg_dir)], check=True, capture_output=True, text=True
        )
        self.pg_url = started.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        if self.pg_dir is not None:
            subprocess.run([str(PG), "stop", str(self.pg_dir)], check=False)
            shutil.rmtree(self.pg_dir, ignore_errors=True)

    def base(self, engine: str, data: Path) -> str:
        """Import registry + records once into the engine's base register; its URL."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from nidb.ingest.loader import import_file
        from nidb.store.db import ensure_schema, make_engine

        if engine == "sqlite":
            db = self.work / "base.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{db}"
        else:
            assert self.pg_url is not None
            admin = create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS nidb_base WITH (FORCE)"))
                conn.execute(text("CREATE DATABASE nidb_base"))
            admin.dispose()
            url = make_url(self.pg_url).set(database="nidb_base").render_as_string(False)
        target = make_engine(url)
        ensure_schema(target)
        for kind in ("registry", "records"):
            report = import_file(target, kind, data / f"{kind}.csv")
            print(f"  {engine}: imported {kind}: {report.inserted:,} rows", flush=True)
        if engine == "postgresql":
            with target.begin() as conn:
                conn.execute(text("ANALYZE"))
        target.dispose()
        return url

    def copy(self, engine: str, base: str) -> str:
        """A fresh copy of the base register (nothing verified yet); its URL."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.copies += 1
        if engine == "sqlite":
            source = Path(base.removeprefix("sqlite:///"))
            db = self.work / f"run{self.copies}.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            import sqlite3

            with sqlite3.connect(source) as src, sqlite3.connect(db) as dst:
                src.backup(dst)
            return f"sqlite:///{db}"
        assert self.pg_url is not None
        name = f"nidb_run{self.copies}"
        admin = create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE nidb_base"))
        admin.dispose()
        return make_url(self.pg_url).set(database=name).render_as_string(False)


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, "
        f"Python {platform.python_version()}; load average at start "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + " (shared machine)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None, help="folder for data (default: temp)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=1, help="fault-free runs per engine (best)")
    parser.add_argument(
        "--verify-args", default="", help="extra options for nidb verify, e.g. '--chunk-size 5000'"
    )
    args = parser.parse_args()

    from nidb.sim.generate import generate
    from nidb.sim.population import BackgroundServer, FaultConfig, create_app, load_registry

    load_at_start = machine()
    work = args.work or Path(tempfile.mkdtemp(prefix="nidb-verify-"))
    data = work / f"data-{args.people}"
    if not (data / "manifest.json").exists():
        print(f"generating {args.people:,} people into {data} …", flush=True)
        generate(data, args.people, seed=7)
    extra = args.verify_args.split()
    registry = load_registry(data / "registry.csv")
    fault = FaultConfig(error_rate=args.fault_rate, seed=7)
    lines: list[str] = []
    fault_lines: list[str] = []
    notes: list[str] = []
    databases = Databases(work)
    try:
        with (
            BackgroundServer(create_app(data / "registry.csv", registry=registry)) as clean,
            BackgroundServer(
                create_app(data / "registry.csv", fault, registry=registry, admin=True)
            ) as faulty,
        ):
            for engine in args.engines.split(","):
                if engine == "postgresql":
                    databases.start_postgres()
                base = databases.base(engine, data)
                best: tuple[float, float, int, str] | None = None
                rates: list[float] = []
                for _ in range(args.runs):
                    url = databases.copy(engine, base)
                    code, wall, records, rate, _ = run_verify(url, clean.url, extra)
                    if code != 0:
                        raise SystemExit(f"nidb verify on {engine} exited {code}")
                    print(f"  {engine}: {records:,} records, {rate:,.0f} records/s", flush=True)
                    rates.append(rate)
                    if best is None or rate > best[1]:
                        best = (wall, rate, records, url)
                assert best is not None
                wall, rate, records, clean_url = best
                expected = outcomes(clean_url)
                statuses = Counter(status for status, _ in expected.values())
                problems = integrity(clean_url)
                line = (
                    f"| {engine} | {records:,} | {records / rate:.1f} | {rate:,.0f} | "
                    + ", ".join(f"{r:,.0f}" for r in rates)
                    + f" | {wall:.1f} | "
                    + " · ".join(
                        f"{s} {statuses[s]:,}" for s in ("verified", "review", "unmatched")
                    )
                    + f" | {'none' if not any(problems.values()) else problems} |"
                )
                print(line, flush=True)
                lines.append(line)

                # the unreliable service: rerun until done, then compare with the clean run
                url = databases.copy(engine, base)
                import httpx

                httpx.post(f"{faulty.url}/v1/admin/faults", json=fault.as_dict()).raise_for_status()
                runs, total, seconds = 0, 0, 0.0
                while runs < 10:
                    runs += 1
                    code, wall, records, _, _ = run_verify(url, faulty.url, extra)
                    total += records
                    seconds += wall
                    if code == 0:
                        break
                injected = httpx.get(f"{faulty.url}/v1/admin/faults").json()["injected"]
                got = outcomes(url)
                problems = integrity(url)
                differ = sum(1 for rid, outcome in expected.items() if got.get(rid) != outcome)
                same_counts = Counter(s for s, _ in got.values()) == statuses
                ok = not any(problems.values()) and differ == 0 and same_counts
                fault_line = (
                    f"| {engine} | {args.fault_rate:.0%} | {injected['requests']:,} | "
                    f"{injected['errors']:,} | {runs} | {total:,} | {seconds:.1f} | "
                    f"{sum(problems.values())} | {differ} | {'yes' if same_counts else 'no'} | "
                    f"{'PASS' if ok else 'FAIL'} |"
                )
                print(fault_line, flush=True)
                fault_lines.append(fault_line)
                if not ok:
                    notes.append(f"{engine} fault run problems: {problems}, {differ} differ")
    finally:
        databases.stop()

    command = (
        f"python bench/verify.py --people {args.people} --engines {args.engines} --runs {args.runs}"
    )
    if args.verify_args:
        command += f" --verify-args '{args.verify_args}'"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    fresh = not RESULTS.exists()
    with RESULTS.open("a", encoding="utf-8") as handle:
        if fresh:
            handle.write(
                "# Verification throughput: `nidb verify` against the stand-in over HTTP\n\n"
                "Written by `bench/verify.py` (its docstring says what runs). records/s is "
                "the command's own report (first read to last commit, service calls "
                "included); wall s adds the child interpreter's start-up. Target: ≥ 5,000 "
                "records/s on each engine.\n"
            )
        handle.write(
            f"\n## {time.strftime('%Y-%m-%d %H:%M')} — {args.people:,} people (seed 7)\n\n"
            f"Machine: {load_at_start}. Command: `{command}`.\n\n"
            f"| engine | records | seconds | records/s (best of {args.runs}) | every run's "
            "records/s | wall s | outcome | integrity problems |\n"
            "|---|---|---|---|---|---|---|---|\n"
            + "\n".join(lines)
            + "\n\nWith the stand-in failing calls (503), rerun until done, compared with the "
            "fault-free run record by record:\n\n"
            "| engine | error rate | calls | 503s injected | runs | records written | "
            "seconds (all runs) | integrity problems | records differing | same status "
            "counts | |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
            + "\n".join(fault_lines)
            + "\n"
            + "".join(f"\n- {note}" for note in notes)
        )
    print(f"appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
