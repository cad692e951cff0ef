"""What the second factor adds to a staff sign-in, with production argon2 parameters.

Times, on a fresh register (SQLite file, or PostgreSQL with ``--database-url``), the steps of a
sign-in of an enrolled account: the password (``authenticate``, one argon2id verification), a
TOTP code (``check_code``: decrypt the secret, three HMACs, one conditional update, the audit
row), and a recovery code in the worst case (the last unused one: up to ten argon2id
verifications). Each step runs ``--runs`` times; the median and the slowest are kept. No target
is set by the issue: the numbers say what a sign-in costs the server.

    python bench/staff_second_factor.py
    python bench/staff_second_factor.py --database-url postgresql+psycopg://…/db

Appends to bench/results/staff_second_factor.md.
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

RESULTS = ROOT / "bench" / "results" / "staff_second_factor.md"
PASSWORD = "Bench-mat-khau-2026!"


def timed(step: Callable[[int], object], runs: int) -> tuple[float, float]:
    """Median and slowest of ``runs`` calls of ``step(i)``, in milliseconds."""
    times = []
    for i in range(runs):
        start = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nidb-bench-2fa-"))
    os.environ["NIDB_STAFF_TOTP_KEY_FILE"] = str(work / "totp.key")
    url = args.database_url or f"sqlite:///{work / 'nidb.sqlite3'}"

    import pyotp
    from sqlalchemy import select, update

    from nidb.store.db import ensure_schema, make_engine
    from nidb.store.models_web import StaffUser
    from nidb.web import staff_totp
    from nidb.web.staff_users import authenticate, create_staff_user

    engine = make_engine(url)
    ensure_schema(engine)
    username = f"bench.2fa.{int(time.time())}"
    create_staff_user(
        engine, username=username, full_name="Bench", password=PASSWORD, role="admin",
        actor="bench:2fa",
    )  # fmt: skip
    enrolment = staff_totp.begin_enrolment(engine, username)
    assert enrolment is not None
    app = pyotp.TOTP(enrolment.secret)
    step_now = int(time.time() // staff_totp.STEP_SECONDS)
    codes = staff_totp.confirm_enrolment(engine, username, app.generate_otp(step_now - 1), "b")
    assert codes is not None

    def password(_: int) -> None:
        assert authenticate(engine, username, PASSWORD, "bench").outcome.value == "code_needed"

    def totp(_: int) -> None:
        # each run needs a code not used yet: start every run from an earlier last step
        with engine.begin() as conn:
            conn.execute(
                update(StaffUser).where(StaffUser.username == username)
                .values(totp_last_step=step_now - 3)
            )  # fmt: skip
        code = app.generate_otp(int(time.time() // staff_totp.STEP_SECONDS))
        assert staff_totp.check_code(engine, username, code, "bench").outcome.value == "ok"

    def recovery(_: int) -> None:
        # the newest unused code: every other unused hash is tried before it
        code = codes.pop()
        assert staff_totp.check_code(engine, username, code, "bench").outcome.value == "ok"

    rows = [
        ("password (argon2id, 1 hash)", *timed(password, args.runs)),
        ("TOTP code", *timed(totp, args.runs)),
        ("recovery code, worst case (10 → 1 unused hashes)", *timed(recovery, len(codes))),
    ]
    with engine.connect() as conn:
        assert conn.execute(select(StaffUser.failed_attempts)).scalar_one() == 0
    load = os.getloadavg()
    backend = engine.dialect.name
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {backend}, {args.runs} runs, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n",
        "| step of a sign-in | median ms | slowest ms |",
        "|---|---:|---:|",
        *(f"| {name} | {median:.1f} | {slowest:.1f} |" for name, median, slowest in rows),
    ]
    print("\n".join(lines))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    append_section(
        RESULTS,
        "# Staff two-factor sign-in: what each step costs the server\n\n"
        "`python bench/staff_second_factor.py [--database-url URL]` (production argon2 "
        "parameters; the recovery-code row uses the 10 codes once each, newest unused last, "
        "so its first run verifies 10 hashes and its last 1).\n",
        "\n".join(lines) + "\n",
    )


if __name__ == "__main__":
    main()
