"""Benchmark of the online services: renewals submitted and paid (signed callback, cards
issued), and the overdue query over many dossiers.

    PYTHONPATH=$PWD python bench/services.py --database-url sqlite:////tmp/s.sqlite3 --households 300
    PYTHONPATH=$PWD python bench/services.py --database-url postgresql+psycopg://… --households 300

The database must be empty (a fresh file or database); it is migrated first.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from nidb.services.payments import handle_callback
from nidb.services.renewal import submit_renewal
from nidb.services.views import overdue
from nidb.sim.payment.app import canonical, sign
from nidb.store import models
from nidb.store.db import ensure_schema, make_engine
from nidb.store.models_services import Dossier, Payment

SECRET = "bench"


def _pid(i: int, member: int) -> str:
    return f"0010{80 + member:02d}{i:06d}"


def seed(engine, households: int) -> None:  # type: ignore[no-untyped-def]
    citizens, persons = [], []
    for i in range(households):
        for m in range(3):
            pid = _pid(i, m)
            citizens.append(
                {
                    "personal_id": pid,
                    "full_name": "Nguyễn Văn An",
                    "name_base": "nguyen van an",
                    "date_of_birth": f"19{80 + m}-01-01",
                    "dob_precision": "day",
                    "birth_year": 1980 + m,
                    "gender": "M",
                    "birth_province": "001",
                    "permanent_address": "Hà Nội",
                    "household_id": f"HK-{i}",
                    "status": "alive",
                }
            )
            persons.append(
                {
                    "record_id": f"R-{pid}",
                    "bhxh_code": f"01{i:06d}{m:02d}",
                    "full_name": "Nguyễn Văn An",
                    "name_base": "nguyen van an",
                    "date_of_birth": f"19{80 + m}-01-01",
                    "dob_precision": "day",
                    "birth_year": 1980 + m,
                    "gender": "M",
                    "verification_status": "verified",
                    "verified_personal_id": pid,
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(models.Citizen), citizens)
        conn.execute(insert(models.Person), persons)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--dossiers", type=int, default=100_000)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    ensure_schema(engine)
    seed(engine, args.households)

    started = time.perf_counter()
    views = [
        submit_renewal(engine, _pid(i, 0), [_pid(i, m) for m in range(3)], 12)
        for i in range(args.households)
    ]
    submit_s = time.perf_counter() - started

    with engine.begin() as conn:
        conn.execute(
            insert(Payment),
            [
                {
                    "dossier_id": v.summary.id,
                    "reference": f"B-{v.summary.id}",
                    "amount": v.data["total"],
                }
                for v in views
            ],
        )
    started = time.perf_counter()
    for v in views:
        body = {
            "payment_id": "p",
            "reference": f"B-{v.summary.id}",
            "amount": v.data["total"],
            "status": "paid",
            "transaction_id": f"T-{v.summary.id}",
            "paid_at": None,
            "timestamp": int(time.time()),
        }
        raw = canonical(body)
        assert handle_callback(engine, raw, sign(SECRET, body), secret=SECRET).outcome == "paid"
        assert (
            handle_callback(engine, raw, sign(SECRET, body), secret=SECRET).outcome == "duplicate"
        )
    pay_s = time.perf_counter() - started

    now = datetime.now(UTC)
    rows = [
        {
            "kind": "one_time_si",
            "state": "submitted" if i % 10 else "approved",
            "province": f"{1 + i % 7:02d}",
            "state_due_at": now + timedelta(days=(i % 20) - 10) if i % 10 else None,
            "data": {},
            "checks": [],
        }
        for i in range(args.dossiers)
    ]
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(Dossier), rows[start : start + 10_000])
    started = time.perf_counter()
    late_all = len(overdue(engine))
    all_s = time.perf_counter() - started
    started = time.perf_counter()
    late_one = len(overdue(engine, "01"))
    one_s = time.perf_counter() - started
    n = args.households
    print(f"engine {engine.dialect.name}; households {n} (3 members each)")
    print(f"renewals submitted: {n / submit_s:.0f}/s ({submit_s * 1000 / n:.1f} ms each)")
    print(
        f"paid callbacks (cards issued) + duplicate: {n / pay_s:.0f}/s pairs ({pay_s * 1000 / n:.1f} ms per pair)"
    )
    print(
        f"overdue over {args.dossiers + n:,} dossiers: all provinces {late_all:,} rows in {all_s * 1000:.0f} ms; one province {late_one:,} rows in {one_s * 1000:.0f} ms"
    )
    _record(
        engine.dialect.name,
        n,
        args.dossiers + n,
        (n / submit_s, n / pay_s, late_all, all_s, late_one, one_s),
    )


def _record(engine: str, households: int, dossiers: int, figures: tuple[float, ...]) -> None:
    """Append this run's row to bench/results/services.md (with machine, load and command)."""
    submits, pays, late_all, all_s, late_one, one_s = figures
    out = Path(__file__).parent / "results" / "services.md"
    new = not out.exists()
    with out.open("a", encoding="utf-8") as f:
        if new:
            f.write("# Online services: renewals, paid callbacks, overdue query\n\n")
            f.write(
                "| when (UTC) | engine | households | renewals/s | paid callback + duplicate /s "
                "| overdue, all provinces | overdue, one province | load | machine |\n"
                "|---|---|---|---|---|---|---|---|---|\n"
            )
        f.write(
            f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {engine} | {households} | {submits:.0f} "
            f"| {pays:.0f} | {late_all:,} of {dossiers:,} dossiers in {all_s * 1000:.0f} ms "
            f"| {late_one:,} in {one_s * 1000:.0f} ms | {os.getloadavg()[0]:.1f} "
            f"| {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} |\n"
        )
    print(f"appended to {out} (command: {' '.join(sys.argv)})")


if __name__ == "__main__":
    main()
