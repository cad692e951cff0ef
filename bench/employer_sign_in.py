"""What the lockout adds to an employer's sign-in, and whether timing tells who is enrolled.

Measures, on a fresh register (SQLite file, or PostgreSQL with ``--database-url``) with
production argon2 parameters, the CPU time of this process per sign-in attempt
(``time.process_time``: the machine's other load does not count, only the work done here) and
its wall time, for: the sign-in before the lockout (main's route: one SELECT, one argon2id
verification, no write), and ``nidb.employers.passwords.sign_in`` with the right password, a
wrong one (counted: an UPDATE and an audit row), an unknown employer code, and a locked account
(a dummy verification). The ratios are what matter: right password now / before (the
lockout's cost), unknown code / wrong password and locked / wrong password (≈ 1: an attacker
cannot tell enrolled employers or locked accounts by timing).

    python bench/employer_sign_in.py [--runs 15] [--database-url postgresql+psycopg://…/db]

On PostgreSQL the server's CPU is not in ``process_time``; the wall-time column includes it.
Appends to bench/results/employer_sign_in.md with the load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import append_section  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "employer_sign_in.md"
PASSWORD = "Bench-Don-vi-2026!"
WRONG = "Sai-mat-khau-2026!"


def timed(step: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median CPU ms and median wall ms of ``runs`` calls of ``step``."""
    cpu, wall = [], []
    for _ in range(runs):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        step()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start_wall) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nidb-bench-emplogin-"))
    url = args.database_url or f"sqlite:///{work / 'nidb.sqlite3'}"

    from sqlalchemy import insert, select, update

    from nidb.employers.accounts import enrol
    from nidb.employers.passwords import hash_password, sign_in, verify_password
    from nidb.protocol.keys import SigningKey
    from nidb.store import models
    from nidb.store.db import ensure_schema, make_engine
    from nidb.store.models_employers import EmployerAccount

    engine = make_engine(url)
    ensure_schema(engine)
    code = f"BE{int(time.time()) % 100000:05d}A"
    with engine.begin() as conn:
        conn.execute(
            insert(models.Employer).values(
                employer_code=code, name="Công ty Bench", province="01",
                employer_type="enterprise", status="active",
            )
        )  # fmt: skip
        enrol(conn, code, SigningKey.generate().public_b64, "bench", hash_password(PASSWORD))

    def before() -> None:  # main's route before the lockout: read, verify, nothing written
        with engine.connect() as conn:
            row = conn.execute(
                select(EmployerAccount.password_hash, EmployerAccount.status, models.Employer.name)
                .join(
                    models.Employer, models.Employer.employer_code == EmployerAccount.employer_code
                )
                .where(EmployerAccount.employer_code == code)
            ).first()
        assert row is not None and verify_password(str(row.password_hash), PASSWORD)

    def reset() -> None:
        with engine.begin() as conn:
            conn.execute(update(EmployerAccount).values(failed_attempts=0, locked_until=None))

    def right() -> None:
        assert sign_in(engine, code, PASSWORD, "bench").outcome.value == "ok"

    def wrong() -> None:
        reset()  # every run a counted failure, never the locking one
        assert sign_in(engine, code, WRONG, "bench").outcome.value == "wrong_credentials"

    def unknown() -> None:
        assert sign_in(engine, "ZZ99999Z", WRONG, "bench").outcome.value == "wrong_credentials"

    def locked() -> None:
        assert sign_in(engine, code, PASSWORD, "bench").outcome.value == "locked"

    rows = [
        ("before the lockout (main): right password", *timed(before, args.runs)),
        ("now: right password", *timed(right, args.runs)),
        ("now: wrong password (counted, audited)", *timed(wrong, args.runs)),
        ("now: unknown employer code", *timed(unknown, args.runs)),
    ]
    reset()
    for _ in range(5):
        sign_in(engine, code, WRONG, "bench")
    rows.append(("now: locked account, right password", *timed(locked, args.runs)))
    cpu = {name: c for name, c, _ in rows}
    ratios = [
        ("right password, now / before", cpu["now: right password"] / cpu[rows[0][0]]),
        (
            "unknown code / wrong password",
            cpu["now: unknown employer code"] / cpu["now: wrong password (counted, audited)"],
        ),
        (
            "locked / wrong password",
            cpu["now: locked account, right password"]
            / cpu["now: wrong password (counted, audited)"],
        ),
    ]
    load = os.getloadavg()
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {engine.dialect.name}, {args.runs} runs, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n",
        "| attempt | median CPU ms (this process) | median wall ms |",
        "|---|---:|---:|",
        *(f"| {name} | {c:.1f} | {w:.1f} |" for name, c, w in rows),
        "",
        "| ratio (CPU) | |",
        "|---|---:|",
        *(f"| {name} | {value:.2f} |" for name, value in ratios),
    ]
    print("\n".join(lines))
    append_section(
        RESULTS,
        "# Employer sign-in: the lockout's cost, and timing that tells nothing\n\n"
        "`python bench/employer_sign_in.py [--runs 15] [--database-url URL]` (production argon2 "
        "parameters; CPU of this process per attempt, so the machine's other load does not "
        "count; on PostgreSQL the server's share is only in the wall column).\n",
        "\n".join(lines) + "\n",
    )


if __name__ == "__main__":
    main()
