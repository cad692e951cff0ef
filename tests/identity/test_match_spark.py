"""`nidb match --engine spark`: Spark scores with DuckDB's trained model and decides alike.

One local Spark session serves the whole run (``spark_runtime`` in tests/conftest.py, shared
with detection's Spark test). Under CI=true a missing pyspark or Java fails the run (``make
install`` installs both); elsewhere the Spark tests are skipped with the reason.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from nidb.cli import app
from nidb.engines import spark
from nidb.identity import match as match_module
from nidb.identity.match import MatchSummary, match_files
from nidb.sim.generate import ErrorRates, generate
from nidb.sim.generate.errors2 import MODEL_1_TYPING_OFF, apply_error_model_2

# one worker under pytest-xdist (--dist loadgroup) runs every Spark test: one Spark session
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

Rows = dict[str, dict[str, str]]


def read(path: Path) -> Rows:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["record_id"]: row for row in csv.DictReader(handle)}


def match_on_spark(registry: Path, records: Path, out: Path) -> Result:
    """`nidb match --engine spark`."""
    arguments = ["--registry", str(registry), "--records", str(records), "--out", str(out)]
    return CliRunner().invoke(app, ["match", "--engine", "spark", *arguments])


@dataclass
class Both:
    """The same records matched by DuckDB (in process) and by `nidb match --engine spark`."""

    duck: Rows
    on_spark: Rows
    duck_summary: MatchSummary
    spark_summary: MatchSummary


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, spark_runtime: spark.SparkRuntime) -> Both:
    """Error model 2 data (the benchmark's, never tuned on), matched by each engine.

    Spark runs once, through the command (its Parquet output), with the summary the command
    printed kept from `match_files`: one Spark match is most of this module's minute.
    """
    folder = tmp_path_factory.mktemp("country")
    generate(folder, 1_500, seed=11, rates=dataclasses.replace(ErrorRates(), **MODEL_1_TYPING_OFF))
    apply_error_model_2(folder, 11)
    registry, records = folder / "registry.csv", folder / "records.csv"
    duck_summary = match_files(registry, records, folder / "duckdb.csv", threads=2)
    summaries: list[MatchSummary] = []

    def keep_summary(*args: Any, **kwargs: Any) -> MatchSummary:
        summaries.append(match_files(*args, **kwargs))
        return summaries[-1]

    out = folder / "spark.parquet"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(match_module, "match_files", keep_summary)
        result = match_on_spark(registry, records, out)
    assert result.exit_code == 0, result.output
    assert len(summaries) == 1
    return Both(read(folder / "duckdb.csv"), read_parquet(out), duck_summary, summaries[0])


def read_parquet(path: Path) -> Rows:
    import duckdb

    table = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    columns = table.columns
    assert columns == ["record_id", "personal_id", "score", "decision", "reasons"]
    return {
        row[0]: {c: "" if v is None else str(v) for c, v in zip(columns, row, strict=True)}
        for row in table.fetchall()
    }


def parameters(trained: dict[str, Any]) -> dict[str, float]:
    """λ and every level's m and u of a trained model, by comparison, level and letter."""
    found = {"lambda": trained["probability_two_random_records_match"]}
    for comparison in trained["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if isinstance(level.get(key), float):
                    name = comparison["output_column_name"], level["label_for_charts"], key[0]
                    found["/".join(name)] = level[key]
    return found


def test_both_engines_score_with_the_same_trained_model(both: Both) -> None:
    duck, on_spark = (
        parameters(both.duck_summary.trained_model),
        parameters(both.spark_summary.trained_model),
    )
    assert on_spark.keys() == duck.keys()
    assert len(duck) > 30  # λ, and m and u of every level the data showed
    assert all(on_spark[k] == pytest.approx(duck[k], abs=1e-9) for k in duck), [
        (k, duck[k], on_spark[k]) for k in duck if abs(duck[k] - on_spark[k]) > 1e-9
    ]
    assert both.spark_summary.auto_threshold == both.duck_summary.auto_threshold
    # training ran once, in DuckDB; Spark only scored
    assert "train_u" in both.spark_summary.seconds and "spark_start" in both.spark_summary.seconds


def test_spark_decides_exactly_like_duckdb(both: Both) -> None:
    duck, on_spark = both.duck, both.on_spark
    assert on_spark.keys() == duck.keys()
    differ = [(duck[k], on_spark[k]) for k in duck if duck[k] != on_spark[k]]
    assert differ == []
    assert both.spark_summary.decisions == both.duck_summary.decisions
    assert both.spark_summary.candidate_pairs == both.duck_summary.candidate_pairs
    # the data exercise every decision, so equal decisions are not equal emptiness
    assert {row["decision"] for row in duck.values()} == {"auto", "review", "none"}


def test_the_command_writes_the_contract_layout_from_spark(
    both: Both,
) -> None:
    # the columns were checked when the Parquet file was read
    for row in both.on_spark.values():
        assert row["decision"] in ("auto", "review", "none")
        assert 0.0 <= float(row["score"]) <= 1.0
        assert (row["personal_id"] == "") == (row["decision"] == "none")


def test_the_command_says_when_java_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.environ.get("CI", "").lower() != "true":
        pytest.importorskip("pyspark")  # without pyspark the message names pyspark instead
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    result = match_on_spark(tmp_path / "registry.csv", tmp_path / "records.csv", tmp_path / "m.csv")
    assert result.exit_code == 1
    assert "Java" in result.output and "không tìm thấy" in result.output
    assert not (tmp_path / "m.csv").exists()


def test_an_unknown_engine_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["match", "--engine", "flink", "--registry", "r.csv", "--records", "x.csv", "--out", "m"],
    )
    assert result.exit_code == 2


def test_spark_computes_the_comparisons_string_functions_as_duckdb_does(
    spark_runtime: spark.SparkRuntime,
) -> None:
    """Damerau-Levenshtein (the Splink jar's) and Jaro-Winkler (``similarity``, run by Spark's
    Python workers) give DuckDB's values, to the last bit, on edited Vietnamese strings."""
    import random

    import duckdb
    from pyspark.sql.types import DoubleType
    from splink.backends.spark import SparkAPI

    from nidb.identity import model, similarity

    rng = random.Random(5)
    letters = "aăâbdđeêhiklmnoôơtuưáàảãạốồ ,./12"
    pairs = []
    for _ in range(1_000):
        left = "".join(rng.choice(letters) for _ in range(rng.randint(0, 40)))
        right = list(left)
        for _ in range(rng.randint(0, 3)):
            at = rng.randint(0, max(len(right) - 1, 0))
            if right and rng.random() < 0.5:
                right[at], right[-1 - at] = right[-1 - at], right[at]
            else:
                right.insert(at, rng.choice(letters))
        pairs.append((left, "".join(right)))
    SparkAPI(spark_session=spark_runtime.session)  # type: ignore[no-untyped-call]
    function = model.JARO_WINKLER["spark"]
    spark_runtime.session.udf.register(function, similarity.jaro_winkler, DoubleType())
    frame = spark_runtime.session.createDataFrame(pairs, ["l", "r"])
    on_spark = [
        (row[0], row[1], row[2], row[3])
        for row in frame.selectExpr(
            "l", "r", "CAST(damerau_levenshtein(l, r) AS INT)", f"{function}(l, r)"
        ).collect()
    ]
    with duckdb.connect() as con:
        con.execute("CREATE TABLE p (l VARCHAR, r VARCHAR)")
        con.executemany("INSERT INTO p VALUES (?, ?)", pairs)
        in_duckdb = con.execute(
            "SELECT l, r, damerau_levenshtein(l, r), jaro_winkler_similarity(l, r) FROM p"
        ).fetchall()
    assert sorted(on_spark) == sorted(in_duckdb)
