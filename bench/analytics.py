"""Benchmark of the analytics commands: data quality, open data, the quarterly report.

    python bench/analytics.py prepare --people 1000000 --work DIR   # once: store to measure
    python bench/analytics.py run --people 1000000 --work DIR       # the measured commands

``prepare`` generates a synthetic country (seed 7), imports every file into a SQLite store
(``DIR/store-<people>.sqlite3``) and verifies the records against the population-database
stand-in over HTTP, as ``nidb demo`` does — so the quality measures see real verification
states. It is slow (the import and verification benchmarks measure those steps) and is not
timed here. ``run`` times, each in a fresh ``nidb`` process on that store: ``nidb quality``,
``nidb quality --save``, ``nidb publish`` and ``nidb report quarterly``, plus the DuckDB
alternative for the quality measures (Parquet export of the tables they read), and appends a
table to bench/results/analytics.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "analytics.md"


def store_url(work: Path, people: int) -> str:
    """The SQLite store of ``people`` under ``work``."""
    return f"sqlite:///{work / f'store-{people}.sqlite3'}"


def prepare(work: Path, people: int) -> None:
    """Generate, import and verify a store of ``people`` (skipped steps already done)."""
    from nidb.cli.demo import IMPORT_ORDER
    from nidb.connectors.population import PopulationClient
    from nidb.identity.verify import verify_records
    from nidb.ingest.loader import import_file
    from nidb.sim.generate import generate
    from nidb.sim.population import BackgroundServer, create_app
    from nidb.store.db import ensure_schema, make_engine

    data = work / f"data-{people}"
    if not (data / "manifest.json").exists():
        print(f"generating {people:,} people into {data}", flush=True)
        generate(data, people, seed=7)
    engine = make_engine(store_url(work, people))
    ensure_schema(engine)
    for kind in IMPORT_ORDER:
        started = time.perf_counter()
        report = import_file(engine, kind, data / f"{kind}.csv")
        print(f"imported {kind}: {report} in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    with (
        BackgroundServer(create_app(data / "registry.csv")) as server,
        PopulationClient(server.url) as client,
    ):
        verified = verify_records(engine, client, actor="bench")
    print(f"verified: {verified} in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def machine() -> str:
    """The machine and its load, for the results file."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.uname().machine}, {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
        f"load average at start {load} (shared machine)"
    )


def timed(command: list[str], url: str) -> tuple[float, str]:
    """Run ``python -m nidb <command>`` on ``url``; wall seconds and its output."""
    env = {**os.environ, "NIDB_DATABASE_URL": url, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "nidb", *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"nidb {' '.join(command)} exited {done.returncode}: {done.stderr}")
    return seconds, done.stdout


def run(work: Path, people: int, skip_quality: bool = False) -> None:
    """Time the analytics steps on the prepared store and append the results."""
    from nidb.analytics.publish import publish
    from nidb.analytics.quality import compute_and_save, compute_quality, national
    from nidb.analytics.report_data import quarter_period, year_period
    from nidb.analytics.reports import write_report
    from nidb.store.db import ensure_schema, make_engine

    url = store_url(work, people)
    load = machine()
    out = work / "out"
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    engine = make_engine(url)
    ensure_schema(engine)
    results: dict[str, object] = {}
    steps: list[tuple[str, Callable[[], object]]] = [
        ("quality, SQL on the store", lambda: compute_quality(engine, today)),
        ("quality, DuckDB (Parquet export + queries)", lambda: compute_quality(engine, today, "duckdb")),
        ("quality --save (compute + store)", lambda: compute_and_save(engine, today, "bench")),
        ("publish (4 datasets + reference + catalogue)", lambda: publish(engine, out / "open", today)),
        ("report quarterly 2026Q4 (PDF + XLSX)", lambda: write_report(engine, quarter_period("2026Q4"), out / "reports")),
        ("report yearly 2026 (PDF + XLSX)", lambda: write_report(engine, year_period(2026), out / "reports")),
    ]  # fmt: skip
    if skip_quality:  # measured by an earlier pass: only the steps after them
        steps = steps[2:]
    rows = []
    for label, step in steps:
        started = time.perf_counter()
        results[label] = step()
        seconds = time.perf_counter() - started
        print(f"{label}: {seconds:.1f} s", flush=True)
        rows.append(f"| {label} | {seconds:.1f} |")
    cli_seconds, cli_output = timed(["quality", "--as-of", today.isoformat()], url)
    rows.append(
        f"| `nidb quality` as a command (fresh process, start-up included) | {cli_seconds:.1f} |"
    )
    engine.dispose()
    store = results.get("quality, SQL on the store", results["quality --save (compute + store)"])
    duck = results.get("quality, DuckDB (Parquet export + queries)")
    same = "not run in this pass" if duck is None else ("yes" if store == duck else "NO")
    country = {(m.group, m.measure): m for m in national(store)}  # type: ignore[arg-type]
    person = " · ".join(
        f"{name} {country[('person', name)].numerator:,}/{country[('person', name)].denominator:,}"
        for name in ("correct", "complete", "clean", "alive")
    )
    published = results["publish (4 datasets + reference + catalogue)"]
    files = " · ".join(f"{d.file} {d.rows:,} rows, {d.suppressed:,} hidden" for d in published)  # type: ignore[attr-defined]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    fresh = not RESULTS.exists()
    with RESULTS.open("a", encoding="utf-8") as handle:
        if fresh:
            handle.write(
                "# Analytics: data quality, open data, reports\n\n"
                "Written by `bench/analytics.py` (its docstring says what runs). Seconds of each "
                "step in one process on the prepared store; the last line is the command in a "
                "fresh process.\n"
            )
        handle.write(
            f"\n## {time.strftime('%Y-%m-%d %H:%M')} — {people:,} people (seed 7), SQLite\n\n"
            f"Machine: {load}. Command: `python bench/analytics.py run --people {people}` "
            f"(as of {today.isoformat()}).\n\n"
            "| step | seconds |\n|---|---:|\n" + "\n".join(rows) + "\n\n"
            f"- store and DuckDB measures identical: {same}\n"
            f"- person records (group a), country: {person}\n"
            f"- published: {files}\n\n"
            "`nidb quality` printed:\n\n```\n" + cli_output.strip() + "\n```\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=("prepare", "run"))
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nidb-bench-analytics"))
    parser.add_argument(
        "--skip-quality", action="store_true", help="run: leave out the two quality-only steps"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.step == "prepare":
        prepare(args.work, args.people)
    else:
        run(args.work, args.people, args.skip_quality)


if __name__ == "__main__":
    main()
