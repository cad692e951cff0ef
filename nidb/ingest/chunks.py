"""Validate and convert a file's rows chunk by chunk, in worker processes for large files.

Each chunk comes back in the form its database takes it (see ``Staged``) with the errors of its
bad rows, so a worker does the conversion work too, not only the validation.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import String

from nidb.ingest.fields import copy_line, sql_value
from nidb.ingest.layouts import LAYOUTS, Layout, RowInvalid
from nidb.ingest.readers import RowProblem, TableReader
from nidb.ingest.staging import Stage, Staged

RowError = tuple[int, str, object, str, str]
"""(row, column, value, rule, reason) of one broken rule."""


def convert_chunk(
    kind: str,
    header: list[str],
    rows: list[tuple[int, list[str | None]]],
    today: date,
    dialect: str,
    temporal: frozenset[int] = frozenset(),
) -> tuple[Staged, list[RowError]]:
    """Convert one chunk of rows: (staging rows tagged with their row number, row errors).

    The rows come back already in the form the database takes them, so that this work, not
    only validation, is done by the worker process running it.
    """
    layout = LAYOUTS[kind]
    convert = layout.convert
    bounded = _bounded_columns(kind)
    good: list[tuple[Any, ...]] = []
    errors: list[RowError] = []
    for number, cells in rows:
        try:
            values = convert(dict(zip(header, cells, strict=True)), today)
        except RowInvalid as invalid:
            errors.extend((number, e.field, e.value, e.rule, e.reason) for e in invalid.errors)
            continue
        too_long = [
            (name, value, limit)
            for i, name, limit in bounded
            if (value := values[i]) is not None and len(value) > limit
        ]
        if too_long:
            errors.extend(
                (number, name, value[:60], "VALUE_TOO_LONG", too_long_reason(limit))
                for name, value, limit in too_long
            )
            continue
        good.append((number, *values))
    if dialect == "postgresql":
        return "".join(copy_line(row) + "\n" for row in good).encode("utf-8"), errors
    if temporal:  # SQLite keeps dates as ISO text, the way SQLAlchemy reads them back
        good = [
            tuple(sql_value(v) if i in temporal else v for i, v in enumerate(row)) for row in good
        ]
    return good, errors


@cache
def _bounded_columns(kind: str) -> tuple[tuple[int, str, int], ...]:
    """(position, column, length) of every target column of a bounded text type.

    The last guard before staging: SQLite stores text of any length in a ``VARCHAR(n)`` and
    PostgreSQL refuses the whole COPY, so a value a layout let through too long must be
    quarantined here, the same on both engines, rather than fail one of them.
    """
    layout = LAYOUTS[kind]
    bounded = []
    for i, name in enumerate(layout.targets):
        column_type = layout.table.c[name].type
        if isinstance(column_type, String) and column_type.length is not None:
            bounded.append((i, name, column_type.length))
    return tuple(bounded)


def too_long_reason(limit: int) -> str:
    """The reason of a VALUE_TOO_LONG row (as ``fields.too_long`` gives it)."""
    return f"dài quá {limit} ký tự (longer than {limit} characters)"


def _die_with_parent(parent: int) -> None:
    """Ask Linux to end this worker when the importing process dies, even by SIGKILL.

    A parent killed while this worker was still starting, before the request, sends no
    signal: the worker then sees it has another parent already, and ends itself.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def validated_chunks(
    layout: Layout,
    header: list[str],
    reader: TableReader,
    today: date,
    workers: int,
    stage: Stage,
) -> Iterator[tuple[list[RowProblem], Staged, list[RowError]]]:
    """(row problems, good rows, row errors) per chunk, in file order.

    With ``workers`` > 1, chunks are converted in a process pool while this process reads the
    next ones and writes the previous ones; at most ``2 × workers`` chunks are in flight, so
    memory does not grow with the file. Ctrl-C or a kill ends the workers with the batch.
    """
    chunks = reader.chunks()

    def args(rows: list[tuple[int, list[str | None]]]) -> tuple[Any, ...]:
        return layout.kind, header, rows, today, stage.dialect, stage.temporal

    if workers <= 1:
        for rows, problems in chunks:
            yield problems, *convert_chunk(*args(rows))
        return
    # spawn, not fork: a forked worker would inherit the open database connection and, if this
    # process were killed, keep its transaction (and locks) alive
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        pending: deque[tuple[list[RowProblem], Future[Any]]] = deque()
        try:
            for rows, problems in chunks:
                pending.append((problems, pool.submit(convert_chunk, *args(rows))))
                while len(pending) >= 2 * workers:
                    problems_done, future = pending.popleft()
                    yield problems_done, *future.result()
            while pending:
                problems_done, future = pending.popleft()
                yield problems_done, *future.result()
        except BaseException:
            for _, future in pending:
                future.cancel()
            raise
