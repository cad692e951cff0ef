"""Starting Spark prints nothing a staff member would have to read: Java's and Spark's English
start-up lines (an incubator module, the default log level) go to the session's own log, and a
start that fails says so in Vietnamese and English with what the JVM printed.

Slow (a JVM starts in a child process); skipped with the reason when pyspark or Java is missing,
except under CI=true where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

ROOT = Path(__file__).resolve().parents[2]

_START_AND_QUERY = """
from nidb.engines import spark
runtime = spark.start(cores=1, driver_memory="512m", shuffle_partitions=1)
print(runtime.session.sql("SELECT 40 + 2 AS answer").collect()[0].answer)
runtime.stop()
"""


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


@pytest.mark.usefixtures("spark_available")
def test_a_started_session_answers_and_prints_nothing_else() -> None:
    done = _python(_START_AND_QUERY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"
    assert done.stderr == ""


@pytest.mark.usefixtures("spark_available")
def test_a_start_that_fails_names_the_cause_in_both_languages(tmp_path: Path) -> None:
    done = _python(
        "from nidb.engines import spark\n"
        "try:\n"
        "    spark.start()\n"
        "except spark.SparkUnavailable as error:\n"
        "    print(error)\n",
        SPARK_HOME=str(tmp_path / "no-spark-here"),
    )
    assert done.returncode == 0, done.stderr
    assert "không khởi động được Spark (Spark did not start)" in done.stdout
    assert "no-spark-here" in done.stdout
