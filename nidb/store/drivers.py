"""The driver connection under a SQLAlchemy one, typed, for the few paths that go straight to
the driver: COPY and executemany in bulk loads, prepared statements on the card-check path."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import psycopg
from sqlalchemy import Connection


def psycopg_connection(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under ``conn`` (PostgreSQL)."""
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"not a psycopg connection: {type(raw).__name__}")
    return raw


def sqlite_connection(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under ``conn`` (SQLite)."""
    raw = conn.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        raise TypeError(f"not a sqlite3 connection: {type(raw).__name__}")
    return raw


def _sqlite_value(value: object) -> object:
    """What sqlite3's default adapters store for a date (``2026-11-01``) or a datetime
    (``2026-11-01 08:00:00+00:00``), written out: those adapters are deprecated (Python 3.12)."""
    if isinstance(value, datetime):
        return value.isoformat(" ")
    return value.isoformat() if isinstance(value, date) else value


def append_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """Insert ``rows`` (in the order of ``columns``) into ``table`` in bulk, inside ``conn``'s
    transaction: COPY on PostgreSQL, the driver's executemany on SQLite. The number inserted."""
    if not rows:
        return 0
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        raw = psycopg_connection(conn)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        sqlite_connection(conn).executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",
            [tuple(_sqlite_value(v) for v in row) for row in rows],
        )
    return len(rows)
