"""The same rules on Apache Spark (local mode or a cluster), over the same Parquet snapshot.

Rules are written in SQL that DuckDB and Spark SQL read alike (``median``, ``max_by``,
``INTERVAL '3' HOUR``, ``year()``/``month()`` instead of engine-specific date functions), so this
module only registers the snapshot's files and the helper views as temporary views and runs
each rule's text unchanged. Session time zone is UTC so that time stamps without a zone are
read as written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nidb.detect.base import Rule
from nidb.detect.runner import HELPER_VIEWS, RuleResult, snapshot_files
from nidb.engines.spark import SparkRuntime, start


def spark_session(cores: int = 2, driver_memory: str = "4g") -> SparkRuntime:
    """Spark in local mode for detection: the very runtime ``nidb match --engine spark`` starts
    (loopback only, no web UI, UTC, 8 shuffle partitions, Splink's jar on the driver).

    One process has one JVM, and only the session that launches it puts jars on its class
    path: were detection to start Spark first without Splink's jar, matching in the same
    process would later find its similarity functions missing. ``.session`` is the
    ``SparkSession``; ``.stop()`` stops it and removes its temporary folder."""
    return start(cores=cores, driver_memory=driver_memory, shuffle_partitions=8)


def find_spark(
    session: Any,
    snapshot_dir: Path,
    rules: Sequence[Rule],
    on_rule: Callable[[RuleResult, float], None] | None = None,
) -> list[RuleResult]:
    """Run ``rules`` with ``session`` over the Parquet files of ``snapshot_dir``; nothing stored."""
    for table, path in snapshot_files(snapshot_dir).items():
        session.read.parquet(str(path)).createOrReplaceTempView(table)
    for view in HELPER_VIEWS:  # each is read by several rules: computed once, kept in memory
        session.sql(view)
        name = view.split("TEMP VIEW", 1)[1].split()[0]
        session.sql(f"CACHE TABLE {name}")
    results = []
    for rule in rules:
        started = time.perf_counter()
        rows = [row.asDict() for row in session.sql(rule.sql).collect()]
        result = RuleResult(rule, [rule.explain(row) for row in rows])
        results.append(result)
        if on_rule:
            on_rule(result, time.perf_counter() - started)
    return results
