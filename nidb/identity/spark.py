"""The Spark engine of ``nidb match`` (``--engine spark``): the candidate pairs scored on Spark.

Only scoring moves to Spark. Reading, validating and normalising the input (``features``), and
training the model (``match._train``), run in DuckDB exactly as for the DuckDB engine; the two
feature tables go to Spark as Parquet with the trained model (λ, m and u, spelled for Spark by
``model.with_parameters``), Splink predicts there with the comparisons, blocking rules and floor
of ``model``, and the candidate pairs come back as Parquet to the same decision, explanation
and writing code (``match._decide`` / ``match._write``). So the matches file has one format
whatever the engine, and the engines decide alike.

Spark's Jaro-Winkler (the jar inside the Splink wheel) is not DuckDB's; the address
comparison uses ``similarity.jaro_winkler`` instead, DuckDB's values in a Python function
registered on the session.

Why not train on Spark too: Splink samples its training pairs by a hash of the records' ids,
and Spark's hash is not DuckDB's, so each engine trained on other pairs, learned slightly other
m and u, and put a few records in 10,000 on the other side of a threshold (see
``model.TRAINING_SEED``). Training in DuckDB costs seconds; on Spark in local mode it took
most of the run.

Spark itself (local mode, the session kept for several runs, Splink's jar on the class path) is
``nidb.engines.spark``, shared with detection.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from nidb.engines.spark import runtime
from nidb.identity import model, similarity


def _to_spark(con: duckdb.DuckDBPyConnection, session: Any, table: str, folder: Path) -> None:
    """Copy a DuckDB feature table to a Spark temporary view of the same name, via Parquet."""
    path = folder / f"{table}.parquet"
    con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
    frame = session.read.parquet(str(path))
    # small integer types widened, so that Spark's arithmetic (ANSI mode) has room
    frame = frame.selectExpr(
        *[
            f"CAST({column} AS INT) AS {column}"
            if column.startswith("dob_") and column != "dob_precision"
            else column
            for column in frame.columns
        ]
    )
    frame.createOrReplaceTempView(table)


def predict(
    con: duckdb.DuckDBPyConnection,
    trained: dict[str, Any],
    floor: float,
    stage: Callable[[str], None],
    seconds: dict[str, float],
) -> int:
    """Score on Spark with the ``trained`` model; leaves ``candidates`` in ``con``, returns its size.

    ``con`` holds ``records_f`` and ``registry_f`` (``features.load_inputs``); ``trained`` is
    the model DuckDB trained on them (``MatchSummary.trained_model``); ``seconds`` receives the
    time of ``predict``, as for the DuckDB engine, plus ``spark_start`` and ``to_spark`` /
    ``from_spark`` (moving the tables between the engines).
    """
    from pyspark.sql.types import DoubleType
    from splink import Linker
    from splink.backends.spark import SparkAPI

    logging.getLogger("splink").setLevel(logging.ERROR)
    logging.getLogger("py4j").setLevel(logging.ERROR)
    # a failing query raises; pyspark's own JSON log line of it would only say it twice
    logging.getLogger("pyspark").setLevel(logging.CRITICAL)
    clock = time.perf_counter()
    stage("khởi động Spark (starting Spark in local mode)")
    with runtime() as spark:
        seconds["spark_start"] = time.perf_counter() - clock
        clock = time.perf_counter()
        exchange = Path(tempfile.mkdtemp(prefix="run-", dir=spark.temp_dir))
        db_api: Any = None
        try:
            for table in ("records_f", "registry_f"):
                _to_spark(con, spark.session, table, exchange)
            db_api = SparkAPI(  # type: ignore[no-untyped-call]
                spark_session=spark.session, break_lineage_method="persist"
            )
            spark.session.udf.register(
                model.JARO_WINKLER["spark"], similarity.jaro_winkler, DoubleType()
            )
            records = db_api.register("records_f", dataset_display_name="records")
            registry = db_api.register("registry_f", dataset_display_name="registry")
            linker = Linker(
                [records, registry], model.with_parameters(trained, "spark"), log_level=None
            )
            seconds["to_spark"] = time.perf_counter() - clock

            clock = time.perf_counter()
            stage("chấm điểm các cặp ứng viên trên Spark (scoring candidate pairs on Spark)")
            pairs = linker.inference.predict(threshold_match_probability=floor)
            seconds["predict"] = time.perf_counter() - clock

            clock = time.perf_counter()
            out = exchange / "candidates"
            spark.session.sql(
                f"SELECT {model.CANDIDATE_COLUMNS} FROM {pairs.physical_name}"
            ).write.parquet(str(out))
            con.execute(
                "CREATE OR REPLACE TEMP TABLE candidates AS "
                "SELECT record_id, personal_id, CAST(p AS DOUBLE) AS p FROM read_parquet(?)",
                [str(out / "*.parquet")],
            )
            seconds["from_spark"] = time.perf_counter() - clock
        finally:
            if db_api is not None:
                db_api.delete_tables_created_by_splink_from_db()
            spark.session.catalog.clearCache()
            for table in ("records_f", "registry_f"):
                spark.session.catalog.dropTempView(table)
            shutil.rmtree(exchange, ignore_errors=True)
    return int(con.execute("SELECT count(*) FROM candidates").fetchall()[0][0])
