"""pg_dump and pg_restore: finding the ones that match the server, and how to call them.

A dump made by an older pg_dump than the server may miss what the server has, so the tools
must be at least the server's major version. The URL's password travels in ``PGPASSWORD``,
never on a command line (where ``ps`` shows it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

from nidb.backup.errors import ToolFailed

__all__ = ["find_tool", "libpq_call", "server_major"]


def server_major(conn: Connection) -> int:
    """The server's major version (15 for 15.4)."""
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000


def _version_major(tool: Path) -> int | None:
    try:
        done = subprocess.run(
            [str(tool), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", done.stdout)
    return int(found.group(1)) if done.returncode == 0 and found else None


def find_tool(name: str, major: int, configured: Path | None) -> Path:
    """``name`` (pg_dump, pg_restore) of at least the server's ``major`` version.

    Looked for in ``NIDB_PG_BIN_DIR``, then ``/usr/lib/postgresql/<major>/bin`` (Debian's
    layout), then beside ``pg_ctl`` (as scripts/pg-cluster.sh finds initdb), then on PATH.
    """
    candidates: list[Path] = []
    if configured is not None:
        candidates.append(configured / name)
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin") / name)
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(Path(os.path.realpath(pg_ctl)).parent / name)
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    seen: list[str] = []
    for candidate in candidates:
        if not candidate.is_file():
            continue
        version = _version_major(candidate)
        seen.append(f"{candidate} ({version})")
        if version is not None and version >= major:
            return candidate
    raise ToolFailed(
        f"không tìm thấy {name} phiên bản {major} trở lên cho máy chủ PostgreSQL {major} "
        f"(no {name} of version {major} or later; tried: {', '.join(seen) or 'none found'}; "
        "set NIDB_PG_BIN_DIR)"
    )


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_call(url: URL) -> tuple[str, dict[str, str]]:
    """(a libpq connection string for ``--dbname``, the environment carrying the password)."""
    parts = {
        "host": url.host,
        "port": str(url.port) if url.port else None,
        "user": url.username,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{key}={_quote(value)}" for key, value in parts.items() if value)
    # the backup key has no business in pg_dump's environment
    env = {name: value for name, value in os.environ.items() if name != "NIDB_BACKUP_KEY"}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env
