"""Import one interchange file into the register as one all-or-nothing batch.

How a batch runs (the same on SQLite and PostgreSQL):
1. The file's SHA-256 names the batch; a file already imported is not imported again. Its
   header is checked first (``header.check_header``): a missing or repeated column, or a
   Parquet column of a type the layout cannot read, refuses the file before any row loads.
2. In one transaction: rows stream through validation in chunks into a temporary staging table
   (PostgreSQL: COPY; SQLite: executemany), bad rows stream to a quarantine file
   that has no name until the commit (``quarantine``).
3. Rows whose record key repeats within the file are quarantined (the first one wins), and
   so are rows repeating another column the layout holds unique (``Layout.unique``).
4. One ``INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE data differs`` moves staging into the
   register, so rows already there and identical are left untouched.
5. The batch row, its audit entry and its outbox event are written; then COMMIT.
A crash or Ctrl-C before the commit leaves the register exactly as it was; after it, the whole
batch is there. Memory stays flat: only one chunk is held at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, insert, select, text

from nidb.ingest.chunks import validated_chunks
from nidb.ingest.header import check_header
from nidb.ingest.layouts import LAYOUTS, Layout
from nidb.ingest.quarantine import SCRATCH, Quarantine, rejected_path_for, sweep_leftovers
from nidb.ingest.readers import FileError, TableReader, file_sha256
from nidb.ingest.staging import Stage, indexes_rebuilt_after, is_empty
from nidb.settings import actor_name, get_settings
from nidb.store import models
from nidb.store.audit import write_audit, write_event
from nidb.store.tables import table_of

__all__ = ["ImportReport", "import_file", "rejected_path_for"]

Progress = Callable[[int, int, int], None]
"""Called with (rows read, bytes read, total bytes) after each chunk."""


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
    target = rejected_path or rejected_path_for(path)
    scratch = get_settings().data_dir / SCRATCH
    sweep_leftovers(target, scratch)
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
        columns = check_header(layout, reader)
        quarantine = Quarantine(target, scratch)
        try:
            with engine.begin() as conn:
                clock = time.perf_counter()
                stage = Stage(conn, layout, columns)
                chunks = validated_chunks(layout, columns, reader, today, workers, stage)
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
                for column in layout.unique:
                    for row, value, first in stage.repeats((column,)):
                        quarantine.add(
                            row,
                            column,
                            value,
                            "DUPLICATE_VALUE",
                            f"trùng {column} với dòng {first} (same {column} as row {first})",
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
        links = table_of(models.IdentityLink)
        rebuild = indexes_rebuilt_after if is_empty(conn, links) else _as_is
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
    batches = table_of(models.ImportBatch)
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
    write_audit(
        conn,
        actor=actor,
        action="import",
        subject_type="import_batch",
        subject_id=str(batch_id),
        purpose="NHAP_DU_LIEU",
        detail=detail,
    )
    write_event(
        conn, "register.batch_imported", f"batch:{batch_id}", {"batch_id": batch_id, **detail}
    )
