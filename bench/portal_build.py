"""Build (once) the 1-million-person register on a private PostgreSQL cluster for bench/portal.py.

The register is made the way a province would make it: the synthetic country is generated
(seed 7), every file is imported with the real importer, the records are verified with the
real `nidb verify` against the population stand-in over HTTP (so the review queue and the
verification statuses are what the pipeline produces), and the fraud rules are run with the
real `nidb detect` (so the alerts table is real). A file ``built`` in the folder marks a
finished build; a later run reuses the cluster as it is.

    python bench/portal_build.py --work /work/bench/portal-1m --people 1000000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = ROOT / "scripts" / "pg-cluster.sh"
KINDS = ("registry", "employers", "records", "participation", "contributions", "cards", "visits")


def start_cluster(work: Path) -> str:
    """Start (or restart) the cluster under ``work/pg``; its URL (one already running is reused)."""
    port_file = work / "pg" / "port"
    if port_file.exists():
        import socket

        port = int(port_file.read_text().strip())
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return f"postgresql+psycopg://nidb@127.0.0.1:{port}/nidb"
    started = subprocess.run(
        [str(PG), "start", str(work / "pg")], check=True, capture_output=True, text=True
    )
    return started.stdout.strip().splitlines()[-1]


def stop_cluster(work: Path) -> None:
    """Stop the cluster (its data stays for the next run)."""
    subprocess.run([str(PG), "stop", str(work / "pg")], check=False)


def build(work: Path, people: int, url: str) -> list[str]:
    """Generate, import, verify and detect into ``url``; lines saying how long each took."""
    from sqlalchemy import text

    from nidb.ingest.loader import import_file
    from nidb.sim.generate import generate
    from nidb.sim.population import BackgroundServer, create_app, load_registry
    from nidb.store.db import ensure_schema, make_engine

    log: list[str] = []

    def step(label: str, started: float) -> None:
        line = f"{label}: {time.perf_counter() - started:.1f} s"
        print("  " + line, flush=True)
        log.append(line)

    data = work / f"data-{people}"
    if not (data / "manifest.json").exists():
        started = time.perf_counter()
        generate(data, people, seed=7)
        step(f"generate {people:,} people", started)
    engine = make_engine(url)
    ensure_schema(engine)
    for kind in KINDS:
        started = time.perf_counter()
        report = import_file(engine, kind, data / f"{kind}.csv", actor="bench:portal")
        step(f"import {kind} ({report.inserted:,} rows)", started)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()

    started = time.perf_counter()
    registry = load_registry(data / "registry.csv")
    with BackgroundServer(create_app(data / "registry.csv", registry=registry)) as stand_in:
        env = {**os.environ, "NIDB_DATABASE_URL": url, "NIDB_ACTOR": "bench:portal"}
        subprocess.run(
            [sys.executable, "-m", "nidb", "verify", "--population-url", stand_in.url],
            env=env,
            check=True,
        )
    step("nidb verify", started)

    started = time.perf_counter()
    env = {**os.environ, "NIDB_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "nidb", "detect"], env=env, check=True)
    step("nidb detect", started)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return log


def ensure_register(work: Path, people: int) -> tuple[str, list[str]]:
    """The URL of a built register under ``work`` (built now if not yet); build log lines."""
    work.mkdir(parents=True, exist_ok=True)
    url = start_cluster(work)
    marker = work / "built"
    if marker.exists():
        return url, marker.read_text().splitlines()
    log = build(work, people, url)
    marker.write_text("\n".join(log) + "\n")
    return url, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/work/bench/portal-1m"))
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--keep-running", action="store_true", help="leave the cluster up")
    args = parser.parse_args()
    try:
        url, log = ensure_register(args.work, args.people)
        print(url)
        print("\n".join(log))
    finally:
        if not args.keep_running:
            stop_cluster(args.work)


if __name__ == "__main__":
    main()
