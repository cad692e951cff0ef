"""The XML 130 intake over HTTP: signed ``claims.submit/v1`` envelopes at a fixed rate.

Called by ``bench/claims.py --intake`` (see there). Target (issue 15): 100 envelopes per
second with p99 ≤ 200 ms. The load is an open loop: envelope i is due at start + i / rate and
its latency is measured from that moment, so a server that falls behind shows it in the
percentiles (no coordinated omission). Envelopes are signed before the timed run (each with its
own message id, within the 5-minute clock window), so the client's signing is not timed.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from bench.loadgen import cpu_seconds, latency_summary, open_loop, wait_up
from nidb.claims.catalogue import import_catalogue
from nidb.exchange.partners import add_grant, ensure_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey
from nidb.sim.generate.claims import (
    DRUGS,
    SERVICES,
    ClaimDraft,
    LineDraft,
    envelope,
    write_catalogues,
    xml_tables,
)
from nidb.store import models
from nidb.store.db import ensure_schema, make_engine
from nidb.store.models_claims import Claim

ROOT = Path(__file__).resolve().parent.parent
FACILITY = "01002"
HOSPITAL = f"VN/GOV/BYT/BV-{FACILITY}"


def _seed(url: str, cards: int, folder: Path, key: SigningKey) -> list[str]:
    engine = make_engine(url)
    ensure_schema(engine)
    codes = [f"DN40101{n:08d}" for n in range(cards)]  # group DN, level 4, province 01
    today = date.today()
    with engine.begin() as conn:
        conn.execute(
            insert(models.HealthCard),
            [
                {
                    "card_code": code, "bhxh_code": code[5:], "group_code": "DN",
                    "benefit_level": 4, "province_code": "01", "facility_code": FACILITY,
                    "valid_from": date(today.year - 1, 1, 1),
                    "valid_to": date(today.year + 1, 12, 31), "status": "active",
                }
                for code in codes
            ],
        )  # fmt: skip
    for kind, path in write_catalogues(folder, ["01"]).items():
        import_catalogue(engine, kind, path, "bench")
    if ensure_partner(engine, HOSPITAL, "Bệnh viện (benchmark)", "hospital", key.public_b64,
                      "bench", 100_000):  # fmt: skip
        add_grant(engine, HOSPITAL, "claims.submit/v1", "KCB", "h", "QĐ 130/QĐ-BYT", "bench")
    engine.dispose()
    return codes


def _drafts(
    rng: random.Random, cards: list[str], n: int, per_envelope: int
) -> list[list[ClaimDraft]]:
    day = datetime.now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=1)
    out = []
    for e in range(n):
        claims = []
        for c in range(per_envelope):
            lines = [LineDraft("service", *_pick(rng, SERVICES))]
            lines += [LineDraft("drug", *_pick(rng, DRUGS)) for _ in range(rng.randint(2, 5))]
            claims.append(
                ClaimDraft(
                    ma_lk=f"B{e:07d}-{c}", facility=FACILITY, card_code=rng.choice(cards),
                    registered_facility=FACILITY, admitted=day, discharged=day + timedelta(hours=2),
                    inpatient=False, lines=lines,
                )
            )  # fmt: skip
        out.append(claims)
    return out


def _pick(rng: random.Random, items: Any) -> tuple[str, str, str, int]:
    code, name, _unit, price, _ratio = rng.choice(items)
    return code, name, str(rng.randint(1, 20)), price


def run_intake(
    *, rate: float, duration: float, per_envelope: int, workers: int, postgres: bool, seed: int
) -> dict[str, Any]:
    """Start a database and ``nidb serve``, send the envelopes, return the measurements."""
    work = Path(tempfile.mkdtemp(prefix="nidb-intake-"))
    cluster = work / "pg"
    if postgres:
        started = subprocess.run(
            [str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(cluster)],
            capture_output=True, text=True, check=True,
            env={**os.environ, "NIDB_PG_DURABLE": "1"},
        )  # fmt: skip
        url = started.stdout.strip().splitlines()[-1]
    else:
        url = f"sqlite:///{work / 'intake.sqlite3'}"
    key = SigningKey.generate()
    rng = random.Random(seed)
    server = None
    try:
        cards = _seed(url, 2_000, work, key)
        total = int(rate * duration)
        # Warm-up: three seconds at the asked rate, not measured, so that both workers have
        # imported their modules and opened their pools, and the client's threads their
        # connections; the first second of a cold start (up to 1.5 s per envelope) is start-up,
        # not the steady intake the target is about.
        warm = int(rate * 3)
        envelopes_text = [
            envelope(FACILITY, [xml_tables(c) for c in claims])
            for claims in _drafts(rng, cards, total + warm, per_envelope)
        ]
        port = 18_000 + os.getpid() % 2_000
        env = {**os.environ, "NIDB_DATABASE_URL": url, "NIDB_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [sys.executable, "-m", "nidb", "serve", "--port", str(port), "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_up(f"{base}/health")
        client = ExchangeClient(base, HOSPITAL, key, timeout=30)
        sample = client.call("claims.submit/v1", "KCB", {"giamdinhhs": envelopes_text[0]})
        assert sample.status == 200 and sample.body["accepted"] == per_envelope, sample.body
        signed = [
            client.envelope("claims.submit/v1", "KCB", {"giamdinhhs": text})
            for text in envelopes_text[1:]
        ]
        sizes = [len(text) for text in envelopes_text]
        local = threading.local()

        def send(payload: dict[str, Any], due: float) -> tuple[float, bool]:
            http = getattr(local, "http", None)
            if http is None:
                http = local.http = httpx.Client(base_url=base, timeout=30)
            answer = http.post("/x/claims.submit/v1", json=payload)
            ok = answer.status_code == 200 and answer.json()["body"]["accepted"] == per_envelope
            return time.perf_counter() - due, ok

        with ThreadPoolExecutor(max_workers=64) as pool:
            open_loop(pool, signed[: warm - 1], rate, send)  # warm-up, not measured
            load_before = os.getloadavg()
            cpu_before = cpu_seconds(server.pid)
            start = time.perf_counter()
            results = open_loop(pool, signed[warm - 1 :], rate, send)
            elapsed = time.perf_counter() - start - 0.2
            load_after = os.getloadavg()
            cpu = cpu_seconds(server.pid) - cpu_before
        client.close()
        latencies = [r[0] * 1000 for r in results]
        if os.environ.get("NIDB_BENCH_TRACE"):
            Path(os.environ["NIDB_BENCH_TRACE"]).write_text(
                "\n".join(f"{i / rate:.2f} {lat:.1f}" for i, lat in enumerate(latencies))
            )
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(Claim)).scalar_one()
        engine.dispose()
        return {
            "database": "PostgreSQL (private cluster, fsync on)" if postgres else "SQLite (WAL)",
            "workers": workers,
            "rate": rate,
            **latency_summary(results, elapsed),
            "per_envelope": per_envelope,
            "warm": warm,
            "envelope_kb": sum(sizes) / len(sizes) / 1024,
            "stored": stored,
            "expected": (len(signed) + 1) * per_envelope,
            "load_before": load_before,
            "load_after": load_after,
            "cpus": os.cpu_count(),
            "cpu_ms": cpu * 1000 / len(results),
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if postgres:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(cluster)], check=False
            )
        shutil.rmtree(work, ignore_errors=True)
