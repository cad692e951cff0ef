"""Signed employer declarations over HTTP, as deployed: declarations per second and latency.

    python bench/employer_declarations.py [--rate 200] [--duration 30] [--workers 2]
        [--no-postgres] [--old REV|none] [--note TEXT]

A private PostgreSQL cluster (scripts/pg-cluster.sh, fsync and synchronous commit on;
``--no-postgres``: SQLite in WAL mode) is seeded with one enrolled employer and one citizen per
declaration; ``nidb serve --workers N`` runs as a subprocess. Every declaration is a one-worker
``increase`` (citizen known, no BHXH code yet: a code is issued, the person record, identity
link, declared wage, three participation periods and a health card written, with audit entries
and outbox events, in one transaction), signed (Ed25519, the partner protocol's envelope)
*before* the timed run. Three seconds at the asked rate warm the workers up, not measured; then
the open loop: declaration i is due at start + i / rate and its latency is measured from that
moment, so a server that falls behind shows it in the percentiles (no coordinated omission).
After the run the bench checks that every declaration was applied and has its audit entry.
CPU per declaration is read from /proc: nidb's (server and workers) and PostgreSQL's (postmaster
and backends) during the measured run. Issue 14's target: 200 declarations/s, p99 ≤ 100 ms.

``--old REV`` (default: the merge base with main) first measures ``nidb serve`` running REV's
code (``git archive REV nidb`` into a temporary folder, first on the server's PYTHONPATH) on a
database of its own in the same cluster, so old and new are compared in one run under the same
machine load; ``--old none`` skips it. Results are appended to
bench/results/employer_declarations.md with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # (bench/employer_declarations_path.py may put another nidb first)
    sys.path.insert(0, str(ROOT))

from bench.loadgen import cpu_seconds, http_request, latency_summary, raw_open_loop, wait_up  # noqa: E402
from bench.sections import append_section  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "employer_declarations.md"
EMPLOYER = "BENCH01"
WARM_SECONDS = 3


def _fresh_database(url: str, name: str) -> str:
    """``url`` with its database replaced by a new empty one called ``name`` (PostgreSQL)."""
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _seed(url: str, citizens: int, public_key: str) -> list[str]:
    """One enrolled employer and ``citizens`` citizens; their personal IDs."""
    from sqlalchemy import insert

    from nidb.employers.accounts import enrol
    from nidb.store import models
    from nidb.store.db import ensure_schema, make_engine

    engine = make_engine(url)
    ensure_schema(engine)
    pids = [f"001090{n:06d}" for n in range(citizens)]
    with engine.begin() as conn:
        conn.execute(
            insert(models.Employer).values(
                employer_code=EMPLOYER, name="Công ty Bench", province="01",
                employer_type="enterprise", status="active",
            )
        )  # fmt: skip
        conn.execute(
            insert(models.Citizen),
            [
                {
                    "personal_id": pid, "full_name": "Nguyễn Văn An",
                    "name_base": "nguyen van an", "date_of_birth": "1990-05-12",
                    "dob_precision": "day", "birth_year": 1990, "gender": "M",
                    "birth_province": "001", "status": "alive",
                }
                for pid in pids
            ],
        )  # fmt: skip
        enrol(conn, EMPLOYER, public_key, "bench")
    engine.dispose()
    return pids


def _envelopes(pids: list[str], key: Any) -> list[dict[str, Any]]:
    """One signed one-worker increase per personal ID."""
    from nidb.protocol.employers import DECLARATION_SERVICE, EMPLOYER_PURPOSE, employer_member
    from nidb.protocol.envelope import NIDB_MEMBER, new_header, sign

    now = datetime.now(UTC)
    out = []
    for pid in pids:
        body = {
            "declaration_no": f"B-{pid}",
            "kind": "increase",
            "month": "2026-11",
            "workers": [
                {
                    "personal_id": pid, "full_name": "Nguyễn Văn An",
                    "date_of_birth": "1990-05-12", "wage": 9_000_000, "facility_code": "01001",
                }
            ],
        }  # fmt: skip
        header = new_header(
            employer_member(EMPLOYER), NIDB_MEMBER, DECLARATION_SERVICE, EMPLOYER_PURPOSE, now
        )
        out.append(sign(header, body, key))
    return out


def _stored(url: str) -> tuple[int, int]:
    """Declarations applied, and how many of them have their audit entry."""
    from sqlalchemy import select

    from nidb.store import models
    from nidb.store.db import make_engine
    from nidb.store.models_employers import EmployerDeclaration

    engine = make_engine(url)
    with engine.connect() as conn:
        applied = set(
            conn.execute(
                select(EmployerDeclaration.id).where(EmployerDeclaration.status == "applied")
            ).scalars()
        )
        audited = {
            detail["declaration_id"]
            for detail in conn.execute(
                select(models.AuditEntry.detail).where(
                    models.AuditEntry.action == "employer.declaration_applied"
                )
            ).scalars()
        }
    engine.dispose()
    return len(applied), len(applied & audited)


def _wait_workers(base: str, workers: int, timeout: float = 300) -> None:
    """Wait until every worker accepts: each has a socket of its own (SO_REUSEPORT, the kernel
    hashes each new connection to one), so a worker still importing leaves the connections
    hashed to it waiting; ``8 × workers`` fresh connections in a row answered promptly means
    all are serving (under load a worker can take tens of seconds to start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for _ in range(8 * workers):
                with httpx.Client(base_url=base, timeout=2) as http:
                    http.get("/health").raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit(f"the workers at {base} did not all start")


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (the server's workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.add(int(entry.name))
    return found


def _postmaster(cluster: Path) -> int | None:
    pid_file = cluster / "data" / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def measure(
    *, url: str, code_root: Path, rate: float, duration: float, workers: int, work: Path,
    postmaster: int | None,
) -> dict[str, Any]:  # fmt: skip
    """Seed ``url``, run ``nidb serve`` from ``code_root`` on it, send, return measurements."""
    from nidb.protocol.employers import DECLARATION_PATH
    from nidb.protocol.keys import SigningKey

    key = SigningKey.generate()
    total = int(rate * duration)
    warm = int(rate * WARM_SECONDS)
    pids = _seed(url, total + warm + 1, key.public_b64)
    port = 18_000 + (os.getpid() + len(str(code_root))) % 2_000
    data = work / f"var-{port}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code_root), str(ROOT)]),
        "NIDB_DATABASE_URL": url,
        "NIDB_DATA_DIR": str(data),
        "NIDB_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "nidb", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(f"{base}/health")
        _wait_workers(base, workers)
        signed = _envelopes(pids, key)
        first = httpx.post(f"{base}{DECLARATION_PATH}", json=signed[0], timeout=30)
        assert first.status_code == 200, first.text
        prepared = [
            http_request(f"127.0.0.1:{port}", DECLARATION_PATH, json.dumps(envelope).encode())
            for envelope in signed[1:]
        ]
        raw_open_loop("127.0.0.1", port, prepared[:warm], rate)  # warm-up, not measured
        load_before = os.getloadavg()
        workers_before = _children(server.pid)
        cpu_before = cpu_seconds(server.pid)
        db_before = cpu_seconds(postmaster) if postmaster else 0.0
        start = time.perf_counter()
        results = raw_open_loop("127.0.0.1", port, prepared[warm:], rate)
        elapsed = time.perf_counter() - start - 0.2
        cpu = cpu_seconds(server.pid) - cpu_before
        db_cpu = (cpu_seconds(postmaster) - db_before) if postmaster else 0.0
        load_after = os.getloadavg()
        restarted = len(workers_before - _children(server.pid))
    finally:
        server.terminate()
        server.wait(30)
    applied, audited = _stored(url)
    return {
        **latency_summary(results, elapsed),
        "warm": warm,
        "applied": applied,
        "audited": audited,
        "expected": len(signed),
        "load_before": load_before,
        "load_after": load_after,
        "cpu_ms": cpu * 1000 / len(results),
        "db_cpu_ms": db_cpu * 1000 / len(results),
        "restarted": restarted,
    }


def _old_tree(rev: str, into: Path) -> tuple[str, Path]:
    if rev == "merge-base":
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "nidb"], capture_output=True, check=True
    ).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return rev[:7], into


def _row(name: str, r: dict[str, Any], postgres: bool) -> str:
    load = "/".join(f"{x:.1f}" for x in r["load_before"])
    load_after = "/".join(f"{x:.1f}" for x in r["load_after"])
    db = f"{r['db_cpu_ms']:.1f}" if postgres else "(in nidb)"
    return (
        f"| {name} | {r['achieved']:.1f}/s | {r['errors']} | {r['p50']:.0f} ms | "
        f"{r['p90']:.0f} ms | {r['p99']:.0f} ms | {r['max']:.0f} ms | {r['cpu_ms']:.1f} | {db} | "
        f"{r['applied']:,} / {r['audited']:,} / {r['expected']:,} | {r['restarted']} | "
        f"{load} → {load_after} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--old", default="merge-base", help="git revision, or none")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nidb-bench-declarations-"))
    cluster = work / "pg"
    runs: list[tuple[str, Path]] = []
    if args.old != "none":
        rev, tree = _old_tree(args.old, work / "old")
        runs.append((f"old ({rev})", tree))
    runs.append(("new", ROOT))
    results: list[tuple[str, dict[str, Any]]] = []
    try:
        if args.postgres:
            started = subprocess.run(
                [str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(cluster)],
                capture_output=True, text=True, check=True,
                env={**os.environ, "NIDB_PG_DURABLE": "1"},
            )  # fmt: skip
            cluster_url = started.stdout.strip().splitlines()[-1]
        for n, (name, tree) in enumerate(runs):
            if args.postgres:
                url = _fresh_database(cluster_url, f"bench_declarations_{n}")
            else:
                url = f"sqlite:///{work / f'declarations-{n}.sqlite3'}"
            r = measure(
                url=url, code_root=tree, rate=args.rate, duration=args.duration,
                workers=args.workers, work=work,
                postmaster=_postmaster(cluster) if args.postgres else None,
            )  # fmt: skip
            results.append((name, r))
            print(_row(name, r, args.postgres), flush=True)
    finally:
        if args.postgres:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(cluster)], check=False
            )
        shutil.rmtree(work, ignore_errors=True)
    database = (
        "PostgreSQL (private cluster, fsync and synchronous commit on)"
        if args.postgres
        else "SQLite (WAL)"
    )
    new = results[-1][1]
    met = new["p99"] <= 100 and new["achieved"] >= 0.99 * args.rate and new["errors"] == 0
    text = "\n".join(
        [
            f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {database}, {args.rate:.0f} "
            f"declarations/s for {args.duration:.0f} s {args.note}".rstrip(),
            "",
            f"`python bench/employer_declarations.py --rate {args.rate:.0f} --duration "
            f"{args.duration:.0f} --workers {args.workers}"
            f"{'' if args.postgres else ' --no-postgres'}"
            f"{'' if args.old == 'merge-base' else f' --old {args.old}'}`. Machine: "
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
            f"`nidb serve --workers {args.workers}` as a subprocess; client in the bench's "
            f"process (open loop on one asyncio loop, 64 kept-alive connections, envelopes signed "
            f"and requests prepared as bytes before the run); "
            f"{new['sent']:,} declarations measured after {new['warm']:,} warm-up ones at the "
            "same rate, once every worker accepts. Each: one signed one-worker increase (BHXH "
            "code issued, person, link, wage, three periods, card, audit entries, outbox "
            "events) in one transaction.",
            "",
            "| code | achieved | errors | p50 | p90 | p99 | max | nidb CPU ms/decl. | "
            "database CPU ms/decl. | applied / with audit entry / sent | workers replaced | "
            "load (1/5/15) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            *(_row(name, r, args.postgres) for name, r in results),
            "",
            f"Target (200/s, p99 ≤ 100 ms, 0 errors): **{'met' if met else 'NOT met'}** by the "
            "new code on this run.",
            "",
        ]
    )
    print(text)
    append_section(
        RESULTS, "# Employers' signed declarations over HTTP (bench/employer_declarations.py)\n\n",
        "\n" + text,
    )  # fmt: skip


if __name__ == "__main__":
    main()
