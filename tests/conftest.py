"""Shared fixtures: every store-touching test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``NIDB_TEST_POSTGRES_URL`` if set (a server you run), otherwise the suite
starts a private throw-away cluster with ``scripts/pg-cluster.sh`` (initdb/pg_ctl) on a free
loopback port and stops it at the end. Each test gets a fresh database cloned from a migrated
template, so tests never see each other's rows. Under CI=true a missing PostgreSQL is an error,
never a silent skip.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from nidb.settings import get_settings
from nidb.store.db import ensure_schema, make_engine

ROOT = Path(__file__).resolve().parent.parent
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _settings_from_this_tests_environment() -> Iterator[None]:
    """`get_settings()` is read once per process in production; a test that sets NIDB_*
    variables (or runs the CLI with its own environment) must not get another test's."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Run nidb's commands in this process against the test's database, as ``test:cli``."""
    monkeypatch.setenv("NIDB_DATABASE_URL", database_url)
    monkeypatch.setenv("NIDB_ACTOR", "test:cli")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server holding a migrated ``nidb_template`` database."""
    url = os.environ.get("NIDB_TEST_POSTGRES_URL")
    cluster: Path | None = None
    if not url:
        if not shutil.which("pg_ctl") or not shutil.which("initdb"):
            _postgres_unavailable("no initdb/pg_ctl on PATH and NIDB_TEST_POSTGRES_URL unset")
        # under /tmp itself: the server runs as an unprivileged user who must reach the folder
        cluster = Path(tempfile.mkdtemp(prefix="nidb-pg-")) / "cluster"
        started = subprocess.run(
            [str(ROOT / "scripts" / "pg-cluster.sh"), "start", str(cluster)],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode != 0:
            _postgres_unavailable(f"could not start a private cluster: {started.stderr[-500:]}")
        url = started.stdout.strip().splitlines()[-1]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS nidb_template"))
        conn.execute(text("CREATE DATABASE nidb_template"))
    template = make_engine(make_url(url).set(database="nidb_template").render_as_string(False))
    ensure_schema(template)
    template.dispose()
    try:
        yield url
    finally:
        admin.dispose()
        if cluster is not None:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-cluster.sh"), "stop", str(cluster)], check=False
            )
            shutil.rmtree(cluster.parent, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty register on each engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nidb.sqlite3'}"
        engine = make_engine(url)
        ensure_schema(engine)
        engine.dispose()
        yield url
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    name = f"nidb_t{os.getpid()}_{next(_counter)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE nidb_template"))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh register."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
