"""Time the citizen portal's pages against a big register (a probe; the full portal benchmark,
citizen and staff pages with the 1M build, is bench/portal.py).

Signs ``--people`` random verified citizens in through ``open_session`` (no VNeID round trip),
serves nidb under uvicorn in a second process (one worker, lifespan off: the register is used as
it is, never migrated), and fetches each page once per citizen, in turn, from one client:
render time as one citizen sees it, not throughput. The sessions are deleted at the end.

    python bench/citizen_pages.py --database-url postgresql+psycopg://…/nidb --people 200

Prints p50/p95/p99 per page and appends them to bench/results/citizen_pages.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import delete, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nidb.store.db import make_engine  # noqa: E402
from nidb.store.models_web import WebSession  # noqa: E402
from nidb.web.sessions import open_session  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "citizen_pages.md"
PAGES = {
    "home /cong-dan/": ("/cong-dan/", "Xin chào"),
    "my record /cong-dan/ho-so": ("/cong-dan/ho-so", "Quá trình tham gia"),
    "e-card /cong-dan/the-bhyt": ("/cong-dan/the-bhyt", "Thẻ BHYT điện tử"),
    "access history /cong-dan/truy-cap": ("/cong-dan/truy-cap", "Ai đã xem"),
    "corrections /cong-dan/dieu-chinh": ("/cong-dan/dieu-chinh", "Yêu cầu điều chỉnh"),
    "consents /cong-dan/dong-y": ("/cong-dan/dong-y", "Đồng ý chia sẻ"),
}
TARGET_P95_MS = 200.0


def app():  # type: ignore[no-untyped-def]
    """uvicorn's factory in the server process: nidb over NIDB_DATABASE_URL, schema untouched."""
    from nidb.api.app import create_app

    return create_app()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--people", type=int, default=200)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    load_before = os.getloadavg()[0]
    with engine.connect() as conn:
        persons = conn.execute(text("SELECT count(*) FROM persons")).scalar_one()
        sampling = "TABLESAMPLE SYSTEM (2)" if conn.dialect.name == "postgresql" else ""
        sample = conn.execute(
            text(
                f"SELECT p.verified_personal_id, max(p.full_name) FROM persons p {sampling} "
                "WHERE p.verified_personal_id IS NOT NULL "
                "GROUP BY p.verified_personal_id LIMIT :n"
            ),
            {"n": args.people},
        ).all()
    if not sample:
        raise SystemExit("no verified person in this register: run `nidb verify` first")
    sessions = [open_session(engine, "citizen", pid, {"full_name": name}) for pid, name in sample]
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="nidb-citizen-bench-")
    env = {**os.environ, "NIDB_DATABASE_URL": args.database_url, "NIDB_DATA_DIR": data_dir,
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.citizen_pages:app",
         "--port", str(port), "--lifespan", "off", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    timings: dict[str, list[float]] = {label: [] for label in PAGES}
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(200):
                try:
                    http.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            for token, _info in sessions[:10]:  # warm up connections, caches, templates
                for path, _marker in PAGES.values():
                    http.get(path, cookies={"nidb_session": token})
            for token, _info in sessions:
                for label, (path, marker) in PAGES.items():
                    started = time.perf_counter()
                    answer = http.get(path, cookies={"nidb_session": token})
                    elapsed = (time.perf_counter() - started) * 1000
                    if answer.status_code != 200 or marker not in answer.text:
                        raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
                    timings[label].append(elapsed)
    finally:
        server.terminate()
        server.wait(timeout=10)
        with engine.begin() as conn:
            conn.execute(delete(WebSession).where(WebSession.id.in_([i.id for _, i in sessions])))
    load = os.getloadavg()
    rows = [
        (label, len(v), statistics.median(v), percentile(v, 0.95), percentile(v, 0.99))
        for label, v in timings.items()
    ]
    worst = max(r[3] for r in rows)
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {persons:,} person records, "
        f"{len(sessions)} citizens",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average before/after "
        f"{load_before:.1f}/{load[0]:.1f} (shared with other jobs). Command: `python bench/citizen_pages.py "
        f"--database-url … --people {args.people}`. One client, one uvicorn worker, loopback.",
        "",
        "| page | requests | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|",
        *(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} |" for r in rows),
        "",
        f"Target p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if worst <= TARGET_P95_MS else 'NOT met'} "
        f"(worst p95 {worst:.1f} ms).",
        "",
    ]
    print("\n".join(lines))
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
