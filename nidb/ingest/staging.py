"""The staging table of one batch: valid rows go in, duplicate keys come out, and one upsert
moves the rest into the register.

PostgreSQL fills it with COPY, SQLite with executemany; the merge is one
``INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE data differs``, so rows already in the register
and identical are left untouched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import BigInteger, Date, DateTime

from nidb.ingest.layouts import Layout
from nidb.store.drivers import psycopg_connection, sqlite_connection

Staged = bytes | list[tuple[Any, ...]]
"""A chunk ready for staging: COPY text (PostgreSQL) or parameter tuples (SQLite)."""


class StagingFailed(SQLAlchemyError):
    """The database refused a chunk of valid rows (a system failure: exit 1).

    The driver's message is left out on purpose: PostgreSQL's names the offending row and
    value, which is personal data and must not reach a terminal or a log.
    """


class Stage:
    """A temporary table holding one batch's valid rows, tagged with their row numbers."""

    def __init__(self, conn: Connection, layout: Layout, present: Collection[str] = ()) -> None:
        """``present``: the file's columns; a ``layout.kept_if_absent`` column not among them
        is left as the register holds it when an existing row is updated."""
        self.conn = conn
        self.layout = layout
        self.kept = frozenset(c for c in layout.kept_if_absent if c not in present)
        self.dialect = conn.dialect.name
        self.name = f"nidb_stage_{layout.kind}"
        self.table = Table(
            self.name,
            MetaData(),
            Column("_row", BigInteger),
            *(Column(name, layout.table.c[name].type) for name in layout.targets),
            prefixes=["TEMPORARY"],
        )
        self.table.drop(conn, checkfirst=True)  # a leftover from a killed run on this connection
        self.table.create(conn)
        self.columns = ("_row", *layout.targets)
        self.temporal = frozenset(
            i
            for i, column in enumerate(self.table.columns)
            if isinstance(column.type, Date | DateTime)
        )

    def write(self, staged: Staged) -> None:
        """Append one converted chunk: COPY on PostgreSQL, executemany on SQLite."""
        try:
            if isinstance(staged, bytes):
                cursor = psycopg_connection(self.conn).cursor()
                columns = ", ".join(self.columns)
                with cursor.copy(f"COPY {self.name} ({columns}) FROM STDIN") as copy:
                    copy.write(staged)
                cursor.close()
            else:
                placeholders = ", ".join("?" for _ in self.columns)
                sqlite_connection(self.conn).executemany(
                    f"INSERT INTO {self.name} VALUES ({placeholders})", staged
                )
        except self.conn.dialect.loaded_dbapi.Error as error:
            state = getattr(error, "sqlstate", None) or getattr(error, "sqlite_errorname", "")
            raise StagingFailed(
                f"không ghi được bảng tạm {self.name} (could not stage rows): "
                f"{type(error).__name__} {state}".rstrip()
            ) from None

    def duplicate_keys(self) -> Iterator[tuple[int, str, int]]:
        """(row, key, first row) for every row repeating an earlier row's key; removes them."""
        return self.repeats(self.layout.key)

    def repeats(self, columns: tuple[str, ...]) -> Iterator[tuple[int, str, int]]:
        """(row, value, first row) for every row repeating an earlier row's ``columns``
        (rows with an empty one aside); removes them from staging."""
        names = ", ".join(columns)
        shown = " || ',' || ".join(f"COALESCE(CAST({c} AS TEXT), '')" for c in columns)
        filled = " AND ".join(f"{c} IS NOT NULL" for c in columns)
        repeated = (
            f"FROM {self.name} s JOIN (SELECT {names}, MIN(_row) AS first_row FROM {self.name} "
            f"WHERE {filled} GROUP BY {names} HAVING COUNT(*) > 1) f USING ({names}) "
            f"WHERE s._row <> f.first_row"
        )
        rows = self.conn.execute(
            text(f"SELECT s._row, {shown}, f.first_row {repeated} ORDER BY s._row")
        ).all()
        if rows:
            self.conn.execute(
                text(f"DELETE FROM {self.name} WHERE _row IN (SELECT s._row {repeated})")
            )
        yield from ((row, value, first) for row, value, first in rows)

    def merge(self, batch_id: int) -> tuple[int, int]:
        """Upsert staging into the register; returns (inserted, updated)."""
        layout = self.layout
        target = layout.table.name
        cols = ", ".join(layout.targets)
        data_cols = [c for c in layout.targets if c not in layout.key and c not in self.kept]
        distinct = "IS DISTINCT FROM" if self.dialect == "postgresql" else "IS NOT"
        changed = " OR ".join(f"{target}.{c} {distinct} excluded.{c}" for c in data_cols)
        assignments = [f"{c} = excluded.{c}" for c in data_cols] + ["batch_id = excluded.batch_id"]
        params: dict[str, Any] = {"batch_id": batch_id}
        for i, (column, value) in enumerate(layout.reset_on_change.items()):
            assignments.append(f"{column} = :reset{i}")
            params[f"reset{i}"] = value
        upsert = (
            f"INSERT INTO {target} ({cols}, batch_id) "
            f"SELECT {cols}, :batch_id FROM {self.name} WHERE true "
            f"ON CONFLICT ({', '.join(layout.key)}) DO UPDATE SET {', '.join(assignments)}"
            + (f" WHERE {changed}" if changed else "")
        )
        if is_empty(self.conn, layout.table):
            # first load: keys are already unique in staging, so nothing can conflict
            plain = (
                f"INSERT INTO {target} ({cols}, batch_id) SELECT {cols}, :batch_id FROM {self.name}"
            )
            with indexes_rebuilt_after(self.conn, layout.table):
                inserted = self.conn.execute(text(plain), {"batch_id": batch_id}).rowcount
            return inserted, 0
        # rowcount of an upsert counts inserted and actually-updated rows alike
        before = self.conn.execute(text(f"SELECT COUNT(*) FROM {target}")).scalar_one()
        touched = self.conn.execute(text(upsert), params).rowcount
        after = self.conn.execute(text(f"SELECT COUNT(*) FROM {target}")).scalar_one()
        return after - before, touched - (after - before)

    def drop(self) -> None:
        """Drop the staging table once its rows are merged."""
        self.table.drop(self.conn)


def is_empty(conn: Connection, table: Table) -> bool:
    """Whether ``table`` holds no rows."""
    return conn.execute(text(f"SELECT 1 FROM {table.name} LIMIT 1")).first() is None


@contextmanager
def indexes_rebuilt_after(conn: Connection, table: Table) -> Iterator[None]:
    """Drop the secondary indexes of an empty table, fill it, then build them again.

    Building an index once by sorting is several times faster than maintaining it row by row.
    Everything happens inside the batch transaction, so a failure restores the indexes too.
    """
    indexes = list(table.indexes)
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)
