"""The assessment's SQL on Apache Spark (local mode or a cluster), over the same Parquet snapshot.

nidb.claims.assess runs its steps through a runner; this one runs them in Spark SQL the way
nidb.detect.spark runs detect's rules: the snapshot's files are registered as temporary views
and the text of nidb.claims.assess_sql is run unchanged. Each step kept for the next ones is a
cached view (``CACHE TABLE … AS``); rows come back through Arrow. The runner works in a
session of its own (``newSession``: its views apart, the JVM and cache shared), so a kept
session's other users (detection, matching) see none of its names, and it uncaches what it
cached when it closes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any


class SparkRunner:
    """The assessment's SQL in a Spark session (``pyspark.sql.SparkSession``)."""

    def __init__(self, session: Any) -> None:
        self.session = session.newSession()
        self._cached: list[str] = []

    def parquet(self, name: str, path: Path) -> None:
        self.session.read.parquet(str(path)).createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self.session.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def keep(self, name: str, sql: str) -> None:
        self.session.sql(f"CACHE TABLE {name} AS {sql}")  # eager: computed here, once
        self._cached.append(name)

    def load(
        self, name: str, columns: tuple[tuple[str, str], ...], rows: list[tuple[Any, ...]]
    ) -> None:
        schema = ", ".join(f"{column} {kind}" for column, kind in columns)
        self.session.createDataFrame(rows, schema=schema).createOrReplaceTempView(name)

    def rows(self, sql: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        table = self.session.sql(sql).toArrow()

        def batches() -> Iterator[tuple[Any, ...]]:
            for batch in table.to_batches():
                yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)

        return table.column_names, batches()

    def close(self) -> None:
        for name in reversed(self._cached):
            self.session.sql(f"UNCACHE TABLE IF EXISTS {name}")
        self._cached.clear()
