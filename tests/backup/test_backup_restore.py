"""`nidb backup` and `nidb restore` on both engines: a restored register equals the one backed
up, and a changed backup, a wrong key or a non-empty target is refused with nothing written."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from nidb.accesslog import AccessLog, AccessRecord, append, verify_chain
from nidb.backup import BackupKey
from nidb.backup.census import user_tables
from nidb.cli import app
from nidb.settings import get_settings
from nidb.store.db import make_engine
from tests import seed

KEY = BackupKey.generate()


def record(n: int) -> AccessRecord:
    return AccessRecord(
        actor="VN/GOV/BYT/BV-01001",
        service="card.check/v1",
        result="ok",
        subject=f"{n:010d}",
        purpose="KCB",
        fields="card",
    )


def seeded(engine: Engine) -> None:
    """One insured person and access-log entries in two lanes."""
    seed.insured_person(engine)
    with engine.begin() as conn:
        append(conn, [record(n) for n in range(30)], lane=0)
        append(conn, [record(n) for n in range(30, 42)], lane=1)


@pytest.fixture
def target_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables) on the same engine as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'nidb.sqlite3'}"
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    name = f"nidb_restore_{os.getpid()}_{time.monotonic_ns()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template0"))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def keyed(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("NIDB_BACKUP_KEY", KEY.b64)
    get_settings.cache_clear()
    return cli


def run(cli: CliRunner, *args: str) -> Result:
    get_settings.cache_clear()
    return cli.invoke(app, list(args))


def backup(cli: CliRunner, dest: Path) -> Path:
    result = run(cli, "backup", str(dest))
    assert result.exit_code == 0, result.output
    (folder,) = dest.glob("nidb-*")
    return folder


def contents(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted (what "the same register" means)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: sorted(
                    (tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr
                )
                for name in user_tables(conn)
            }
    finally:
        engine.dispose()


def is_empty(url: str) -> bool:
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        return not path.exists()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not user_tables(conn)
    finally:
        engine.dispose()


def test_a_restored_register_equals_the_one_backed_up(
    engine: Engine, database_url: str, target_url: str, keyed: CliRunner, tmp_path: Path
) -> None:
    seeded(engine)
    folder = backup(keyed, tmp_path / "backups")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["engine"] == engine.dialect.name
    with engine.connect() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert manifest["alembic_revision"] == head
    assert manifest["tables"]["access_log"] == 42 and manifest["tables"]["persons"] >= 1
    assert manifest["access_log_heads"]["0"][0] == 30 and manifest["access_log_heads"]["1"][0] == 12
    assert [f["name"] for f in manifest["files"]] == [
        "data.sqlite3.sealed" if engine.dialect.name == "sqlite" else "data.pgdump.sealed"
    ]
    # encrypted at rest: no personal data readable in the folder
    for path in folder.iterdir():
        assert seed.PID.encode() not in path.read_bytes()

    result = run(keyed, "restore", str(folder), "--database-url", target_url)
    assert result.exit_code == 0, result.output
    assert "khớp bản kê" in result.output and "42 bản ghi" in result.output
    assert contents(target_url) == contents(database_url)
    restored = make_engine(target_url)
    try:
        assert verify_chain(restored).intact
        log = AccessLog(restored)  # the restored register takes new entries on its chain
        try:
            log.record(record(99))
        finally:
            log.close()
        assert verify_chain(restored).intact
    finally:
        restored.dispose()


def test_a_changed_data_file_is_refused_and_nothing_written(
    engine: Engine, target_url: str, keyed: CliRunner, tmp_path: Path
) -> None:
    seeded(engine)
    folder = backup(keyed, tmp_path / "backups")
    (data,) = folder.glob("data.*")
    blob = bytearray(data.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    data.write_bytes(bytes(blob))
    result = run(keyed, "restore", str(folder), "--database-url", target_url)
    assert result.exit_code == 2
    assert "SHA-256" in result.output
    assert is_empty(target_url)


def test_a_changed_manifest_is_refused(
    engine: Engine, target_url: str, keyed: CliRunner, tmp_path: Path
) -> None:
    seeded(engine)
    folder = backup(keyed, tmp_path / "backups")
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["tables"]["access_log"] = 41  # someone hiding a removed entry
    path.write_text(json.dumps(manifest))
    result = run(keyed, "restore", str(folder), "--database-url", target_url)
    assert result.exit_code == 2
    assert "MAC" in result.output
    assert is_empty(target_url)


def test_a_wrong_key_is_refused_and_nothing_written(
    engine: Engine,
    target_url: str,
    keyed: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seeded(engine)
    folder = backup(keyed, tmp_path / "backups")
    other = BackupKey.generate()
    monkeypatch.setenv("NIDB_BACKUP_KEY", other.b64)
    result = run(keyed, "restore", str(folder), "--database-url", target_url)
    assert result.exit_code == 2
    assert "sai khoá" in result.output and "wrong key" in result.output
    assert other.b64 not in result.output and KEY.b64 not in result.output
    assert is_empty(target_url)


def test_a_non_empty_target_is_refused(
    engine: Engine, database_url: str, keyed: CliRunner, tmp_path: Path
) -> None:
    seeded(engine)
    folder = backup(keyed, tmp_path / "backups")
    before = contents(database_url)
    result = run(keyed, "restore", str(folder), "--database-url", database_url)
    assert result.exit_code == 2
    assert "không trống" in result.output and "not empty" in result.output
    assert contents(database_url) == before


def test_a_backup_without_a_key_is_refused(
    engine: Engine, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NIDB_BACKUP_KEY", raising=False)
    result = run(cli, "backup", str(tmp_path / "backups"))
    assert result.exit_code == 2 and "NIDB_BACKUP_KEY" in result.output
    monkeypatch.setenv("NIDB_BACKUP_KEY", "c2hvcnQ=")
    result = run(cli, "backup", str(tmp_path / "backups"))
    assert result.exit_code == 2 and "32 bytes, got 5" in result.output
    assert not list((tmp_path / "backups").glob("nidb-*"))


def test_a_failed_backup_leaves_no_folder_that_looks_complete(
    keyed: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "backups"
    dest.mkdir()
    stale = dest / ".nidb-20260101T000000Z.partial-999999999"  # a killed run's leftovers
    stale.mkdir()
    (stale / "plain.sqlite3").write_bytes(b"personal data")
    missing = tmp_path / "no-such" / "nidb.sqlite3"
    result = run(keyed, "backup", str(dest), "--database-url", f"sqlite:///{missing}")
    assert result.exit_code == 2
    assert list(dest.iterdir()) == []


def test_a_backup_taken_during_writes_is_consistent(
    engine: Engine, database_url: str, target_url: str, keyed: CliRunner, tmp_path: Path
) -> None:
    """SQLite: the online backup copies one snapshot while the writer goes on (WAL); PostgreSQL:
    pg_dump dumps the snapshot in which the manifest's counts and heads were read."""
    seeded(engine)
    with engine.begin() as conn:  # enough pages that the copy takes a while
        if engine.dialect.name == "sqlite":
            conn.execute(text("CREATE TABLE ballast (id INTEGER PRIMARY KEY, filler BLOB)"))
            conn.execute(
                text(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 20000) INSERT INTO ballast SELECT i, randomblob(2000) FROM n"
                )
            )
        else:
            conn.execute(text("CREATE TABLE ballast (id integer PRIMARY KEY, filler text)"))
            conn.execute(
                text(
                    "INSERT INTO ballast SELECT i, repeat(md5(random()::text), 60) "
                    "FROM generate_series(1, 20000) AS i"
                )
            )
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        log = AccessLog(engine)
        try:
            n = 1000
            while not stop.is_set():
                log.record(record(n))
                written.append(n)
                n += 1
        finally:
            log.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            time.sleep(0.01)
        during = len(written)
        folder = backup(keyed, tmp_path / "backups")
        after = len(written)
    finally:
        stop.set()
        thread.join()
    assert after > during, "the writer went on writing during the backup"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert 42 + during <= manifest["tables"]["access_log"] <= 42 + after
    result = run(keyed, "restore", str(folder), "--database-url", target_url)
    assert result.exit_code == 0, result.output  # counts, heads and the chain all agree


def test_a_restore_that_does_not_match_its_manifest_fails_the_check(
    engine: Engine, target_url: str, keyed: CliRunner, tmp_path: Path
) -> None:
    """A manifest signed with the right key but not describing the data (a bug, or a backup
    made by a broken tool) fails the check: exit 3; on SQLite nothing is put in place."""
    from nidb.backup.manifest import _canonical

    seeded(engine)
    folder = backup(keyed, tmp_path / "backups")
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("mac")
    manifest["tables"]["access_log"] = 43
    manifest["access_log_heads"]["0"][0] = 31
    manifest["mac"] = KEY.mac(_canonical(manifest))
    path.write_text(json.dumps(manifest))
    result = run(keyed, "restore", str(folder), "--database-url", target_url)
    assert result.exit_code == 3, result.output
    assert "access_log: bản kê 43, tìm thấy 42" in result.output
    assert "access-log heads differ" in result.output
    if engine.dialect.name == "sqlite":
        assert is_empty(target_url)
        assert list(Path(make_url(target_url).database or "").parent.iterdir()) == []


def test_an_unwritable_destination_fails_with_a_disk_error(
    engine: Engine, keyed: CliRunner, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run(keyed, "backup", str(blocker / "backups"))
    assert result.exit_code == 1
    assert "cannot create the folder" in result.output
