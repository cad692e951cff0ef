"""What every ``nidb`` command shares at the terminal: the consoles, failing with an exit code,
turning expected failures into a message, and a progress display.

Exit codes: 0 done; 1 a failure of the system (database unreachable…); 2 bad input named in the
message (file, row, column); 130 interrupted (nothing of the interrupted batch was kept).

These helpers live here, not in ``nidb.cli``: each capability's ``commands.py`` uses them, and
nothing but ``nidb.cli`` itself imports ``nidb.cli`` (it composes the capabilities' commands).
This module sits just above ``nidb.domain`` and ``nidb.protocol``: it imports neither the store
nor any capability, and keeps its top level light (``nidb --help`` loads it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from nidb.domain.errors import InputFileError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["RowProgress", "err", "fail", "handled", "out"]


def _console(stderr: bool = False) -> Console:
    # logs and pipes get wide, unwrapped lines: a path or a rule code cut in two is useless there
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=200, soft_wrap=True)


out = _console()
"""Standard output: what a command reports."""
err = _console(stderr=True)
"""Standard error: failures, progress and stages."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise (``raise fail(…) from None``)."""
    err.print(f"[bold red]Lỗi (error):[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn expected failures into a message and an exit code instead of a traceback.

    A bad input file exits 2, Ctrl-C 130, a database error 1; anything else goes on up.
    """
    try:
        yield
    except InputFileError as error:
        raise fail(str(error), 2) from None
    except KeyboardInterrupt:
        raise fail(
            "đã dừng theo yêu cầu; lô đang nạp không được ghi (interrupted; the batch "
            "in progress was not kept)",
            130,
        ) from None
    except Exception as error:
        if not _is_database_error(error):
            raise
        raise fail(
            f"cơ sở dữ liệu báo lỗi (database error): {error.__class__.__name__}: "
            f"{str(error).splitlines()[0]}",
            1,
        ) from None


def _is_database_error(error: Exception) -> bool:
    # SQLAlchemy and psycopg are imported only once a command has failed: `nidb --help` must not
    # load them, and an error cannot come from a module that was never loaded. Hot paths run on
    # psycopg directly (nidb.store.direct), whose errors are psycopg's own, unwrapped.
    if "psycopg" in sys.modules:
        import psycopg

        if isinstance(error, psycopg.Error):
            return True
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(error, SQLAlchemyError)


class RowProgress:
    """A progress display: a Rich bar on a terminal, plain lines otherwise (logs, CI, tests)."""

    def __init__(self, label: str, unit: str = "dòng") -> None:
        self.label = label
        self.unit = unit
        """What is counted: ``dòng`` (rows), ``bước`` (steps)…"""
        self.printed_done = -1
        self.live = err.is_terminal
        self.started = time.perf_counter()
        self.last_line = 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RowProgress:
        if self.live:
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn(
                    f"{{task.fields[rows]:,}} {self.unit} · {{task.fields[rate]:,.0f}} {self.unit}/s"
                ),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=None, rows=0, rate=0.0)
        return self

    def update(self, rows: int, done: int, total: int) -> None:
        """Show progress; ``total`` 0 means the size of the work is not known."""
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=done, total=total or None, rows=rows, rate=rows / elapsed
            )
        elif done != self.printed_done and self._plain_line_due(done, total):
            self.last_line = time.perf_counter()
            self.printed_done = done  # the same count is never printed twice
            share = f", {100 * done / total:.0f}%" if total else ""
            print(
                f"{self.label}: {rows:,} {self.unit}{share}, {rows / elapsed:,.0f} {self.unit}/s",
                file=sys.stderr,
                flush=True,
            )

    def _plain_line_due(self, done: int, total: int) -> bool:
        """A plain line at the first step, then at most once a second; the end only closes
        lines already shown: a run done in one step prints none, as its command's summary
        follows with the same count (it read as the line printed twice)."""
        if total and done >= total:
            return self.printed_done >= 0
        return time.perf_counter() - self.last_line >= 1.0

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
