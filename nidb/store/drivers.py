"""The driver connection under a SQLAlchemy one, typed, for the few paths that go straight to
the driver: COPY and executemany in bulk loads, prepared statements on the card-check path."""

from __future__ import annotations

import sqlite3
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
