"""Portal and console pages on the 1-million-person register on PostgreSQL: p50/p95/p99 per page.

Target (issue 5): pages render in ≤ 200 ms p95 with the 1M-person register on PostgreSQL.

1. The register: built once by ``bench/portal_build.py`` under ``--work`` (generate, import,
   real ``nidb verify`` against the population stand-in, real ``nidb detect``), reused after.
2. Sessions are opened directly in ``web_sessions`` (the session API's table; no VNeID round
   trip, no password hashing): a citizen with a verified record and a card, and staff of three
   kinds — central reviewer, Hà Nội (01) province reviewer, central auditor.
3. nidb is served by uvicorn in a second process (one worker; its lifespan runs, as in
   production), and one client fetches each page ``--requests`` times in turn, after
   ``--warmup`` requests: the time one user waits for a page, not throughput.
   A page this source tree does not serve (404, e.g. the citizen pages before the portal
   branch is merged) is reported as absent, not timed.

    python bench/portal.py --work /work/bench/portal-1m --requests 200

Appends to bench/results/portal.md (machine, command, load average before and after).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.portal_build import ensure_register, stop_cluster  # noqa: E402
from bench.sections import append_section  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "portal.md"
TARGET_P95_MS = 200.0
STAFF = {
    # username: role, scope level, province
    "bench.rv.tw": ("reviewer", "central", None),
    "bench.rv.hn": ("reviewer", "province", "01"),
    "bench.kt.tw": ("auditor", "central", None),
}


def open_session(engine, kind: str, subject: str, data: dict[str, object]) -> str:  # type: ignore[no-untyped-def]
    """A live session row for ``subject``; the cookie value."""
    from sqlalchemy import insert

    from nidb.store.models_web import WebSession

    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(WebSession).values(
                token_hash=hashlib.sha256(token.encode()).hexdigest(), kind=kind,
                subject=subject, data=data, csrf_token=secrets.token_urlsafe(32),
                created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=8),
            )
        )  # fmt: skip
    return token


def prepare(url: str) -> tuple[dict[str, str], dict[str, str]]:
    """Staff accounts and sessions, a citizen session; (cookie by user, path parameters)."""
    from sqlalchemy import select, text

    from nidb.store import models
    from nidb.store.db import make_engine
    from nidb.store.models_web import StaffUser
    from nidb.web.staff_users import create_staff_user

    engine = make_engine(url)
    cookies: dict[str, str] = {}
    with engine.connect() as conn:
        known = set(conn.execute(select(StaffUser.username)).scalars())
    for username, (role, level, province) in STAFF.items():
        if username not in known:
            create_staff_user(
                engine, username=username, full_name=f"Bench {username}",
                password="Bench-mat-khau-2026!", role=role, scope_level=level,
                province_code=province, actor="bench:portal",
            )  # fmt: skip
        cookies[username] = open_session(engine, "staff", username, {})
    with engine.connect() as conn:
        citizen = conn.execute(
            text(
                "SELECT p.verified_personal_id, p.full_name FROM persons p "
                "JOIN health_cards c ON c.bhxh_code = p.bhxh_code "
                "WHERE p.verification_status = 'verified' AND p.bhxh_code >= '01' "
                "AND p.bhxh_code < '02' ORDER BY p.record_id LIMIT 1"
            )
        ).one()
        items = models.ReviewItem.__table__
        persons = models.Person.__table__
        item = conn.execute(
            select(items.c.id)
            .join(persons, persons.c.record_id == items.c.record_id)
            .where(
                items.c.status == "open", persons.c.bhxh_code >= "01", persons.c.bhxh_code < "02"
            )
            .order_by(items.c.id)
            .limit(1)
        ).scalar_one()
    cookies["citizen"] = open_session(
        engine, "citizen", citizen.verified_personal_id, {"full_name": citizen.full_name}
    )
    engine.dispose()
    return cookies, {"item": str(item)}


def pages(params: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, user, path) of every timed page."""
    return [
        ("citizen: my record", "citizen", "/cong-dan/ho-so"),
        ("citizen: e-card", "citizen", "/cong-dan/the-bhyt"),
        ("citizen: access history", "citizen", "/cong-dan/truy-cap"),
        ("staff home (central)", "bench.rv.tw", "/can-bo/"),
        ("staff home (province 01)", "bench.rv.hn", "/can-bo/"),
        ("review queue (central)", "bench.rv.tw", "/can-bo/doi-soat/"),
        ("review queue (province 01)", "bench.rv.hn", "/can-bo/doi-soat/"),
        ("review queue page 100 (central)", "bench.rv.tw", "/can-bo/doi-soat/?trang=100"),
        ("review item (province 01, logged)", "bench.rv.hn", f"/can-bo/doi-soat/{params['item']}"),
        ("dashboard (central)", "bench.kt.tw", "/can-bo/bang-dieu-khien/"),
        ("dashboard (province 01)", "bench.rv.hn", "/can-bo/bang-dieu-khien/"),
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    """uvicorn in a child process serving nidb over ``url``; returns once it answers."""
    env = {**os.environ, "NIDB_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "nidb.api.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return child
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    child.kill()
    raise SystemExit("nidb did not start")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(
    base: str, cookies: dict[str, str], params: dict[str, str], requests: int, warmup: int
) -> list[tuple[str, str, int, float, float, float, float, str]]:
    """(label, path, n, first ms, p50, p95, p99, note) per page."""
    rows = []
    for label, user, path in pages(params):
        with httpx.Client(
            base_url=base, cookies={"nidb_session": cookies[user]}, timeout=30
        ) as client:
            started = time.perf_counter()
            first = client.get(path)
            first_ms = (time.perf_counter() - started) * 1000
            if first.status_code == 404:
                rows.append((label, path, 0, first_ms, 0, 0, 0, "absent in this source tree (404)"))
                continue
            if first.status_code != 200:
                raise SystemExit(f"{path} as {user}: HTTP {first.status_code}")
            for _ in range(warmup):
                client.get(path)
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    raise SystemExit(f"{path} as {user}: HTTP {answer.status_code}")
        rows.append((
            label, path, len(times), first_ms, statistics.median(times),
            quantile(times, 0.95), quantile(times, 0.99), "",
        ))  # fmt: skip
        print(f"  {label}: p50 {rows[-1][4]:.1f} ms, p95 {rows[-1][5]:.1f} ms", flush=True)
    return rows


def counts(url: str) -> str:
    from sqlalchemy import text

    from nidb.store.db import make_engine

    engine = make_engine(url)
    parts = []
    with engine.connect() as conn:
        for table in ("persons", "citizens", "health_cards", "review_items", "alerts", "audit_log"):
            n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            parts.append(f"{table} {n:,}")
    engine.dispose()
    return ", ".join(parts)


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def write(
    rows: list,
    args: argparse.Namespace,
    sizes: str,
    load_before: str,
    load_after: str,
    build: list[str],
) -> None:  # type: ignore[type-arg]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {args.people:,}-person register, PostgreSQL\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, Python "
        f"{platform.python_version()}; shared with other work: load average {load_before} before, "
        f"{load_after} after. Command: `python bench/portal.py --work {args.work} --requests "
        f"{args.requests}`. One uvicorn worker, one client in another process, requests in turn "
        f"({args.warmup} warm-up requests per page first). Register: {sizes}.\n",
        f"Target: p95 ≤ {TARGET_P95_MS:.0f} ms per page.\n",
        "| page | path | requests | first ms | p50 ms | p95 ms | p99 ms | p95 ≤ 200 ms |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, path, n, first, p50, p95, p99, note in rows:
        if note:
            lines.append(f"| {label} | `{path}` | — | — | — | — | — | {note} |")
        else:
            ok = "yes" if p95 <= TARGET_P95_MS else "**NO**"
            lines.append(
                f"| {label} | `{path}` | {n} | {first:.1f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {ok} |"
            )
    if build:
        lines.append("\nBuild of the register (once, reused since): " + "; ".join(build) + ".")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    append_section(
        RESULTS,
        "# Portal and console pages on the 1M-person register (PostgreSQL)\n\n"
        "Written by `bench/portal.py` (its docstring says what runs).\n",
        "\n".join(lines) + "\n",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/work/bench/portal-1m"))
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--keep-running", action="store_true", help="leave the cluster up")
    args = parser.parse_args()
    server = None
    try:
        url, build = ensure_register(args.work, args.people)
        cookies, params = prepare(url)
        sizes = counts(url)
        port = free_port()
        server = serve(url, port)
        load_before = load()
        rows = measure(f"http://127.0.0.1:{port}", cookies, params, args.requests, args.warmup)
        write(rows, args, sizes, load_before, load(), build)
        print(RESULTS.read_text().split("\n## ")[-1])
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep_running:
            stop_cluster(args.work)


if __name__ == "__main__":
    main()
