"""Import one interchange file into the register as one all-or-nothing batch.

How a batch runs (the same on SQLite and PostgreSQL):
1. The file's SHA-256 names the batch; a file already imported is not imported again.
2. In one transaction: rows stream through validation in chunks into a temporary staging table
   (PostgreSQL: COPY; SQLite: executemany), bad rows stream to a quarantine file.
3. Rows whose record key repeats within the file are quarantined (the first one wins).
4. One ``INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE data differs`` moves staging into the
   register, so rows already there and identical are left untouched.
5. The batch row, its audit entry and its outbox event are written; then COMMIT.
A crash or Ctrl-C before the commit leaves the register exactly as it was; after it, the whole
batch is there. Memory stays flat: only one chunk is held at a time.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Engine, MetaData, Table, insert, select, text
from sqlalchemy.types import BigInteger, Date, DateTime

from nidb.ingest.fields import copy_line, sql_value
from nidb.ingest.layouts import LAYOUTS, Layout, RowInvalid
from nidb.ingest.readers import FileError, RowProblem, TableReader, file_sha256, shown
from nidb.settings import actor_name, get_settings
from nidb.store import models

Progress = Callable[[int, int, int], None]
"""Called with (rows read, bytes read, total bytes) after each chunk."""

REJECT_COLUMNS = ("row", "column", "value", "rule", "reason")


@dataclass
class ImportReport:
    """What one import did."""

    kind: str
    path: Path
    batch_id: int | None = None
    skipped: bool = False
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_path: Path | None = None
    rejected_by_rule: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: stage (read, validate, write staging), dedupe, merge, follow_up."""

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged


def rejected_path_for(path: Path) -> Path:
    """Where the quarantine file of ``path`` goes: ``FILE.rejected.csv`` beside it."""
    return path.with_name(path.name + ".rejected.csv")


class _Quarantine:
    """Rejected rows, written to a temporary file and moved into place only on commit."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        self._handle = self.temp.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(REJECT_COLUMNS)
        self.rows: set[int] = set()
        self.by_rule: dict[str, int] = {}

    def add(self, row: int, column: str, value: object, rule: str, reason: str) -> None:
        self.rows.add(row)
        self.by_rule[rule] = self.by_rule.get(rule, 0) + 1
        shown_value = (
            shown(value) if isinstance(value, str) else "" if value is None else str(value)
        )
        self._writer.writerow((row, column, shown_value, rule, reason))

    def add_problem(self, problem: RowProblem) -> None:
        self.add(problem.row, problem.column, problem.value, problem.rule, problem.reason)

    def commit(self) -> Path | None:
        self._handle.close()
        if self.rows:
            os.replace(self.temp, self.target)
            return self.target
        self.temp.unlink(missing_ok=True)
        self.target.unlink(missing_ok=True)  # a fixed file leaves no stale quarantine
        return None

    def discard(self) -> None:
        self._handle.close()
        self.temp.unlink(missing_ok=True)


def import_file(
    engine: Engine,
    kind: str,
    path: Path,
    *,
    progress: Progress | None = None,
    force: bool = False,
    today: date | None = None,
    actor: str | None = None,
    rejected_path: Path | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind``; raises ``FileError`` if the file as a whole is unusable."""
    started = datetime.now(UTC)
    layout = LAYOUTS.get(kind)
    if layout is None:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(LAYOUTS)}")
    if not path.is_file():
        raise FileError(path, "không tìm thấy tệp", "file not found")
    report = ImportReport(kind=kind, path=path)
    sha = file_sha256(path)
    if not force:
        with engine.connect() as conn:
            batch = conn.execute(
                select(models.ImportBatch.id).where(
                    models.ImportBatch.kind == kind, models.ImportBatch.sha256 == sha
                )
            ).scalar()
        if batch is not None:
            report.batch_id, report.skipped = batch, True
            return report

    today = today or date.today()
    settings = get_settings()
    chunk_rows = settings.import_chunk_rows
    # a file of one chunk is not worth starting processes for
    workers = settings.import_workers if path.stat().st_size > 4 << 20 else 1
    with TableReader(path, chunk_rows) as reader:
        columns = _check_header(layout, reader)
        quarantine = _Quarantine(rejected_path or rejected_path_for(path))
        try:
            with engine.begin() as conn:
                clock = time.perf_counter()
                stage = _Stage(conn, layout)
                chunks = _validated(layout, columns, reader, today, workers, stage)
                for problems, good, errors in chunks:
                    for problem in problems:
                        quarantine.add_problem(problem)
                    for error in errors:
                        quarantine.add(*error)
                    stage.write(good)
                    if progress:
                        progress(reader.rows_read, reader.bytes_done, reader.total_bytes)
                report.rows_read = reader.rows_read
                report.phases["stage"] = time.perf_counter() - clock
                clock = time.perf_counter()
                for row, key, first in stage.duplicate_keys():
                    quarantine.add(
                        row,
                        ",".join(layout.key),
                        key,
                        "DUPLICATE_KEY",
                        f"trùng khóa với dòng {first} (same record key as row {first})",
                    )
                batch_id = _new_batch(conn, layout, path, sha, started)
                report.phases["dedupe"] = time.perf_counter() - clock
                clock = time.perf_counter()
                report.inserted, report.updated = stage.merge(batch_id)
                report.phases["merge"] = time.perf_counter() - clock
                report.rejected = len(quarantine.rows)
                report.unchanged = (
                    report.rows_read - report.rejected - report.inserted - report.updated
                )
                clock = time.perf_counter()
                _after_load(conn, layout, batch_id)
                report.phases["follow_up"] = time.perf_counter() - clock
                _close_batch(conn, batch_id, report, actor or actor_name())
                report.batch_id = batch_id
                stage.drop()
        except BaseException:
            quarantine.discard()
            raise
        report.rejected_path = quarantine.commit()
        report.rejected_by_rule = dict(sorted(quarantine.by_rule.items()))
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    return report


def _check_header(layout: Layout, reader: TableReader) -> list[str]:
    present = set(reader.header)
    missing = [name for name in layout.required if name not in present]
    if missing:
        raise FileError(
            reader.path,
            f"thiếu cột bắt buộc: {', '.join(missing)}",
            f"missing required column(s): {', '.join(missing)}",
        )
    return reader.header


RowError = tuple[int, str, object, str, str]
"""(row, column, value, rule, reason) of one broken rule."""


Staged = bytes | list[tuple[Any, ...]]
"""A chunk ready for staging: COPY text (PostgreSQL) or parameter tuples (SQLite)."""


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
    convert = LAYOUTS[kind].convert
    good: list[tuple[Any, ...]] = []
    errors: list[RowError] = []
    for number, cells in rows:
        try:
            values = convert(dict(zip(header, cells, strict=True)), today)
        except RowInvalid as invalid:
            errors.extend((number, e.field, e.value, e.rule, e.reason) for e in invalid.errors)
            continue
        good.append((number, *values))
    if dialect == "postgresql":
        return "".join(copy_line(row) + "\n" for row in good).encode("utf-8"), errors
    if temporal:  # SQLite keeps dates as ISO text, the way SQLAlchemy reads them back
        good = [
            tuple(sql_value(v) if i in temporal else v for i, v in enumerate(row)) for row in good
        ]
    return good, errors


def _die_with_parent() -> None:
    """Ask Linux to end this worker when the importing process dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _validated(
    layout: Layout,
    header: list[str],
    reader: TableReader,
    today: date,
    workers: int,
    stage: _Stage,
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
        max_workers=workers, mp_context=context, initializer=_die_with_parent
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


class _Stage:
    """A temporary table holding one batch's valid rows, tagged with their row numbers."""

    def __init__(self, conn: Connection, layout: Layout) -> None:
        self.conn = conn
        self.layout = layout
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
        self._raw = conn.connection.driver_connection
        self.temporal = frozenset(
            i
            for i, column in enumerate(self.table.columns)
            if isinstance(column.type, Date | DateTime)
        )

    def write(self, staged: Staged) -> None:
        if isinstance(staged, bytes):
            cursor = self._raw.cursor()
            with cursor.copy(f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN") as copy:
                copy.write(staged)
            cursor.close()
        else:
            placeholders = ", ".join("?" for _ in self.columns)
            self._raw.executemany(f"INSERT INTO {self.name} VALUES ({placeholders})", staged)

    def duplicate_keys(self) -> Iterator[tuple[int, str, int]]:
        """(row, key, first row) for every row repeating an earlier row's key; removes them."""
        key = ", ".join(self.layout.key)
        key_text = " || ',' || ".join(f"COALESCE(CAST({k} AS TEXT), '')" for k in self.layout.key)
        rows = self.conn.execute(
            text(
                f"SELECT s._row, {key_text}, f.first_row FROM {self.name} s JOIN "
                f"(SELECT {key}, MIN(_row) AS first_row FROM {self.name} GROUP BY {key} "
                f"HAVING COUNT(*) > 1) f USING ({key}) WHERE s._row <> f.first_row ORDER BY s._row"
            )
        ).all()
        if rows:
            self.conn.execute(
                text(
                    f"DELETE FROM {self.name} WHERE _row IN ("
                    f"SELECT s._row FROM {self.name} s JOIN (SELECT {key}, MIN(_row) AS first_row "
                    f"FROM {self.name} GROUP BY {key} HAVING COUNT(*) > 1) f USING ({key}) "
                    f"WHERE s._row <> f.first_row)"
                )
            )
        yield from ((row, key_value, first) for row, key_value, first in rows)

    def merge(self, batch_id: int) -> tuple[int, int]:
        """Upsert staging into the register; returns (inserted, updated)."""
        layout = self.layout
        target = layout.table.name
        cols = ", ".join(layout.targets)
        data_cols = [c for c in layout.targets if c not in layout.key]
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
        if _is_empty(self.conn, layout.table):
            # first load: keys are already unique in staging, so nothing can conflict
            plain = (
                f"INSERT INTO {target} ({cols}, batch_id) SELECT {cols}, :batch_id FROM {self.name}"
            )
            with _indexes_rebuilt_after(self.conn, layout.table):
                inserted = self.conn.execute(text(plain), {"batch_id": batch_id}).rowcount
            return inserted, 0
        # rowcount of an upsert counts inserted and actually-updated rows alike
        before = self.conn.execute(text(f"SELECT COUNT(*) FROM {target}")).scalar_one()
        touched = self.conn.execute(text(upsert), params).rowcount
        after = self.conn.execute(text(f"SELECT COUNT(*) FROM {target}")).scalar_one()
        return after - before, touched - (after - before)

    def drop(self) -> None:
        self.table.drop(self.conn)


def _is_empty(conn: Connection, table: Table) -> bool:
    return conn.execute(text(f"SELECT 1 FROM {table.name} LIMIT 1")).first() is None


@contextmanager
def _indexes_rebuilt_after(conn: Connection, table: Table) -> Iterator[None]:
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


def _new_batch(conn: Connection, layout: Layout, path: Path, sha: str, started: datetime) -> int:
    result = conn.execute(
        insert(models.ImportBatch)
        .values(
            kind=layout.kind,
            source_name=str(path)[-500:],
            sha256=sha,
            rows_read=0,
            rows_inserted=0,
            rows_updated=0,
            rows_unchanged=0,
            rows_rejected=0,
            started_at=started,
            finished_at=started,
        )
        .returning(models.ImportBatch.id)
    )
    return int(result.scalar_one())


def _after_load(conn: Connection, layout: Layout, batch_id: int) -> None:
    """Kind-specific follow-up inside the batch transaction."""
    if layout.kind == "records":
        # every declared, well-formed personal ID opens a 'declared' BHXH ↔ ID link once
        links = models.IdentityLink.__table__
        rebuild = _indexes_rebuilt_after if _is_empty(conn, links) else _as_is
        with rebuild(conn, links):
            _open_declared_links(conn, batch_id)


@contextmanager
def _as_is(conn: Connection, table: Table) -> Iterator[None]:
    yield


def _open_declared_links(conn: Connection, batch_id: int) -> None:
    conn.execute(
        text(
            "INSERT INTO identity_links (bhxh_code, personal_id, source, valid_from, batch_id) "
            "SELECT DISTINCT p.bhxh_code, p.declared_id, 'declared', :now, :batch_id "
            "FROM persons p WHERE p.batch_id = :batch_id AND p.declared_id_kind = 'cccd' "
            "AND NOT EXISTS (SELECT 1 FROM identity_links l WHERE l.bhxh_code = p.bhxh_code "
            "AND l.personal_id = p.declared_id AND l.valid_to IS NULL)"
        ),
        {"now": datetime.now(UTC), "batch_id": batch_id},
    )


def _close_batch(conn: Connection, batch_id: int, report: ImportReport, actor: str) -> None:
    batches = models.ImportBatch.__table__
    conn.execute(
        batches.update()
        .where(batches.c.id == batch_id)
        .values(
            rows_read=report.rows_read,
            rows_inserted=report.inserted,
            rows_updated=report.updated,
            rows_unchanged=report.unchanged,
            rows_rejected=report.rejected,
            finished_at=datetime.now(UTC),
        )
    )
    detail = {
        "kind": report.kind,
        "file": report.path.name,
        "rows_read": report.rows_read,
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
    }
    conn.execute(
        insert(models.AuditEntry).values(
            actor=actor,
            action="import",
            subject_type="import_batch",
            subject_id=str(batch_id),
            purpose="NHAP_DU_LIEU",
            detail=detail,
        )
    )
    conn.execute(
        insert(models.OutboxEvent).values(
            topic="register.batch_imported",
            subject_key=f"batch:{batch_id}",
            payload={"batch_id": batch_id, **detail},
        )
    )
