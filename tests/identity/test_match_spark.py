"""`nidb match --engine spark`: the same model on Spark decides as it does on DuckDB.

One local Spark session serves the whole run (``spark_runtime`` in tests/conftest.py, shared
with detection's Spark test). Under CI=true a missing pyspark or Java fails the run (``make
install`` installs both); elsewhere the Spark tests are skipped with the reason.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from nidb.cli import app
from nidb.engines import spark
from nidb.identity import match as match_module
from nidb.identity.match import MatchSummary, match_files
from nidb.sim.generate import generate

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


@pytest.fixture(scope="module")
def both(
    tmp_path_factory: pytest.TempPathFactory, spark_runtime: spark.SparkRuntime
) -> tuple[Path, Rows, Rows, MatchSummary]:
    """The same records matched by DuckDB (in process) and by `nidb match --engine spark`.

    Spark runs once, through the command (its Parquet output), with the summary the command
    printed kept from `match_files`: one Spark match is most of this module's minute.
    """
    folder = tmp_path_factory.mktemp("country")
    generate(folder, 2_000, seed=11)
    registry, records = folder / "registry.csv", folder / "records.csv"
    match_files(registry, records, folder / "duckdb.csv", threads=2)
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
    return folder, read(folder / "duckdb.csv"), read_parquet(out), summaries[0]


def read_parquet(path: Path) -> Rows:
    import duckdb

    table = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    columns = table.columns
    assert columns == ["record_id", "personal_id", "score", "decision", "reasons"]
    return {
        row[0]: {c: "" if v is None else str(v) for c, v in zip(columns, row, strict=True)}
        for row in table.fetchall()
    }


def test_spark_decides_like_duckdb_on_nearly_every_record(
    both: tuple[Path, Rows, Rows, MatchSummary],
) -> None:
    _, duck, on_spark, summary = both
    assert on_spark.keys() == duck.keys()
    differ = [
        (duck[k], on_spark[k])
        for k in duck
        if (duck[k]["decision"], duck[k]["personal_id"])
        != (on_spark[k]["decision"], on_spark[k]["personal_id"])
    ]
    # Each engine trains on random samples of its own (u from random pairs): the u of a rare
    # level (an ID one digit off, day and month swapped) rests on a handful of pairs, so a
    # record carrying such an error can score on either side of a threshold. The best
    # candidate itself must not change, and no record may be auto-linked to two different people.
    assert len(differ) <= max(3, len(duck) // 50), differ[:5]
    assert not [
        (a, b)
        for a, b in differ
        if a["personal_id"]
        and b["personal_id"]
        and a["personal_id"] != b["personal_id"]
        and "auto" in (a["decision"], b["decision"])
    ], differ[:5]
    same = [k for k in duck if duck[k]["decision"] == on_spark[k]["decision"] != "none"]
    assert len(same) > 0.9 * len(duck)
    assert all(duck[k]["reasons"] == on_spark[k]["reasons"] for k in same)
    assert sum(summary.decisions.values()) == len(duck)
    assert summary.candidate_pairs > 0 and "spark_start" in summary.seconds


def test_the_command_writes_the_contract_layout_from_spark(
    both: tuple[Path, Rows, Rows, MatchSummary],
) -> None:
    _, _, on_spark, _ = both  # the columns were checked when the Parquet file was read
    for row in on_spark.values():
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
