"""What a database holds, as a backup's manifest records it and a restore checks it: the
tables with their row counts, the schema revision and the access log's chain heads."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from nidb.accesslog import chain_head
from nidb.store import models

__all__ = ["Census", "is_empty", "take_census", "user_tables"]

ACCESS_LOG_TABLE = models.AccessLogEntry.__tablename__


@dataclass(frozen=True, slots=True)
class Census:
    """Row counts per table, the Alembic revision and the access-log heads (lane → seq, hash)."""

    tables: dict[str, int]
    revision: str | None
    heads: dict[int, tuple[int, str]]


def user_tables(conn: Connection) -> list[str]:
    """The database's own tables (SQLite's and PostgreSQL's catalogues left out)."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = (
            "SELECT tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
    return sorted(conn.execute(text(query)).scalars())


def is_empty(conn: Connection) -> bool:
    """Whether the database has no tables at all (the only target `nidb restore` writes to)."""
    return not user_tables(conn)


def take_census(conn: Connection) -> Census:
    """Count every table's rows and read the heads, all in ``conn``'s transaction."""
    quote = conn.dialect.identifier_preparer.quote
    names = user_tables(conn)
    tables = {
        name: int(conn.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())
        for name in names
    }
    revision = None
    if "alembic_version" in tables:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    heads = chain_head(conn) if ACCESS_LOG_TABLE in tables else {}
    return Census(tables, revision, heads)
