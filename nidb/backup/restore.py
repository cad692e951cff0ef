"""`nidb restore`: a backup into an empty database, then a check against its manifest (phục hồi).

In order, and nothing is written to the target before the last step of each engine:
1. the manifest's MAC and key fingerprint (a wrong key is named as such), then the sealed
   file's size and SHA-256;
2. the target is empty (no tables at all) and of the backup's engine;
3. the data is decrypted to a private temporary file (every chunk authenticated);
4. SQLite: the decrypted file is checked and then renamed into place; PostgreSQL:
   ``pg_restore --single-transaction --no-owner --no-privileges`` (all or nothing) and then
   checked;
5. the check: every table's row count equals the manifest's, each access-log lane's head
   equals the manifest's, and the whole chain verifies.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url

from nidb.accesslog import verify_chain
from nidb.backup.census import is_empty, take_census
from nidb.backup.errors import BackupRefused, CheckFailed, ToolFailed
from nidb.backup.manifest import MANIFEST_NAME, Manifest
from nidb.backup.pgtools import find_tool, libpq_call, server_major
from nidb.backup.sealed import BackupKey, SealBroken, open_sealed
from nidb.settings import get_settings

__all__ = ["RestoreReport", "restore_backup"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What was restored and what the check found."""

    manifest: Manifest
    tables: dict[str, int]
    """Row counts found in the restored database."""
    differences: tuple[tuple[str, int | None, int | None], ...]
    """(table, rows in the manifest, rows found) for every table that differs."""
    heads_match: bool
    chain_entries: int
    chain_problems: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.differences and self.heads_match and not self.chain_problems


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def _check_file(folder: Path, manifest: Manifest, progress: Progress) -> Path:
    entry = manifest.files[0]
    path = folder / entry.name
    try:
        size = path.stat().st_size
    except OSError:
        raise BackupRefused(f"thiếu tệp dữ liệu {path} (the data file is missing)") from None
    if size != entry.bytes:
        raise BackupRefused(
            f"tệp {path} dài {size:,} byte, bản kê ghi {entry.bytes:,} "
            "(the data file's size differs from the manifest: cut short or replaced)"
        )
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            done += len(block)
            progress("kiểm tra", done, size)
    if digest.hexdigest() != entry.sha256:
        raise BackupRefused(
            f"tệp {path} đã bị sửa: SHA-256 không khớp bản kê "
            "(the data file was changed: its SHA-256 differs from the manifest)"
        )
    return path


def _decrypt(
    key: BackupKey, sealed: Path, plain: Path, manifest: Manifest, progress: Progress
) -> None:
    try:
        with sealed.open("rb") as source, plain.open("wb") as target:
            written = open_sealed(
                key, source, target, lambda done: progress("giải mã", done, manifest.plain_bytes)
            )
            target.flush()
            os.fsync(target.fileno())
    except SealBroken as error:
        raise BackupRefused(f"không giải mã được {sealed.name} (cannot decrypt: {error})") from None
    if written != manifest.plain_bytes:
        raise BackupRefused(
            f"giải mã được {written:,} byte, bản kê ghi {manifest.plain_bytes:,} "
            "(decrypted size differs from the manifest)"
        )


def check_restored(
    engine: Engine, manifest: Manifest
) -> tuple[dict[str, int], tuple[tuple[str, int | None, int | None], ...], bool, int, int]:
    """Count, read the heads and verify the chain of the restored database."""
    with engine.connect() as conn:
        census = take_census(conn)
    names = sorted(set(census.tables) | set(manifest.tables))
    differences = tuple(
        (name, manifest.tables.get(name), census.tables.get(name))
        for name in names
        if manifest.tables.get(name) != census.tables.get(name)
    )
    chain = verify_chain(engine, manifest.access_log_heads)
    return (
        census.tables,
        differences,
        census.heads == manifest.access_log_heads,
        chain.entries,
        len(chain.problems),
    )


def _target_must_be_empty(url: URL) -> None:
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not url.database or url.database == ":memory:":
            raise BackupRefused("cần một tệp SQLite làm đích (the target must be a SQLite file)")
        if not path.exists() or path.stat().st_size == 0:
            return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            empty = is_empty(conn)
    finally:
        engine.dispose()
    if not empty:
        raise BackupRefused(
            f"CSDL đích {url.render_as_string(hide_password=True)} không trống: chỉ phục hồi vào "
            "CSDL chưa có bảng nào (the target database is not empty; restore only into a "
            "database with no tables: a new SQLite path, or `createdb` a new PostgreSQL database)"
        )


def _restore_sqlite(
    key: BackupKey, sealed: Path, url: URL, manifest: Manifest, progress: Progress
) -> RestoreReport:
    started = time.perf_counter()
    target = Path(url.database or "")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.restore-{os.getpid()}")
    try:
        _decrypt(key, sealed, temp, manifest, progress)
        engine = create_engine(f"sqlite:///{temp}")
        try:
            report = _report(engine, manifest, started)
        finally:
            engine.dispose()
        if not report.ok:
            raise CheckFailed(_failed_check(report) + "; không ghi gì vào đích (nothing written)")
        # a -wal or -shm of an earlier file at this path would be replayed onto the new one
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(temp, target)
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return report
    finally:
        temp.unlink(missing_ok=True)


def _restore_postgres(
    key: BackupKey,
    sealed: Path,
    url: URL,
    manifest: Manifest,
    progress: Progress,
    work_dir: Path | None,
) -> RestoreReport:
    started = time.perf_counter()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            pg_restore = find_tool("pg_restore", server_major(conn), get_settings().pg_bin_dir)
        private = Path(tempfile.mkdtemp(prefix="nidb-restore-", dir=work_dir))  # mode 0700
        try:
            plain = private / "data.pgdump"
            _decrypt(key, sealed, plain, manifest, progress)
            conninfo, env = libpq_call(url)
            progress("pg_restore", 0, 0)
            done = subprocess.run(
                [
                    str(pg_restore),
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    "--no-privileges",
                    "--no-password",
                    f"--dbname={conninfo}",
                    str(plain),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
        finally:
            shutil.rmtree(private, ignore_errors=True)
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-3:]
            raise ToolFailed(
                f"pg_restore thất bại, không ghi gì (pg_restore failed in one transaction, "
                f"nothing written; exit {done.returncode}): {' | '.join(tail)}"
            )
        report = _report(engine, manifest, started)
    finally:
        engine.dispose()
    if not report.ok:
        raise CheckFailed(
            _failed_check(report) + "; dữ liệu đã nằm trong CSDL đích: xoá CSDL đó, đừng dùng "
            "(the data is in the target: drop that database, do not use it)"
        )
    return report


def _failed_check(report: RestoreReport) -> str:
    parts = [
        f"{name}: bản kê {expected if expected is not None else '—'}, "
        f"tìm thấy {found if found is not None else '—'}"
        for name, expected, found in report.differences[:10]
    ]
    if not report.heads_match:
        parts.append("mốc nhật ký truy cập khác bản kê (access-log heads differ)")
    if report.chain_problems:
        parts.append(f"chuỗi băm có {report.chain_problems} lỗi (the hash chain is broken)")
    return "kiểm tra sau phục hồi không đạt (the check after restoring failed): " + "; ".join(parts)


def _report(engine: Engine, manifest: Manifest, started: float) -> RestoreReport:
    """Check the restored database against the manifest (counts, heads, the chain)."""
    tables, differences, heads_match, entries, problems = check_restored(engine, manifest)
    return RestoreReport(
        manifest,
        tables,
        differences,
        heads_match,
        entries,
        problems,
        time.perf_counter() - started,
    )


def restore_backup(
    folder: Path,
    url: str,
    key: BackupKey,
    progress: Progress = _quiet,
    work_dir: Path | None = None,
) -> RestoreReport:
    """Restore the backup in ``folder`` into the empty database at ``url`` and check it."""
    started = time.perf_counter()
    manifest = Manifest.load(folder / MANIFEST_NAME, key)
    target = make_url(url)
    backend = target.get_backend_name()
    if backend != manifest.engine:
        raise BackupRefused(
            f"bản sao lưu của {manifest.engine} không phục hồi được vào {backend} "
            "(cross-engine restore is not supported)"
        )
    sealed = _check_file(folder, manifest, progress)
    _target_must_be_empty(target)
    if backend == "sqlite":
        report = _restore_sqlite(key, sealed, target, manifest, progress)
    else:
        report = _restore_postgres(key, sealed, target, manifest, progress, work_dir)
    return RestoreReport(
        report.manifest,
        report.tables,
        report.differences,
        report.heads_match,
        report.chain_entries,
        report.chain_problems,
        time.perf_counter() - started,
    )
