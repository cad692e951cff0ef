"""The quarantine file of a batch: its rejected rows, each with row, column, value, rule, reason.

The rows are written while the batch runs and appear as ``FILE.rejected.csv`` only when the
batch commits. Until then they hold personal data and must not survive a crash beside the
input, so they are written to a file with no name: on Linux an ``O_TMPFILE`` in the target's
folder, given its name at commit (``linkat``); where the folder's file system cannot do that, a
file in a private folder under ``NIDB_DATA_DIR`` (``tmp/quarantine``, mode 0700). A kill -9
leaves nothing with the first; with the second, the next import removes what a dead process
left there, and any ``.FILE.rejected.csv.<pid>.tmp`` an older nidb left beside the input.

Cells pass through ``nidb.domain.spreadsheet.neutralise``: clerks open this file in
spreadsheets, and a value from the input such as ``=HYPERLINK(…)`` must not run there.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import glob
import os
import secrets
import shutil
from pathlib import Path
from typing import IO

from nidb.domain.spreadsheet import safe_cell
from nidb.ingest.readers import RowProblem, shown

REJECT_COLUMNS = ("row", "column", "value", "rule", "reason")
SCRATCH = Path("tmp") / "quarantine"
"""The fallback folder, under ``NIDB_DATA_DIR``."""


def rejected_path_for(path: Path) -> Path:
    """Where the quarantine file of ``path`` goes: ``FILE.rejected.csv`` beside it."""
    return path.with_name(path.name + ".rejected.csv")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _dead_owner(pid_field: str) -> bool:
    return pid_field.isdigit() and int(pid_field) != os.getpid() and not _alive(int(pid_field))


def sweep_leftovers(target: Path, scratch: Path) -> list[Path]:
    """Remove quarantine files a killed import left behind; the paths removed."""
    removed = []
    with contextlib.suppress(OSError):
        for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
            if _dead_owner(leftover.name.rsplit(".", 2)[-2]):
                leftover.unlink(missing_ok=True)
                removed.append(leftover)
    if scratch.is_dir():
        for leftover in scratch.iterdir():
            if _dead_owner(leftover.name.split("-", 1)[0]):
                leftover.unlink(missing_ok=True)
                removed.append(leftover)
    return removed


def _unnamed_file(folder: Path) -> int | None:
    """A file descriptor of a new file without a name in ``folder``, if the system can."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        return os.open(folder, flag | os.O_RDWR, 0o666)
    except OSError as error:
        if error.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            return None  # the file system has no O_TMPFILE
        raise


def _copy_fd(fd: int, path: Path) -> None:
    """Copy the whole file open as ``fd`` to a new file at ``path``."""
    size = os.fstat(fd).st_size
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        offset = 0
        while offset < size and (sent := os.sendfile(target, fd, offset, size - offset)):
            offset += sent
    finally:
        os.close(target)


class Quarantine:
    """Rejected rows of one batch, written where a crash cannot leave them beside the input."""

    def __init__(self, target: Path, scratch: Path) -> None:
        self.target = target
        self.rows: set[int] = set()
        self.by_rule: dict[str, int] = {}
        unnamed = _unnamed_file(target.parent)
        self._scratch_file: Path | None = None
        if unnamed is None:
            scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._scratch_file = scratch / f"{os.getpid()}-{secrets.token_hex(4)}.csv"
            unnamed = os.open(self._scratch_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._fd = unnamed
        self._handle: IO[str] = open(self._fd, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._handle)
        self._writer.writerow(REJECT_COLUMNS)

    def add(self, row: int, column: str, value: object, rule: str, reason: str) -> None:
        """Note one broken rule of ``row``."""
        self.rows.add(row)
        self.by_rule[rule] = self.by_rule.get(rule, 0) + 1
        shown_value = (
            shown(value) if isinstance(value, str) else "" if value is None else str(value)
        )
        self._writer.writerow((row, *map(safe_cell, (column, shown_value, rule, reason))))

    def add_problem(self, problem: RowProblem) -> None:
        """Note a row that could not be read as a row."""
        self.add(problem.row, problem.column, problem.value, problem.rule, problem.reason)

    def commit(self) -> Path | None:
        """Give the file its name (or remove a stale one when no row was rejected)."""
        self._handle.flush()
        try:
            if not self.rows:
                self.target.unlink(missing_ok=True)  # a fixed file leaves no stale quarantine
                return None
            staged = self.target.with_name(f".{self.target.name}.{os.getpid()}.tmp")
            if self._scratch_file is None:
                staged.unlink(missing_ok=True)
                try:
                    os.link(f"/proc/self/fd/{self._fd}", staged)
                except OSError:  # no /proc, or a sandbox refusing the link: copy the bytes
                    _copy_fd(self._fd, staged)
            else:
                try:
                    os.replace(self._scratch_file, self.target)
                    return self.target
                except OSError as error:
                    if error.errno != errno.EXDEV:
                        raise
                    shutil.copyfile(self._scratch_file, staged)  # another file system
            os.replace(staged, self.target)
            return self.target
        finally:
            self.discard()

    def discard(self) -> None:
        """Drop the rows (the batch did not commit)."""
        self._handle.close()
        if self._scratch_file is not None:
            self._scratch_file.unlink(missing_ok=True)
