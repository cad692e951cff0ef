"""The rules on Spark local mode give exactly DuckDB's findings (same SQL, same snapshot).

Slow (a Spark session starts); skipped with the reason when pyspark or Java is missing, except
under CI=true where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from nidb.detect import find, select_rules
from nidb.detect.synthetic import snapshot_from_generated
from nidb.sim.generate import ErrorRates, generate

pytestmark = pytest.mark.slow


def test_spark_finds_exactly_what_duckdb_finds(tmp_path: Path) -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"pyspark is required in CI: {missing}")
        pytest.skip(f"pyspark not installed: {missing}")
    if shutil.which("java") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Java is required in CI for Spark")
        pytest.skip("no java on PATH")
    from nidb.detect.spark import find_spark, spark_session

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
    runtime = spark_session(driver_memory="1g")
    try:
        spark = find_spark(runtime.session, tmp_path / "snapshot", rules)
    finally:
        runtime.stop()
    assert all(r.findings for r in duck)
    for a, b in zip(duck, spark, strict=True):
        assert a.findings == b.findings, a.rule.name
