"""Bulk writes for reconciliation and allocation, below SQLAlchemy's per-row parameter handling.

Rows go in with the store's ``append_rows`` (``COPY … FROM STDIN`` on PostgreSQL). Updates by
id are one ``UPDATE … FROM unnest(arrays)`` statement on PostgreSQL and the driver's
``executemany`` on SQLite (no network, so one statement per row costs little once SQLAlchemy's
per-row processing is skipped). Everything runs on the caller's connection, inside its
transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

__all__ = ["by_index", "increment_by_id", "lookup", "set_by_id"]

Row = Sequence[Any]


_PLANNER = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")


@contextmanager
def by_index(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, joins inside the block are index look-ups whatever the statistics say.

    Rows COPYed earlier in the same transaction are invisible to autovacuum, so the planner
    believes those tables nearly empty and would scan them whole once per joined row (a
    100,000-line statement took 104 s instead of ~10). The settings are the transaction's and
    are put back after the block.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"current_setting('{s}')" for s in _PLANNER))
        before = cursor.fetchone()
        cursor.execute("SELECT " + ", ".join(f"set_config('{s}', 'off', true)" for s in _PLANNER))
    try:
        yield
    finally:
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(f"set_config('{s}', %s, true)" for s in _PLANNER),
                tuple(before or ("on",) * len(_PLANNER)),
            )


def lookup(conn: Connection, select_sql: str, column: str, keys: Sequence[str]) -> list[Any]:
    """The rows of ``SELECT … WHERE <column> IN keys`` (``select_sql`` ends before WHERE's
    condition on ``column``; it may hold other conditions joined with AND), by index."""
    if not keys:
        return []
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        with by_index(conn), raw.cursor() as cursor:
            cursor.execute(f"{select_sql} {column} = ANY(%s)", (list(keys),))
            return list(cursor.fetchall())
    found: list[Any] = []
    for start in range(0, len(keys), 900):
        part = list(keys[start : start + 900])
        marks = ", ".join("?" for _ in part)
        found += raw.execute(f"{select_sql} {column} IN ({marks})", part).fetchall()
    return found


def _update(
    conn: Connection, table: str, column: str, rows: Sequence[tuple[int, int]], add: bool
) -> None:
    if not rows:
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        value = f"t.{column} + v.value" if add else "v.value"
        with by_index(conn), raw.cursor() as cursor:
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
