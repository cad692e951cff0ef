"""kill -9 during the assessment leaves the month wholly assessed or not at all (a real process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from sqlalchemy import Engine, insert, text

from nidb.store.models_employment import DeclaredWage
from tests import seed

WORKERS = 30_000


def seed_workers(engine: Engine) -> None:
    from datetime import date

    with seed.register(engine) as reg:
        for e in range(WORKERS // 20):
            reg.employer(f"DN{e:05d}")
        reg.conn.execute(
            insert(DeclaredWage),
            [
                {
                    "employer_code": f"DN{i // 20:05d}",
                    "bhxh_code": f"{i:010d}",
                    "from_month": date(2026, 1, 1),
                    "wage": 6_000_000 + (i % 1000) * 10_001,
                    "contract_type": "indefinite",
                    "full_time": True,
                    "social": True,
                    "health": True,
                    "unemployment": True,
                }
                for i in range(WORKERS)
            ],
        )


def assess(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NIDB_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "nidb", "contributions", "assess", "--month", "2026-11"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def state(engine: Engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
            for t in (
                "contribution_runs",
                "contribution_lines",
                "contribution_charges",
                "contribution_assessments",
            )
        )


def test_sigkill_during_assessment_then_rerun_assesses_the_month_exactly_once(
    engine: Engine, database_url: str
) -> None:
    seed_workers(engine)
    victim = assess(database_url)
    assert victim.stdout is not None
    seen = ""
    while "worker lines" not in seen:  # the lines are written, the transaction still open
        line = victim.stdout.readline()
        assert line, seen + (victim.stderr.read() if victim.stderr else "")
        seen += line
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert state(engine) == (0, 0, 0, 0), "a killed assessment must leave nothing behind"
    again = assess(database_url)
    output, errors = again.communicate(timeout=300)
    assert again.returncode == 0, output + errors
    assert state(engine) == (1, WORKERS, WORKERS // 20, WORKERS // 20 * 5)
