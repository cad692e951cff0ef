"""`nidb backup`: a consistent copy of the register, sealed, with its manifest (sao lưu).

SQLite: sqlite3's online backup API copies every page in one step, inside one read transaction
of the source, so the copy is the database at one instant while the server goes on writing
(WAL: readers do not block writers). PostgreSQL: ``pg_dump --format=custom`` of a snapshot
exported by the transaction that also counts the rows and reads the access-log heads, so the
manifest describes exactly what was dumped.

Everything is written into ``.nidb-<stamp>.partial-<pid>`` beside the final folder and renamed
to ``nidb-<stamp>`` once complete and flushed: a folder with the final name is always whole. A
partial folder left by a killed run is removed by the next backup into the same place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import nidb
from nidb.backup.census import Census, take_census
from nidb.backup.errors import BackupRefused, ToolFailed
from nidb.backup.manifest import MANIFEST_NAME, DataFile, Manifest
from nidb.backup.pgtools import find_tool, libpq_call, server_major
from nidb.backup.sealed import BackupKey, Readable, Writable, seal
from nidb.settings import get_settings

__all__ = ["BackupResult", "Progress", "take_backup"]

Progress = Callable[[str, int, int], None]
"""progress(stage, bytes done, bytes in all or 0 if not known)."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """The finished backup: its folder and manifest, and how long it took."""

    folder: Path
    manifest: Manifest
    seconds: float


class _HashingFile:
    """A file written through SHA-256 (the manifest's checksum of the sealed file)."""

    def __init__(self, handle: Writable) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.bytes += len(data)
        return self.handle.write(data)


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sweep_stale(dest: Path) -> None:
    """Remove partial folders whose process is gone (a killed backup's plaintext copy too)."""
    for folder in dest.glob(".nidb-*.partial-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _seal_into(
    key: BackupKey, source: Readable, path: Path, total: int, progress: Progress
) -> tuple[int, DataFile]:
    """Seal ``source`` into ``path``, flushed to disk; (plaintext bytes, the file's entry)."""
    with path.open("wb") as handle:
        hashing = _HashingFile(handle)
        plain = seal(key, source, hashing, lambda done: progress("mã hoá", done, total))
        handle.flush()
        os.fsync(handle.fileno())
    return plain, DataFile(path.name, hashing.bytes, hashing.digest.hexdigest())


def _copy_sqlite(source: Path, copy: Path, progress: Progress) -> None:
    """The online backup of ``source`` into ``copy``, in one step (one read transaction)."""
    # the copy runs on a worker thread while this one reports progress
    src = sqlite3.connect(source, timeout=30, check_same_thread=False)
    dst = sqlite3.connect(copy, check_same_thread=False)
    failure: list[BaseException] = []
    try:
        page_size = src.execute("PRAGMA page_size").fetchone()[0]
        total = int(src.execute("PRAGMA page_count").fetchone()[0]) * int(page_size)

        def run() -> None:
            try:
                src.backup(dst)  # pages=-1: every page in one step, one snapshot of the source
            except BaseException as error:  # reported to the caller's thread
                failure.append(error)

        worker = threading.Thread(target=run, name="nidb-backup-copy")
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
            progress("sao chép", copy.stat().st_size if copy.exists() else 0, total)
        if failure:
            raise ToolFailed(
                f"sao chép SQLite thất bại (the SQLite online backup failed): {failure[0]}"
            )
        # one self-contained file: no -wal beside it to lose
        dst.execute("PRAGMA journal_mode=DELETE")
        progress("sao chép", total, total)
    finally:
        dst.close()
        src.close()


def _census_of_file(path: Path) -> Census:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return take_census(conn)
    finally:
        engine.dispose()


def _backup_sqlite(url: str, folder: Path, key: BackupKey, progress: Progress) -> Manifest:
    database = make_url(url).database
    if not database or database == ":memory:" or not Path(database).is_file():
        raise BackupRefused(
            f"không có tệp CSDL SQLite để sao lưu (no SQLite database file at {database!r})"
        )
    copy = folder / "plain.sqlite3"
    try:
        _copy_sqlite(Path(database), copy, progress)
        census = _census_of_file(copy)
        with copy.open("rb") as source:
            plain, entry = _seal_into(
                key, source, folder / "data.sqlite3.sealed", copy.stat().st_size, progress
            )
    finally:
        copy.unlink(missing_ok=True)  # the plaintext never outlives the run
    return _manifest("sqlite", None, census, plain, key, entry)


def _backup_postgres(url: str, folder: Path, key: BackupKey, progress: Progress) -> Manifest:
    parsed = make_url(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                # the snapshot pg_dump dumps is the one the census counts
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                census = take_census(conn)
                version = str(conn.execute(text("SHOW server_version")).scalar_one())
                size = int(
                    conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
                )
                pg_dump = find_tool("pg_dump", server_major(conn), get_settings().pg_bin_dir)
                conninfo, env = libpq_call(parsed)
                with tempfile.TemporaryFile() as errors:
                    dump = subprocess.Popen(
                        [
                            str(pg_dump),
                            "--format=custom",
                            f"--snapshot={snapshot}",
                            "--no-password",
                            f"--dbname={conninfo}",
                        ],
                        stdout=subprocess.PIPE,
                        stderr=errors,
                        env=env,
                    )
                    assert dump.stdout is not None
                    try:
                        # the dump is compressed: its size is not known; the database's is shown
                        plain, entry = _seal_into(
                            key, dump.stdout, folder / "data.pgdump.sealed", 0, progress
                        )
                    finally:
                        dump.stdout.close()
                        code = dump.wait()
                    if code != 0:
                        errors.seek(0)
                        tail = errors.read().decode(errors="replace").strip().splitlines()[-3:]
                        raise ToolFailed(
                            f"pg_dump thất bại (pg_dump failed, exit {code}; "
                            f"database {size:,} bytes): {' | '.join(tail)}"
                        )
    finally:
        engine.dispose()
    return _manifest("postgresql", version, census, plain, key, entry)


def _manifest(
    engine: str,
    server_version: str | None,
    census: Census,
    plain: int,
    key: BackupKey,
    entry: DataFile,
) -> Manifest:
    return Manifest(
        nidb_version=nidb.__version__,
        alembic_revision=census.revision,
        engine=engine,
        server_version=server_version,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tables=census.tables,
        access_log_heads=census.heads,
        plain_bytes=plain,
        key_fingerprint=key.fingerprint,
        files=(entry,),
    )


def take_backup(
    url: str,
    dest: Path,
    key: BackupKey,
    progress: Progress = _quiet,
    now: datetime | None = None,
) -> BackupResult:
    """Back up the database at ``url`` into a new folder ``dest/nidb-YYYYmmddTHHMMSSZ``."""
    started = time.perf_counter()
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupRefused(f"không hỗ trợ CSDL {backend!r} (unsupported database)")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ToolFailed(
            f"không tạo được thư mục {dest} (cannot create the folder): {error.strerror}"
        ) from None
    _sweep_stale(dest)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    final = dest / f"nidb-{stamp}"
    if final.exists():
        raise BackupRefused(f"{final} đã có (already exists); chờ một giây rồi chạy lại")
    partial = dest / f".nidb-{stamp}.partial-{os.getpid()}"
    partial.mkdir(mode=0o700)
    try:
        if backend == "sqlite":
            manifest = _backup_sqlite(url, partial, key, progress)
        else:
            manifest = _backup_postgres(url, partial, key, progress)
        with (partial / MANIFEST_NAME).open("wb") as handle:
            handle.write(manifest.dumps(key))
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(partial)
        partial.rename(final)
        _fsync_dir(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(final, manifest, time.perf_counter() - started)
