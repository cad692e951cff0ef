"""Importing benefits: pensions and other payments load, bad rows are named by row and field,
re-imports update in place by (bhxh_code, kind, start_date), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from nidb.ingest.loader import import_file
from nidb.sim.generate import generate
from nidb.store import models
from nidb.store.db import make_engine
from tests.ingest.test_import import count, rejected, write

TODAY = date(2026, 11, 23)
HEADER = "bhxh_code,kind,start_date,end_date,monthly_amount,lump_sum,status,decided_at"
GOOD = [
    "0101234567,pension,2019-06-01,,4500000,,active,2019-05-10",
    "0101234568,pension,2010-01-01,2025-03-14,3900000,,stopped,2009-12-01T09:30",
    "0101234569,survivor,2025-04-01,2031-02-27,1170000,,active,2025-03-20T10:00+07:00",
    "0101234570,one_time,2022-08-15,2022-08-15,,96000000,ended,",
    "0101234571,sickness,2026-10-01,2026-10-04,,790000,ended,2026-10-20",
    "0101234572,maternity,2026-06-01,2026-11-29,10200000,4680000,active,2026-06-10",
]


def benefits(engine: Engine) -> dict[tuple[str, str], models.Benefit]:
    with engine.connect() as conn:
        rows = conn.execute(select(models.Benefit.__table__)).all()
    return {(row.bhxh_code, row.kind): row for row in rows}  # type: ignore[misc]


def test_valid_benefits_load_with_amounts_dates_and_decision_times(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path / "benefits.csv", [HEADER, *GOOD])
    report = import_file(engine, "benefits", path, today=TODAY)
    assert (report.inserted, report.rejected) == (6, 0)
    rows = benefits(engine)
    pension = rows[("0101234567", "pension")]
    assert (pension.start_date, pension.end_date) == (date(2019, 6, 1), None)
    assert (pension.monthly_amount, pension.lump_sum, pension.status) == (4_500_000, None, "active")
    assert pension.batch_id == report.batch_id
    stopped = rows[("0101234568", "pension")]
    assert (stopped.status, stopped.end_date) == ("stopped", date(2025, 3, 14))
    maternity = rows[("0101234572", "maternity")]
    assert (maternity.monthly_amount, maternity.lump_sum) == (10_200_000, 4_680_000)
    assert rows[("0101234570", "one_time")].decided_at is None

    def utc(value: datetime) -> datetime:  # SQLite hands back naive UTC
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    # without an offset a decision time is Vietnam time (UTC+7)
    assert utc(stopped.decided_at) == datetime(2009, 12, 1, 2, 30, tzinfo=UTC)
    assert utc(pension.decided_at) == datetime(2019, 5, 9, 17, 0, tzinfo=UTC)
    survivor = rows[("0101234569", "survivor")]
    assert utc(survivor.decided_at) == datetime(2025, 3, 20, 3, 0, tzinfo=UTC)


def test_every_broken_benefit_row_is_named_by_row_and_field(engine: Engine, tmp_path: Path) -> None:
    lines = [
        HEADER,
        GOOD[0],
        "0101234580,bonus,2020-01-01,,100000,,active,",  # 2: unknown kind
        "0101234581,pension,2020-01-01,,-4500000,,active,",  # 3: negative amount
        "0101234582,sickness,2026-10-05,2026-10-01,,500000,ended,",  # 4: ends before it starts
        "0101234583,maternity,2026-06-01,2026-11-29,,,active,",  # 5: no amount at all
        "0101234584,pension,2020-01-01,2025-01-01,,,stopped,",  # 6: a pension with no monthly
        "0101234585,one_time,2022-08-15,2022-08-15,900000,,ended,",  # 7: one-off, no lump sum
        "0101234586,pension,2020-01-01,,4500000,,stopped,",  # 8: stopped without end date
        "0101234587,pension,2020-01-01,,4500000,,paused,",  # 9: unknown status
        "0101234588,pension,2020-01-01,,4500000,,active,2027-01-01",  # 10: decided in future
        "0101234589,pension,2020-01-01,,4500000,,active,01/05/2019",  # 11: decision format
        "12345,pension,2020-02-30,,4500000,,active,",  # 12: bad code and date
        "0101234590,sickness,2026-10-01,2026-10-04,,0,ended,",  # 13: zero amount
        GOOD[1],
    ]
    path = write(tmp_path / "benefits.csv", lines)
    report = import_file(engine, "benefits", path, today=TODAY)
    assert (report.inserted, report.rejected) == (2, 12)
    assert count(engine, models.Benefit) == 2
    found = {(r["row"], r["column"], r["rule"]) for r in rejected(path)}
    assert found == {
        ("2", "kind", "VALUE_NOT_ALLOWED"),
        ("3", "monthly_amount", "AMOUNT_NEGATIVE"),
        ("4", "end_date", "PERIOD_REVERSED"),
        ("5", "monthly_amount", "AMOUNT_MISSING"),
        ("6", "monthly_amount", "AMOUNT_MISSING"),
        ("7", "lump_sum", "AMOUNT_MISSING"),
        ("7", "monthly_amount", "AMOUNT_UNEXPECTED"),
        ("8", "end_date", "END_DATE_MISSING"),
        ("9", "status", "VALUE_NOT_ALLOWED"),
        ("10", "decided_at", "DATE_FUTURE"),
        ("11", "decided_at", "DATETIME_FORMAT"),
        ("12", "bhxh_code", "BHXH_CODE_FORMAT"),
        ("12", "start_date", "DATE_IMPOSSIBLE"),
        ("13", "lump_sum", "INTEGER_RANGE"),
    }
    assert all(r["reason"] for r in rejected(path))


def test_a_benefit_is_updated_in_place_by_code_kind_and_start_date(
    engine: Engine, tmp_path: Path
) -> None:
    first = write(tmp_path / "benefits-1.csv", [HEADER, *GOOD])
    import_file(engine, "benefits", first, today=TODAY)
    stopped = "0101234567,pension,2019-06-01,2026-11-02,4500000,,stopped,2019-05-10"
    second = write(tmp_path / "benefits-2.csv", [HEADER, stopped, *GOOD[1:]])
    report = import_file(engine, "benefits", second, today=TODAY)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 5)
    pension = benefits(engine)[("0101234567", "pension")]
    assert (pension.status, pension.end_date) == ("stopped", date(2026, 11, 2))
    assert pension.batch_id == report.batch_id
    assert count(engine, models.Benefit) == 6

    again = write(tmp_path / "benefits-3.csv", [HEADER, GOOD[0], GOOD[0]])
    report = import_file(engine, "benefits", again, today=TODAY)
    assert (report.updated, report.rejected) == (1, 1)
    assert rejected(again)[0]["rule"] == "DUPLICATE_KEY"


def test_a_generated_benefits_file_imports_without_a_rejected_row(
    engine: Engine, tmp_path: Path
) -> None:
    summary = generate(tmp_path / "data", 4_000, 3)
    path = summary.path("benefits")
    report = import_file(engine, "benefits", path, today=TODAY)
    assert report.rejected == 0 and report.inserted == summary.rows["benefits"] > 0
    with engine.connect() as conn:
        kinds = set(conn.execute(select(models.Benefit.kind).distinct()).scalars())
    assert {"pension", "one_time", "sickness", "maternity"} <= kinds
    forced = import_file(engine, "benefits", path, force=True, today=TODAY)
    assert (forced.inserted, forced.updated, forced.unchanged) == (0, 0, report.inserted)


def test_the_import_command_takes_the_benefits_kind(database_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "benefits.csv", [HEADER, *GOOD[:4]])  # decided before any today
    done = subprocess.run(
        [sys.executable, "-m", "nidb", "import", str(path), "--kind", "benefits"],
        env={**os.environ, "NIDB_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "benefits" in done.stdout
    engine = make_engine(database_url)
    try:
        assert count(engine, models.Benefit) == 4
    finally:
        engine.dispose()
