"""The backup commands: `nidb backup DEST_DIR` and `nidb restore SRC_DIR`.

Mounted by nidb.cli (`mount`). Exit codes: 0 done (restore: restored and checked); 1 the system
failed (database, disk, pg_dump/pg_restore) and nothing was written; 2 refused before anything
was written (no or bad NIDB_BACKUP_KEY, wrong key, a changed or incomplete backup, a target
that is not empty, another engine); 3 restored but the check against the manifest failed
(SQLite: the file was not put in place; PostgreSQL: drop the target database).
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nidb.terminal import RowProgress, fail, handled, out

if TYPE_CHECKING:
    from nidb.backup import BackupKey

__all__ = ["mount"]


def mount(app: typer.Typer) -> None:
    """Add `nidb backup` and `nidb restore` to the main command."""
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


def _key() -> "BackupKey":
    from nidb.backup import BackupKey
    from nidb.settings import get_settings

    secret = get_settings().backup_key
    if secret is None or not secret.get_secret_value().strip():
        raise fail(
            "chưa đặt NIDB_BACKUP_KEY: bản sao lưu luôn được mã hoá; tạo khoá bằng "
            "`openssl rand -base64 32` và cất ở nơi khác bản sao lưu (NIDB_BACKUP_KEY is not "
            "set: backups are always encrypted)"
        )
    try:
        return BackupKey.from_b64(secret.get_secret_value())
    except ValueError as error:
        raise fail(
            f"NIDB_BACKUP_KEY phải là 32 byte ở dạng base64 (must be 32 bytes in base64): {error}"
        ) from None


class _Stages:
    """One progress display per stage (copy, encrypt, check, decrypt), in megabytes done."""

    def __init__(self) -> None:
        self.stage = ""
        self.bar: RowProgress | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = RowProgress(stage, unit="MB").__enter__()
            self.bar.update(0, 0, total)  # the clock starts here, not at the first chunk
        assert self.bar is not None
        self.bar.update(done // 1_000_000, done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _disk_failure(error: OSError) -> str:
    where = f" {error.filename}" if error.filename else ""
    return (
        f"lỗi đĩa{where} (disk error): {error.strerror or error.__class__.__name__}; "
        "không giữ lại gì (nothing kept)"
    )


def _url(database_url: str | None) -> str:
    from nidb.settings import get_settings

    return database_url or get_settings().resolved_database_url()


def backup_command(
    dest_dir: Annotated[Path, typer.Argument(help="Thư mục chứa các bản sao lưu.")],
    database_url: Annotated[
        str | None, typer.Option(help="CSDL cần sao lưu (mặc định NIDB_DATABASE_URL).")
    ] = None,
) -> None:
    """Sao lưu CSDL, mã hoá, vào DEST_DIR/nidb-YYYYmmddTHHMMSSZ (back up, encrypted)."""
    from nidb.backup import BackupError, take_backup

    key = _key()
    stages = _Stages()
    with handled():
        try:
            result = take_backup(_url(database_url), dest_dir, key, stages)
        except BackupError as error:
            stages.close()
            raise fail(error.message, error.exit_code) from None
        except OSError as error:  # the disk: full, unwritable, gone
            stages.close()
            raise fail(_disk_failure(error), 1) from None
        finally:
            stages.close()
    manifest = result.manifest
    rows = sum(manifest.tables.values())
    entry = manifest.files[0]
    out.print(f"Đã sao lưu (backed up) vào {result.folder}", highlight=False)
    out.print(
        f"  {manifest.engine}, phiên bản lược đồ {manifest.alembic_revision}, "
        f"{len(manifest.tables)} bảng, {rows:,} dòng; {entry.name} {entry.bytes:,} byte "
        f"(mã hoá AES-256-GCM); {result.seconds:.1f} s",
        highlight=False,
    )
    heads = ",".join(
        f"{lane}:{seq}" for lane, (seq, _) in sorted(manifest.access_log_heads.items())
    )
    out.print(
        f"  mốc nhật ký truy cập (access-log heads, lane:seq): {heads or '—'}", highlight=False
    )


def restore_command(
    src_dir: Annotated[Path, typer.Argument(help="Thư mục một bản sao lưu (nidb-…).")],
    database_url: Annotated[
        str | None, typer.Option(help="CSDL đích, phải trống (mặc định NIDB_DATABASE_URL).")
    ] = None,
    work_dir: Annotated[
        Path | None,
        typer.Option(help="Thư mục tạm cho bản giải mã (PostgreSQL; mặc định thư mục tạm)."),
    ] = None,
) -> None:
    """Phục hồi một bản sao lưu vào CSDL trống rồi kiểm tra (restore into an empty database)."""
    from nidb.backup import BackupError, restore_backup

    key = _key()
    stages = _Stages()
    with handled():
        try:
            report = restore_backup(src_dir, _url(database_url), key, stages, work_dir)
        except BackupError as error:
            stages.close()
            raise fail(error.message, error.exit_code) from None
        except OSError as error:  # the disk: full, unwritable, gone
            stages.close()
            raise fail(_disk_failure(error), 1) from None
        finally:
            stages.close()
    manifest = report.manifest
    out.print(f"Đã phục hồi và kiểm tra (restored and checked) từ {src_dir}", highlight=False)
    out.print(
        f"  bản sao lưu lúc {manifest.created_at} ({manifest.engine}, lược đồ "
        f"{manifest.alembic_revision}); {len(report.tables)} bảng, "
        f"{sum(report.tables.values()):,} dòng, khớp bản kê (row counts match)",
        highlight=False,
    )
    out.print(
        f"  nhật ký truy cập: {report.chain_entries:,} bản ghi, chuỗi băm nguyên vẹn, mốc khớp "
        f"(access log intact, heads match); {report.seconds:.1f} s",
        highlight=False,
    )
