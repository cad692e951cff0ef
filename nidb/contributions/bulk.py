"""Bulk writes for reconciliation and allocation, below SQLAlchemy's per-row parameter handling.

On PostgreSQL rows go in with ``COPY … FROM STDIN`` and updates by id are one
``UPDATE … FROM unnest(arrays)`` statement; on SQLite both are the driver's ``executemany``
(no network, so one statement per row costs little once SQLAlchemy's per-row processing is
skipped). Everything runs on the caller's connection, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection

__all__ = ["append", "increment_by_id", "set_by_id"]

Row = Sequence[Any]


def _sqlite_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def append(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Row]) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``."""
    if not rows:
        return 0
    raw = conn.connection.driver_connection
    assert raw is not None
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        raw.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",
            [tuple(_sqlite_value(v) for v in row) for row in rows],
        )
    return len(rows)


def _update(
    conn: Connection, table: str, column: str, rows: Sequence[tuple[int, int]], add: bool
) -> None:
    if not rows:
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        value = f"t.{column} + v.value" if add else "v.value"
        with raw.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET {column} = {value} "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, value) WHERE t.id = v.id",
                ([r[0] for r in rows], [r[1] for r in rows]),
            )
    else:
        value = f"{column} + ?" if add else "?"
        raw.executemany(
            f"UPDATE {table} SET {column} = {value} WHERE id = ?", [(v, i) for i, v in rows]
        )


def set_by_id(conn: Connection, table: str, column: str, rows: Sequence[tuple[int, int]]) -> None:
    """``UPDATE table SET column = value WHERE id = id`` for each (id, value)."""
    _update(conn, table, column, rows, add=False)


def increment_by_id(
    conn: Connection, table: str, column: str, rows: Sequence[tuple[int, int]]
) -> None:
    """``UPDATE table SET column = column + value WHERE id = id`` for each (id, value); each
    id once."""
    _update(conn, table, column, rows, add=True)
