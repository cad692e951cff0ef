"""pg_dump and pg_restore are found at the server's version or later, and called without the
password on their command line."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from nidb.backup.errors import ToolFailed
from nidb.backup.pgtools import find_tool, libpq_call


def old_tool(folder: Path, name: str, version: str) -> Path:
    """An executable answering ``--version`` as an older PostgreSQL's tool does."""
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_tool_older_than_the_server_is_passed_over(tmp_path: Path) -> None:
    old_tool(tmp_path / "bin", "pg_dump", "9.6.24")
    if shutil.which("pg_dump") is None:
        pytest.skip("no pg_dump installed")
    found = find_tool("pg_dump", 15, tmp_path / "bin")
    assert found != tmp_path / "bin" / "pg_dump"


def test_no_tool_of_the_server_version_is_a_clear_failure(tmp_path: Path) -> None:
    old_tool(tmp_path / "bin", "pg_restore", "12.1")
    with pytest.raises(ToolFailed, match=r"no pg_restore of version 99 or later") as failure:
        find_tool("pg_restore", 99, tmp_path / "bin")
    assert f"{tmp_path / 'bin' / 'pg_restore'} (12)" in failure.value.message


def test_the_password_travels_in_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIDB_BACKUP_KEY", "a-key")
    url = make_url("postgresql+psycopg://nidb:s3cr'et@db.example:5433/register?sslmode=require")
    conninfo, env = libpq_call(url)
    assert "s3cr" not in conninfo
    assert env["PGPASSWORD"] == "s3cr'et"
    assert "NIDB_BACKUP_KEY" not in env
    assert conninfo == (
        "host='db.example' port='5433' user='nidb' dbname='register' sslmode='require'"
    )
    assert libpq_call(make_url("postgresql+psycopg://o'brien@h/d"))[0] == (
        "host='h' user='o\\'brien' dbname='d'"
    )
