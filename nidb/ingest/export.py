"""Parquet snapshots of the register for the analytics engines (DuckDB, Spark).

Each table is streamed from the database in chunks into one Parquet file, so exporting a
national-size table needs no more memory than one chunk. A ``manifest.json`` lists the tables,
their row counts and the snapshot time. Files are written under temporary names and moved into
place at the end, so a reader never sees a half-written snapshot.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, select

from nidb.store import models

SNAPSHOT_TABLES = (
    "citizens",
    "persons",
    "identity_links",
    "employers",
    "participation_periods",
    "contributions",
    "health_cards",
    "benefits",
    "health_visits",
    "welfare_beneficiaries",
)


@dataclass(frozen=True)
class ExportedTable:
    """One table written to Parquet."""

    table: str
    path: Path
    rows: int


def export_snapshot(
    engine: Engine,
    out_dir: Path,
    tables: Sequence[str] = SNAPSHOT_TABLES,
    chunk_rows: int = 100_000,
    progress: Callable[[str, int], None] | None = None,
) -> list[ExportedTable]:
    """Write each table of ``tables`` to ``out_dir/<table>.parquet``, plus a manifest."""
    unknown = [t for t in tables if t not in SNAPSHOT_TABLES]
    if unknown:
        raise ValueError(
            f"unknown table(s): {', '.join(unknown)}; one of {', '.join(SNAPSHOT_TABLES)}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    taken_at = datetime.now(UTC)
    written: list[ExportedTable] = []
    # one read transaction: every table is seen at the same moment
    with engine.connect() as conn, conn.begin():
        for name in tables:
            written.append(_export_table(conn, name, out_dir, chunk_rows, progress))
    manifest = {
        "snapshot_at": taken_at.isoformat(),
        "tables": {t.table: {"file": t.path.name, "rows": t.rows} for t in written},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return written


def _export_table(
    conn: Connection,
    name: str,
    out_dir: Path,
    chunk_rows: int,
    progress: Callable[[str, int], None] | None,
) -> ExportedTable:
    table = models.Base.metadata.tables[name]
    schema = pa.schema([pa.field(c.name, _arrow_type(c.type)) for c in table.columns])
    final = out_dir / f"{name}.parquet"
    temp = out_dir / f".{name}.parquet.{os.getpid()}.tmp"
    rows = 0
    result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(
        select(table).order_by(*table.primary_key.columns)
    )
    try:
        with pq.ParquetWriter(temp, schema, compression="zstd") as writer:
            for part in result.partitions(chunk_rows):
                columns: list[tuple[Any, ...]] = (
                    list(zip(*part, strict=True)) if part else [() for _ in schema]
                )
                writer.write_table(
                    pa.table(
                        [
                            pa.array(list(col), type=field.type)
                            for col, field in zip(columns, schema, strict=True)
                        ],
                        schema=schema,
                    )
                )
                rows += len(part)
                if progress:
                    progress(name, rows)
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return ExportedTable(name, final, rows)


def _arrow_type(sql_type: object) -> pa.DataType:
    from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, SmallInteger

    if isinstance(sql_type, Boolean):
        return pa.bool_()
    if isinstance(sql_type, BigInteger | Integer | SmallInteger):
        return pa.int64()
    if isinstance(sql_type, DateTime):
        return pa.timestamp("us", tz="UTC") if sql_type.timezone else pa.timestamp("us")
    if isinstance(sql_type, Date):
        return pa.date32()
    return pa.string()
