"""The rules on Spark local mode give exactly DuckDB's findings (same SQL, same snapshot).

Slow (Spark runs; the session is the run's shared ``spark_runtime``, tests/conftest.py); skipped
with the reason when pyspark or Java is missing, except under CI=true where that is a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nidb.detect import find, select_rules
from nidb.detect.synthetic import snapshot_from_generated
from nidb.engines.spark import SparkRuntime
from nidb.sim.generate import ErrorRates, generate

# one worker under pytest-xdist (--dist loadgroup) runs every Spark test: one Spark session
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]


def test_spark_finds_exactly_what_duckdb_finds(tmp_path: Path, spark_runtime: SparkRuntime) -> None:
    from nidb.detect.spark import find_spark

    rates = ErrorRates(
        card_after_death=0.5,
        benefit_after_death=0.5,
        facility_cost_outlier=0.5,
        overlapping_inpatient=0.05,
        duplicate_claim=0.01,
        two_provinces_same_day=0.01,
        cost_outlier=0.005,
        visits_per_card_outlier=0.004,
        employer_under_declared=0.2,
        contributions_stopped=0.2,
    )
    generate(tmp_path / "data", 8_000, 3, rates=rates, fmt="parquet", visits_per_person=4.0)
    snapshot_from_generated(tmp_path / "data", tmp_path / "snapshot")
    rules = select_rules(None)
    duck = find(tmp_path / "snapshot", rules)
    spark = find_spark(spark_runtime.session, tmp_path / "snapshot", rules)
    assert all(r.findings for r in duck)
    for a, b in zip(duck, spark, strict=True):
        assert a.findings == b.findings, a.rule.name
