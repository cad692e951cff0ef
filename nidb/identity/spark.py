"""The Spark engine of ``nidb match`` (``--engine spark``): the same Splink model on Apache Spark.

Only training and scoring move to Spark. Reading, validating and normalising the input (names
and birth dates through ``nidb.domain``, once per distinct value) stay in DuckDB exactly as for
the DuckDB engine (``features.load_inputs``); the two feature tables go to Spark as Parquet, Splink
trains and predicts there with the comparisons, blocking rules, training rules and floor of
``model``, and the candidate pairs come back as Parquet to the same decision, explanation and
writing code (``match._decide`` / ``match._write``). So the matches file has one format whatever
the engine.

Spark runs in local mode inside this machine (``local[N]``): no cluster, no UI, no downloads.
The two similarity functions the comparisons need (``damerau_levenshtein`` and Jaro-Winkler) come
from the jar shipped inside the Splink wheel, passed to Spark as a local file.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from nidb.identity import model

DEFAULT_CORES = 2
DEFAULT_DRIVER_MEMORY = "3g"
DEFAULT_SHUFFLE_PARTITIONS = 8
"""Local mode on a small machine: a few shuffle partitions, not Spark's 200."""

_LOG4J = """\
status = error
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
"""
"""The JVM's logging: errors only (Spark's own INFO/WARN lines mean nothing to staff)."""


class SparkUnavailable(Exception):
    """Spark cannot run here (pyspark or Java missing); the message says what to install."""


def find_java() -> str | None:
    """The ``java`` pyspark would start: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def ensure_available() -> None:
    """Raise ``SparkUnavailable`` (Vietnamese and English) unless pyspark and Java are here."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(
            "chưa cài pyspark, cần cho --engine spark: pip install 'nidb[spark]' "
            "(pyspark is not installed; --engine spark needs it: pip install 'nidb[spark]')"
        ) from None
    if find_java() is None:
        raise SparkUnavailable(
            "không tìm thấy Java (java trên PATH hoặc JAVA_HOME), cần cho --engine spark: "
            "apt-get install default-jre-headless "
            "(no Java found on PATH or in JAVA_HOME; --engine spark needs Java 17 or later: "
            "apt-get install default-jre-headless)"
        )


@dataclass
class SparkRuntime:
    """A local Spark session and the temporary folder holding everything it writes."""

    session: Any
    """The ``pyspark.sql.SparkSession``."""
    temp_dir: Path

    def stop(self) -> None:
        """Stop the session and remove its folder (the JVM exits with this process)."""
        global _shared
        if _shared is self:
            _shared = None
        self.session.stop()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


_shared: SparkRuntime | None = None
"""A session kept for several runs (``start(keep=True)``), e.g. by a test module."""


def start(
    *,
    cores: int = DEFAULT_CORES,
    driver_memory: str = DEFAULT_DRIVER_MEMORY,
    shuffle_partitions: int = DEFAULT_SHUFFLE_PARTITIONS,
    keep: bool = False,
) -> SparkRuntime:
    """Start Spark in local mode; with ``keep`` later runs reuse it until it is stopped."""
    global _shared
    ensure_available()
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    jar = similarity_jar_location()
    if not Path(jar).is_file():
        raise SparkUnavailable(
            f"thiếu tệp jar của Splink (Splink's similarity jar is missing): {jar}"
        )
    temp = Path(tempfile.mkdtemp(prefix="nidb-spark-"))
    log4j = temp / "log4j2.properties"
    log4j.write_text(_LOG4J, encoding="utf-8")
    # the machine's host name may resolve to an address Spark warns about; stay on loopback
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    java_options = f"-Dlog4j2.configurationFile={log4j.as_uri()} -Djava.io.tmpdir={temp}"
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("nidb-match")
        .config("spark.jars", jar)
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.local.dir", str(temp / "local"))
        .config("spark.sql.warehouse.dir", str(temp / "warehouse"))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(temp / "checkpoints"))
    if jar not in (session.conf.get("spark.jars", "") or ""):
        # a session started elsewhere in this process, without the jar: its UDFs are missing
        session.stop()
        shutil.rmtree(temp, ignore_errors=True)
        raise SparkUnavailable(
            "một phiên Spark khác đang chạy mà không có jar của Splink "
            "(another Spark session is running in this process without Splink's jar)"
        )
    runtime = SparkRuntime(session=session, temp_dir=temp)
    if keep:
        _shared = runtime
    return runtime


@contextmanager
def runtime() -> Iterator[SparkRuntime]:
    """The kept session if there is one, else a session for this run only."""
    if _shared is not None:
        yield _shared
        return
    started = start()
    try:
        yield started
    finally:
        started.stop()


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


def train_and_predict(
    con: duckdb.DuckDBPyConnection,
    floor: float,
    stage: Callable[[str], None],
    seconds: dict[str, float],
) -> int:
    """Train and score on Spark; leaves ``candidates`` in ``con`` and returns its row count.

    ``con`` holds ``records_f`` and ``registry_f`` (``features.load_inputs``); ``seconds``
    receives the time of each step, as for the DuckDB engine, plus ``spark_start`` and
    ``to_spark`` / ``from_spark`` (moving the tables between the engines).
    """
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
            records = db_api.register("records_f", dataset_display_name="records")
            registry = db_api.register("registry_f", dataset_display_name="registry")
            linker = Linker([records, registry], model.settings("spark"), log_level=None)
            seconds["to_spark"] = time.perf_counter() - clock

            stage("huấn luyện mô hình trên Spark (training the linkage model on Spark)")
            model.train(linker, model.DETERMINISTIC_RULES, 0.9, seconds)

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
