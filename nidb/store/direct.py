"""Statements of a hot path run straight on psycopg under PostgreSQL, compiled once.

SQLAlchemy's execution of a statement already in its compiled cache (execution context, result
set-up, the cursor's description read into column objects) costs ~0.13 ms of CPU on top of
psycopg's own ~0.07 ms. An employer's declaration runs ~17 statements, so that was ~2 ms of the
~7 ms its handler spent (issue 14: 200 declarations/s on two cores). `Direct` keeps the
statement a SQLAlchemy Core construct, the one source of its SQL; under PostgreSQL it compiles
it once per set of parameter names with the connection's dialect and runs it on the psycopg
connection under the caller's SQLAlchemy connection, so in the same transaction. What
SQLAlchemy adds to the values is added the same way: literal binds of the statement, the bind
processors of the column types (JSON) and the Python-side defaults and on-update values of the
columns not given (timestamps). An expanding ``IN`` parameter becomes ``= ANY(array)``. On any
other engine (SQLite), and when a listener is attached to the engine or connection (statement
events: instrumentation, a test counting statements), it is ``conn.execute(statement, params)``,
so that the listener sees every statement.

Rows are named tuples (``row.status``, ``row[0]``, unpacking), as SQLAlchemy's rows read; a
statement reading a column whose type SQLAlchemy converts on the way out is refused.
A driver error is raised as it is (psycopg's), not wrapped in SQLAlchemy's exceptions; a
connection the error broke is invalidated so that the pool does not hand it out again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Insert
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from nidb.store.drivers import psycopg_connection

__all__ = ["MULTI_VALUES_ROWS", "Direct"]


def _direct(conn: Connection) -> bool:
    """Whether to go to psycopg: PostgreSQL, and no listener or statement echo to bypass."""
    if conn.dialect.name != "postgresql":
        return False
    return not (conn._has_events or conn.engine._has_events or conn._echo)


_EXPANDING = re.compile(r"(NOT )?IN \(__\[POSTCOMPILE_(\w+)\]\)")
_VALUES = re.compile(r"(INSERT INTO .+? VALUES )(\(.*\))", re.DOTALL)
_BIND = re.compile(r"%\((\w+)\)s")
MULTI_VALUES_ROWS = 50
"""Up to this many rows, an INSERT of several is one statement with a VALUES row each (one
round trip, half the CPU of psycopg's pipelined executemany for a few rows); above, executemany."""


@dataclass(frozen=True, slots=True)
class _Form:
    """The statement compiled for one set of parameter names."""

    sql: str
    compiled: SQLCompiler
    processors: Mapping[str, Any]  # bind name → the type's bind processor
    defaults: Sequence[tuple[str, Any]]  # (bind name, ColumnDefault) computed per row
    values_row: tuple[str, str] | None  # an INSERT without RETURNING: (head, one VALUES row)
    multi: dict[int, str]  # the INSERT of n rows, made when first asked

    def rows_sql(self, n: int) -> str:
        """The INSERT of ``n`` rows, the binds of row i suffixed ``__i``."""
        sql = self.multi.get(n)
        if sql is None:
            assert self.values_row is not None
            head, row = self.values_row
            rows = (_BIND.sub(rf"%(\1__{i})s", row) for i in range(n))
            sql = self.multi[n] = head + ", ".join(rows)
        return sql


def _converted(type_: Any, conn: Connection) -> bool:
    """Whether SQLAlchemy converts what the driver reads for this type (the driver's type code
    unknown here: a type that needs it to decide counts as converted)."""
    try:
        return type_._cached_result_processor(conn.dialect, None) is not None
    except Exception:  # e.g. a Numeric asks the driver's type code
        return True


def _default_value(default: Any) -> Any:
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a no-argument callable to take a context
    return default.arg


class Direct:
    """A Core statement, run on psycopg directly under PostgreSQL (see the module)."""

    __slots__ = ("_forms", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._forms: dict[frozenset[str], _Form] = {}

    def _form(self, conn: Connection, keys: frozenset[str]) -> _Form:
        form = self._forms.get(keys)
        if form is None:
            form = self._forms[keys] = self._compile(conn, keys)
        return form

    def _compile(self, conn: Connection, keys: frozenset[str]) -> _Form:
        assert isinstance(self.statement, ClauseElement)
        # an INSERT without RETURNING compiled as for an executemany: without the implicit
        # RETURNING of the primary key SQLAlchemy adds for a single row (nothing reads it)
        plain_insert = (
            isinstance(self.statement, Insert) and not self.statement.returning_column_descriptions
        )
        compiled = self.statement.compile(
            dialect=conn.dialect, column_keys=sorted(keys), for_executemany=plain_insert
        )
        assert isinstance(compiled, SQLCompiler)
        if compiled.escaped_bind_names:
            raise ValueError(f"bind names needing escapes are not supported: {compiled.string}")

        def any_array(match: re.Match[str]) -> str:
            if match[1]:
                raise ValueError("NOT IN with an expanding parameter is not supported")
            return f"= ANY(%({match[2]})s)"

        sql = _EXPANDING.sub(any_array, compiled.string)
        if "POSTCOMPILE" in sql:
            raise ValueError(f"post-compiled parameters are not supported: {compiled.string}")
        defaults = [(c.key, c.default) for c in compiled.insert_prefetch if c.default is not None]
        defaults += [(c.key, c.onupdate) for c in compiled.update_prefetch if c.onupdate]
        if len(defaults) != len(compiled.insert_prefetch) + len(compiled.update_prefetch):
            raise ValueError(f"a prefetched column without a default: {compiled.string}")
        # psycopg returns what the types read (dates, JSON): a type SQLAlchemy would convert
        # the value of (an Enum class, a Numeric as float, a TypeDecorator) is not for here
        for column in compiled._result_columns:
            if _converted(column[3], conn):
                raise ValueError(f"column {column[0]} needs SQLAlchemy's result processing")
        processors = dict(compiled._bind_processors)
        if not all(callable(process) for process in processors.values()):
            raise ValueError(f"tuple parameters are not supported: {compiled.string}")
        values_row = None
        if plain_insert and not compiled.effective_returning:
            found = _VALUES.fullmatch(sql)
            values_row = (found[1], found[2]) if found else None
        return _Form(sql, compiled, processors, defaults, values_row, {})

    def _values(self, form: _Form, params: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(form.compiled.construct_params(params, _no_postcompile=True))
        for name, default in form.defaults:
            values[name] = _default_value(default)
        for name, process in form.processors.items():
            if name in values:
                values[name] = process(values[name])
        return values

    def _run(
        self, conn: Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> psycopg.Cursor[Any]:
        if not conn.in_transaction():
            conn.begin()  # what SQLAlchemy's autobegin does, so that conn.commit() commits it
        raw = psycopg_connection(conn)
        first = params[0] if isinstance(params, Sequence) else params
        form = self._form(conn, frozenset(first))
        cursor = raw.cursor(row_factory=namedtuple_row)
        try:
            if isinstance(params, Mapping) or len(params) == 1:
                cursor.execute(form.sql, self._values(form, first))
            elif form.values_row is not None and len(params) <= MULTI_VALUES_ROWS:
                values = {
                    f"{name}__{i}": value
                    for i, p in enumerate(params)
                    for name, value in self._values(form, p).items()
                }
                cursor.execute(form.rows_sql(len(params)), values)
            else:
                cursor.executemany(form.sql, [self._values(form, p) for p in params])
        except psycopg.Error:
            if raw.closed or raw.broken:
                conn.invalidate()
            raise
        return cursor

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row the statement returns."""
        if not _direct(conn):
            return list(conn.execute(self.statement, params))
        with self._run(conn, params) as cursor:
            return cursor.fetchall()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first row the statement returns, or None."""
        if not _direct(conn):
            return conn.execute(self.statement, params).first()
        with self._run(conn, params) as cursor:
            return cursor.fetchone()

    def one(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The one row the statement returns (an INSERT … RETURNING); raises if none."""
        row = self.first(conn, params)
        if row is None:
            raise LookupError("the statement returned no row")
        return row

    def run(
        self, conn: Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        """Execute it once with ``params``, or once per mapping of a list (an executemany)."""
        if isinstance(params, Sequence) and not params:
            return
        if not _direct(conn):
            conn.execute(self.statement, params)
            return
        self._run(conn, params).close()
