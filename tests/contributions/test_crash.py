"""kill -9 during the assessment leaves the month wholly assessed or not at all (a real process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

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


def test_sigkill_during_reconciliation_then_rerun_keeps_each_line_once(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from datetime import date

    from nidb.contributions.assess import assess_month
    from nidb.sim.bank.camt import Credit, write_statement

    with seed.register(engine) as reg:
        reg.employer("DN00001").wage("DN00001", "0000000001", 10_000_000, "2026-08")
    assess_month(engine, date(2026, 8, 1), actor="test:crash")
    lines = 12_000
    path = tmp_path / "camt053.xml"
    write_statement(
        path,
        "STMT-1",
        "1234567890",
        date(2026, 9, 5),
        (
            Credit(f"FT{n:08d}", 1_000 + n, date(2026, 9, 5), "CONG TY", "111", "BHXH DN00001")
            for n in range(lines)
        ),
    )
    env = {**os.environ, "NIDB_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    victim = subprocess.Popen(
        [sys.executable, "-m", "nidb", "contributions", "reconcile", str(path)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert victim.stdout is not None
    seen = ""
    while "dòng đã đọc" not in seen:  # a chunk is written, the transaction still open
        line = victim.stdout.readline()
        assert line, seen + (victim.stderr.read() if victim.stderr else "")
        seen += line
    victim.send_signal(signal.SIGKILL)
    victim.wait()

    def kept() -> tuple[int, int]:
        with engine.connect() as conn:
            return (
                int(
                    conn.execute(text("SELECT COUNT(*) FROM contribution_bank_lines")).scalar_one()
                ),
                int(conn.execute(text("SELECT COUNT(*) FROM contribution_payments")).scalar_one()),
            )

    assert kept() == (0, 0), "a killed reconciliation must leave nothing behind"
    again = subprocess.run(
        [sys.executable, "-m", "nidb", "contributions", "reconcile", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert kept() == (lines, lines)
