"""Data-quality measures on a register whose every answer is known (both engines)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from typer.testing import CliRunner

from nidb.analytics.quality import (
    compute_and_save,
    compute_quality,
    national,
    province34,
    saved_trend,
)
from nidb.analytics.quality_sql import cutoff_instant
from nidb.cli import app
from nidb.store import models
from nidb.store.models_analytics import QualityMeasure
from tests.analytics.register import AS_OF, load

# (province, group, measure) -> (numerator, denominator), worked out row by row in register.py
EXPECTED = {
    ("01", "person", "correct"): (3, 4),  # R6 verified after the cut-off
    ("01", "person", "complete"): (4, 4),
    ("01", "person", "clean"): (2, 4),  # R1 and R4: one personal ID under two BHXH codes
    ("01", "person", "alive"): (2, 3),  # R2 dead with a live card and pension
    ("79", "person", "correct"): (0, 2),
    ("79", "person", "complete"): (0, 2),
    ("79", "person", "clean"): (0, 2),  # open duplicate item; ID failing its check
    ("79", "person", "alive"): (0, 0),
    ("01", "bhxh", "correct"): (3, 3),
    ("01", "bhxh", "complete"): (3, 3),
    ("01", "bhxh", "clean"): (1, 3),  # two overlapping periods
    ("01", "bhxh", "alive"): (1, 2),  # the dead person's period still open
    ("79", "bhxh", "correct"): (0, 1),
    ("79", "bhxh", "alive"): (1, 1),
    ("00", "bhxh", "complete"): (0, 1),  # employee group without an employer
    ("00", "bhxh", "alive"): (0, 0),
    ("01", "card", "correct"): (3, 3),
    ("01", "card", "complete"): (2, 3),  # no facility chosen
    ("01", "card", "clean"): (1, 3),  # two active cards of one person
    ("01", "card", "alive"): (2, 3),  # the dead person's card
    ("79", "card", "correct"): (0, 2),
    ("79", "card", "clean"): (1, 2),  # unknown group code
    ("79", "card", "alive"): (1, 1),  # the suspended card is not counted
    ("01", "benefit", "complete"): (1, 2),  # one-time benefit without its amount
    ("01", "benefit", "alive"): (0, 1),  # pension of the dead
    ("00", "benefit", "correct"): (0, 1),
    ("00", "benefit", "clean"): (0, 1),  # holder unknown to the register
    ("01", "employer", "correct"): (1, 1),
    ("79", "employer", "correct"): (0, 1),  # the state unit is not in the denominator
    ("79", "employer", "complete"): (1, 2),
    ("79", "employer", "clean"): (2, 2),
    ("79", "employer", "alive"): (1, 2),  # closed with a worker still participating
}


def _by_key(measures: list) -> dict[tuple[str, str, str], tuple[int, int]]:  # type: ignore[type-arg]
    return {(m.province, m.group, m.measure): (m.numerator, m.denominator) for m in measures}


def test_each_measure_counts_what_its_definition_says(engine: Engine) -> None:
    load(engine)
    got = _by_key(compute_quality(engine, AS_OF))
    wrong = {key: (got.get(key), want) for key, want in EXPECTED.items() if got.get(key) != want}
    assert not wrong


def test_a_later_day_counts_the_records_verified_since(engine: Engine) -> None:
    load(engine)
    got = _by_key(compute_quality(engine, date(2026, 10, 10)))
    assert got[("01", "person", "correct")] == (4, 4)
    assert got[("01", "person", "alive")] == (3, 4)
    assert got[("01", "bhxh", "correct")] == (4, 4)  # R6's period has begun


def test_duckdb_over_parquet_gives_the_same_measures(engine: Engine) -> None:
    load(engine)
    assert compute_quality(engine, AS_OF, "duckdb") == compute_quality(engine, AS_OF)


def test_the_country_is_the_sum_of_its_provinces(engine: Engine) -> None:
    load(engine)
    measures = compute_quality(engine, AS_OF)
    country = _by_key(national(measures))
    assert country[("VN", "person", "correct")] == (3, 6)
    assert country[("VN", "card", "clean")] == (2, 5)
    for (_, group, measure), (num, den) in country.items():
        parts = [m for m in measures if (m.group, m.measure) == (group, measure)]
        assert (num, den) == (sum(m.numerator for m in parts), sum(m.denominator for m in parts))


def test_saving_a_day_again_replaces_it_and_the_trend_shows_each_day(engine: Engine) -> None:
    load(engine)
    compute_and_save(engine, date(2026, 8, 31), "test")
    compute_and_save(engine, AS_OF, "test")
    compute_and_save(engine, AS_OF, "test")  # replaces, does not add
    with engine.connect() as conn:
        days = conn.execute(select(QualityMeasure.as_of).distinct()).scalars().all()
        audits = (
            conn.execute(
                select(models.AuditEntry.subject_id).where(
                    models.AuditEntry.action == "quality.saved"
                )
            )
            .scalars()
            .all()
        )
    assert sorted(days) == [date(2026, 8, 31), AS_OF]
    assert sorted(audits) == ["2026-08-31", "2026-09-20", "2026-09-20"]
    trend = saved_trend(engine)
    assert list(trend) == [date(2026, 8, 31), AS_OF]
    person = {m.measure: (m.numerator, m.denominator) for m in trend[AS_OF] if m.group == "person"}
    assert person["correct"] == (3, 6)
    early = {m.measure: m.numerator for m in trend[date(2026, 8, 31)] if m.group == "person"}
    assert early["correct"] == 0  # the first verifications came on 1 September
    only_79 = saved_trend(engine, "79")
    assert all(m.province == "79" for ms in only_79.values() for m in ms)


def test_cutoff_is_the_end_of_the_day_in_vietnam() -> None:
    assert cutoff_instant(date(2026, 9, 20)).isoformat() == "2026-09-20T17:00:00+00:00"


def test_old_province_codes_fold_into_the_34_list() -> None:
    assert province34("74") == "79"  # Bình Dương → TP. Hồ Chí Minh
    assert province34("01") == "01"
    assert province34("99") == "00" and province34(None) == "00"


def test_quality_command_saves_and_shows_the_trend(engine: Engine, cli: CliRunner) -> None:
    load(engine)
    shown = cli.invoke(app, ["quality", "--as-of", "2026-09-20", "--save"])
    assert shown.exit_code == 0, shown.output
    assert "50.0% (3/6)" in shown.output and "Đã lưu" in shown.output
    trend = cli.invoke(app, ["quality", "--trend"])
    assert trend.exit_code == 0 and "2026-09-20" in trend.output
    by_province = cli.invoke(app, ["quality", "--as-of", "2026-09-20", "--by-province"])
    assert by_province.exit_code == 0 and "75.0% (3/4)" in by_province.output
    bad = cli.invoke(app, ["quality", "--as-of", "20/09/2026"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_a_failing_query_reports_its_own_error_and_the_next_run_works(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nidb.analytics import quality

    load(engine)
    broken = {"person": "SELECT no_such_column FROM persons"}
    monkeypatch.setattr(quality, "group_queries", lambda as_of: broken)
    with pytest.raises(SQLAlchemyError, match="no_such_column"):
        compute_quality(engine, AS_OF)
    monkeypatch.undo()
    assert _by_key(compute_quality(engine, AS_OF))[("01", "person", "correct")] == (3, 4)
