"""Card-check benchmark: signed, authorised and audited requests against a big card register.

One run, on one machine, on a private PostgreSQL (fsync and synchronous commit ON, since the
access log must be durable before a reply leaves):

1. the register holds ``--cards`` health-insurance cards and as many person records (loaded
   once with COPY and kept in ``--work``/pg-exchange-N for later runs);
   PostgreSQL gets a buffer cache that holds the register and is prewarmed (``pg_prewarm``),
   as a production server would be sized;
2. **peer** — ``bench/exchange_baseline.py``: the same card lookup, plain JSON, no signature,
   no grant check, no audit, same framework and worker count;
3. **nidb** — ``nidb serve``: hospital requests signed with Ed25519, gate (signature, clock,
   replay, grant, rate limit), signed replies, every request in the hash-chained access log;
4. load from a second process on loopback: ``wrk`` (one thread) replaying pre-signed,
   never-repeated envelopes, one run per ``--connections`` value (default 16, 24, 32), both
   systems at each; latency percentiles from wrk. wrk is a closed loop, so at saturation the
   mean latency is connections ÷ throughput (32 connections at 2,000 req/s is 16 ms on average
   whatever the server does): the sweep shows throughput and tail latency together;
5. afterwards the access log must hold one entry per request and its chain must verify.

    .venv/bin/python bench/exchange.py --cards 10000000 --duration 30 --work /work/bench

Prints a table and appends a dated section to bench/results/exchange.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import append_section  # noqa: E402
from nidb.accesslog import count_entries, verify_chain  # noqa: E402
from nidb.protocol.client import ExchangeClient  # noqa: E402
from nidb.protocol.keys import SigningKey  # noqa: E402
from nidb.store.db import ensure_schema, make_engine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "exchange.md"
HOSPITAL = "VN/GOV/BYT/BV-BENCH"
TARGET_RPS, TARGET_P99_MS = 2000.0, 25.0
SHARED_BUFFERS = "6GB"  # the 10M register with its indexes is ~5.6 GB
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức", "Quang", "Thu", "Kim"]
GIVEN = [
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hương",
    "Khánh",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Linh",
]
GROUPS = [("DN", 4), ("HT", 3), ("TE", 1), ("GD", 4), ("HS", 4), ("CN", 3), ("HC", 4), ("NO", 4)]
BASE_CODE = 1_000_000_000


def person(i: int) -> tuple[str, str, str, str]:
    """The synthetic holder of card i: BHXH code, name, birth date, gender (deterministic)."""
    name = f"{FAMILY[i % 12]} {MIDDLE[(i // 12) % 10]} {GIVEN[(i // 120) % 24]}"
    born = date(1940 + i % 80, 1 + (i // 80) % 12, 1 + (i // 960) % 28)
    return f"{BASE_CODE + i:010d}", name, born.isoformat(), "M" if i % 2 else "F"


def _strip(name: str) -> str:
    from nidb.domain.names import strip_diacritics

    return strip_diacritics(name).lower()


def load_register(url: str, cards: int, chunk: int = 500_000) -> float:
    """COPY ``cards`` persons and cards into an empty register; returns seconds."""
    import psycopg

    started = time.perf_counter()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    year = date.today().year
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE persons, health_cards")
        for start in range(0, cards, chunk):
            persons_rows, card_rows = [], []
            for i in range(start, min(cards, start + chunk)):
                code, name, born, gender = person(i)
                persons_rows.append(
                    f"B{i}\t{code}\t{name}\t{_strip(name)}\t{born}\tday\t{born[:4]}\t{gender}\tverified\n"
                )
                group, level = GROUPS[i % 8]
                status = "active" if i % 50 else "suspended"
                five = "2019-01-01" if i % 3 == 0 else "\\N"
                card_rows.append(
                    f"{group}{level}{1 + i % 96:02d}{code}\t{code}\t{group}\t{level}\t{1 + i % 96:02d}\t"
                    f"{1 + i % 96:02d}{i % 900 + 1:03d}\t{year}-01-01\t{year}-12-31\t{five}\t{status}\n"
                )
            with cur.copy(
                "COPY persons (record_id, bhxh_code, full_name, name_base, date_of_birth, "
                "dob_precision, birth_year, gender, verification_status) FROM STDIN"
            ) as copy:
                copy.write("".join(persons_rows))
            with cur.copy(
                "COPY health_cards (card_code, bhxh_code, group_code, benefit_level, province_code, "
                "facility_code, valid_from, valid_to, five_years_from, status) FROM STDIN"
            ) as copy:
                copy.write("".join(card_rows))
            conn.commit()
            print(f"  loaded {min(cards, start + chunk):,} / {cards:,}", flush=True)
        cur.execute("ANALYZE persons")
        cur.execute("ANALYZE health_cards")
        conn.commit()
    return time.perf_counter() - started


def start_cluster(folder: Path) -> str:
    # durable commits; a buffer cache that holds the register, as a production server's would
    env = {**os.environ, "NIDB_PG_DURABLE": "1", "NIDB_PG_SHARED_BUFFERS": SHARED_BUFFERS}
    started = subprocess.run(
        [str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return started.stdout.strip().splitlines()[-1]


def stop_cluster(folder: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(folder)], check=False)


def prewarm(engine) -> str:  # type: ignore[no-untyped-def]
    """Load what a card check reads into PostgreSQL's buffer cache, for both systems alike
    (a freshly started server would otherwise spend the first runs reading it in)."""
    relations = ("health_cards", "ix_health_cards_bhxh_code", "persons", "ix_persons_bhxh_code")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            pages = sum(
                conn.execute(text("SELECT pg_prewarm(:r)"), {"r": r}).scalar_one()
                for r in relations
            )
    except Exception as error:  # contrib missing: measured cold, and the table says so
        return f"not prewarmed ({type(error).__name__})"
    return f"{pages * 8 / 1024 / 1024:.1f} GiB prewarmed"


def register_hospital(engine, key: SigningKey) -> None:  # type: ignore[no-untyped-def]
    """The benchmark hospital with a fresh key and a card-check grant (idempotent)."""
    from nidb.exchange.partners import add_grant, ensure_partner

    name = "Bệnh viện (benchmark)"
    if ensure_partner(engine, HOSPITAL, name, "hospital", key.public_b64, "bench", 100_000):
        add_grant(engine, HOSPITAL, "card.check/v1", "KCB", "dd", "Luật BHYT", "bench")
    with engine.begin() as conn:  # a register kept from an older run may hold a lower limit
        conn.execute(
            text("UPDATE partners SET rate_limit = 100000 WHERE code = :c"), {"c": HOSPITAL}
        )


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not start")


LUA = """
local bodies = {}
local n = 0
local i = 0
init = function(args)
  for line in io.lines(args[1]) do n = n + 1; bodies[n] = line end
end
request = function()
  i = i + 1
  if i > n then i = 1 end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end
"""


def run_wrk(
    url: str, bodies: Path, duration: int, connections: int, work: Path
) -> dict[str, float]:
    script = work / "bench.lua"
    script.write_text(LUA)
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            str(bodies),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> dict[str, float]:
    """Requests, req/s, latency percentiles (ms), non-2xx and socket errors from wrk's summary."""

    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": ms("50%"),
        "p90": ms("90%"),
        "p99": ms("99%"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cards", type=int, default=10_000_000)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument(
        "--connections",
        type=lambda text: [int(c) for c in text.split(",")],
        default=[16, 24, 32],
        help="wrk connections, one run per value (closed loop: latency ≈ connections / req/s)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "nidb-bench")
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    folder = args.work / f"pg-exchange-{args.cards}"
    url = start_cluster(folder)
    print(f"PostgreSQL at {url} (cluster {folder})")
    try:
        result = bench(url, args)
    finally:
        if not args.keep:
            stop_cluster(folder)
    write(result, args)


def prepare(url: str, cards: int):  # type: ignore[no-untyped-def]
    """The register loaded (once), a fresh access log, the cache prewarmed and the benchmark
    hospital registered with a new key: (engine, key, prewarm note, load seconds or None)."""
    engine = make_engine(url)
    ensure_schema(engine)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM health_cards")).scalar_one()
    load_seconds = None
    if have != cards:
        print(f"loading {cards:,} cards and persons …")
        load_seconds = load_register(url, cards)
    with engine.begin() as conn:  # the benchmark's throw-away register: a fresh access log
        conn.execute(text("ALTER TABLE access_log DISABLE TRIGGER USER"))
        conn.execute(text("TRUNCATE access_log"))
        conn.execute(text("ALTER TABLE access_log ENABLE TRIGGER USER"))
    warmed = prewarm(engine)
    print(f"buffer cache: {warmed}")
    key = SigningKey.generate()
    register_hospital(engine, key)
    return engine, key, warmed, load_seconds


def bench(url: str, args: argparse.Namespace) -> dict[str, object]:
    engine, key, warmed, load_seconds = prepare(url, args.cards)
    env = {**os.environ, "NIDB_DATABASE_URL": url, "NIDB_DATA_DIR": str(args.work / "data")}
    rng = random.Random(7)
    per_run = int(args.duration * 6000 * 1.2)  # more bodies than the fastest run can send
    levels: list[int] = args.connections
    picks = [rng.randrange(args.cards) for _ in range(per_run * len(levels))]
    plain = args.work / "plain.jsonl"
    with plain.open("w") as file:
        for i in picks[:per_run]:
            code, name, born, gender = person(i)
            file.write(
                json.dumps(
                    {"card_code": code, "full_name": name, "date_of_birth": born, "gender": gender},
                    ensure_ascii=False,
                )
                + "\n"
            )
    port = 18765
    results: dict[str, object] = {
        "cards": args.cards,
        "load_seconds": load_seconds,
        "prewarm": warmed,
        "peer": {},
        "nidb": {},
    }
    peer_runs: dict[int, dict[str, float]] = results["peer"]  # type: ignore[assignment]
    nidb_runs: dict[int, dict[str, float]] = results["nidb"]  # type: ignore[assignment]

    # the peer first, at every concurrency
    peer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.exchange_baseline:app",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/docs")
        endpoint = f"http://127.0.0.1:{port}/plain/card.check"
        run_wrk(endpoint, plain, 3, levels[0], args.work)  # warm-up
        for connections in levels:
            peer_runs[connections] = run_wrk(endpoint, plain, args.duration, connections, args.work)
            print(f"peer c{connections}:", peer_runs[connections])
    finally:
        peer.terminate()
        peer.wait(30)

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nidb",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/health")
        client = ExchangeClient(f"http://127.0.0.1:{port}", HOSPITAL, key)

        def signed_file(name: str, chosen: list[int]) -> Path:
            """Envelopes signed now, each message id used once."""
            path = args.work / name
            with path.open("w") as file:
                for i in chosen:
                    code, holder, born, gender = person(i)
                    body = {
                        "card_code": code,
                        "full_name": holder,
                        "date_of_birth": born,
                        "gender": gender,
                    }
                    envelope = client.envelope("card.check/v1", "KCB", body)
                    file.write(json.dumps(envelope, ensure_ascii=False) + "\n")
            return path

        # a check of one signed answer before the load, so the numbers are about correct replies
        code, holder, born, gender = person(picks[0])
        sample = client.call(
            "card.check/v1",
            "KCB",
            {"card_code": code, "full_name": holder, "date_of_birth": born, "gender": gender},
        )
        assert sample.status == 200 and sample.body["result_code"] in {"000", "120"}, sample
        endpoint = f"http://127.0.0.1:{port}/x/card.check/v1"
        run_wrk(endpoint, signed_file("warm.jsonl", picks[:20_000]), 3, levels[0], args.work)
        before = count_entries(engine)
        for n, connections in enumerate(levels):
            started = time.perf_counter()
            # signed just before its run: the clock window refuses envelopes older than 5 min
            bodies = signed_file("signed.jsonl", picks[n * per_run : (n + 1) * per_run])
            print(f"signed {per_run:,} envelopes in {time.perf_counter() - started:.1f} s")
            nidb_runs[connections] = run_wrk(
                endpoint, bodies, args.duration, connections, args.work
            )
            print(f"nidb c{connections}:", nidb_runs[connections])
        client.close()
    finally:
        server.terminate()
        server.wait(30)
    logged = count_entries(engine) - before
    report = verify_chain(engine)
    results["logged"] = logged
    results["completed"] = sum(int(r["requests"]) for r in nidb_runs.values())
    results["chain_intact"] = report.intact
    results["chain_entries"] = report.entries
    engine.dispose()
    return results


def write(result: dict[str, object], args: argparse.Namespace) -> None:
    peer_runs, nidb_runs = result["peer"], result["nidb"]
    assert isinstance(peer_runs, dict) and isinstance(nidb_runs, dict)
    levels = ",".join(str(c) for c in args.connections)
    met = [
        c
        for c, r in nidb_runs.items()
        if r["rps"] >= TARGET_RPS and r["p99"] <= TARGET_P99_MS and not r["non2xx"]
    ]
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {args.cards:,} cards, {args.duration} s per run, {levels} connections, {args.workers} workers",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, 24 GiB, Python {platform.python_version()}, "
        f"PostgreSQL 15 (fsync and synchronous_commit on, shared_buffers {SHARED_BUFFERS}, {result['prewarm']}). "
        "Load: wrk 4.1, one thread, second process, loopback, closed loop (each connection sends its next request when the reply arrives).",
        f"Command: `python bench/exchange.py --cards {args.cards} --duration {args.duration} --connections {levels} --workers {args.workers}`."
        f" Targets: ≥ {TARGET_RPS:,.0f} req/s with p99 ≤ {TARGET_P99_MS:.0f} ms (signed, audited).",
        "",
        "| system | connections | requests | req/s | p50 ms | p90 ms | p99 ms | non-2xx | nidb / peer |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for connections in args.connections:
        peer, ours = peer_runs[connections], nidb_runs[connections]
        lines.append(
            f"| peer: plain lookup, no signature, no audit | {connections} | {peer['requests']:,} | {peer['rps']:,.0f} | {peer['p50']:.2f} | {peer['p90']:.2f} | {peer['p99']:.2f} | {peer['non2xx']} | |"
        )
        lines.append(
            f"| nidb card.check/v1: signed both ways, gate, access log | {connections} | {ours['requests']:,} | {ours['rps']:,.0f} | {ours['p50']:.2f} | {ours['p90']:.2f} | {ours['p99']:.2f} | {ours['non2xx']} | {ours['rps'] / peer['rps']:.2f}× |"
        )
    lines += [
        "",
        f"Access-log entries written during the measured runs: {result['logged']:,} (wrk counted "
        f"{result['completed']:,} completed; entries of requests cut off when wrk stopped may add a few); "
        f"chain of {result['chain_entries']:,} entries {'intact' if result['chain_intact'] else 'BROKEN'}. "
        + (
            f"Target met at {', '.join(f'{c} connections' for c in met)}."
            if met
            else "Target NOT met at any concurrency."
        )
        + (
            f" Register loaded in {result['load_seconds']:.0f} s."
            if result.get("load_seconds")
            else ""
        ),
    ]
    text_out = "\n".join(lines) + "\n"
    print(text_out)
    append_section(
        RESULTS,
        "# Card check: signed and audited, against a plain lookup\n",
        text_out,
    )


if __name__ == "__main__":
    main()
