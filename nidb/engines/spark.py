"""Apache Spark in local mode, one session per process, for matching and detection alike.

``nidb match --engine spark`` (``nidb.identity.spark``) and ``nidb detect --engine spark``
(``nidb.detect.spark``) run on this runtime. Spark runs in local mode inside this machine
(``local[N]``): no cluster, no UI, no downloads. One process has one JVM, and only the session
that launches it puts jars on its class path, so every session starts with the jar shipped inside
the Splink wheel (the similarity functions matching's comparisons need: ``damerau_levenshtein``
and Jaro-Winkler), passed to Spark as a local file, whichever capability starts it first.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    # Python functions run in worker processes: this interpreter (and its packages), not
    # whatever python3 is first on PATH
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    java_options = f"-Dlog4j2.configurationFile={log4j.as_uri()} -Djava.io.tmpdir={temp}"
    jvm_log = temp / "jvm.log"
    with _stderr_to(jvm_log):
        try:
            session = _build(
                SparkSession, jar, driver_memory, java_options, cores, shuffle_partitions, temp
            )
        except Exception as error:
            printed = _tail(jvm_log)
            shutil.rmtree(temp, ignore_errors=True)
            raise SparkUnavailable(
                f"không khởi động được Spark (Spark did not start): {error}{printed}"
            ) from error
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


def _build(
    builder_class: Any,
    jar: str,
    driver_memory: str,
    java_options: str,
    cores: int,
    shuffle_partitions: int,
    temp: Path,
) -> Any:
    """The local session, started (or the process's existing one)."""
    return (
        builder_class.builder.master(f"local[{cores}]")
        .appName("nidb")
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


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """While the JVM starts, this process's standard error (which the JVM inherits, and keeps)
    goes to ``path``: Java and Spark print English start-up lines there (an incubator module, the
    default log level) that mean nothing to staff; they are shown only if the start fails."""
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


def _tail(path: Path, lines: int = 20) -> str:
    """The last lines the JVM printed, for a failed start's message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    return ("\n" + "\n".join(text.splitlines()[-lines:])) if text else ""


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
