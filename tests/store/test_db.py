"""nidb.store.db: engines, the migrated schema and its head, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, select, text

from nidb.settings import get_settings
from nidb.store import models
from nidb.store.db import alembic_config, ensure_schema, make_engine, session_scope, table_names


def _current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision(), head


def test_the_migrations_at_head_build_exactly_the_models(engine: Engine) -> None:
    assert _current_and_head(engine)[0] == _current_and_head(engine)[1]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, models.Base.metadata) == []


def test_ensure_schema_on_a_migrated_register_changes_nothing(engine: Engine) -> None:
    before = table_names(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(models.OutboxEvent).values(topic="t", subject_key="k", payload={"a": 1})
        )
    ensure_schema(engine)
    ensure_schema(engine)
    assert table_names(engine) == before
    assert _current_and_head(engine)[0] == _current_and_head(engine)[1]
    with engine.connect() as conn:
        assert conn.execute(select(models.OutboxEvent.subject_key)).scalars().all() == ["k"]


def test_ensure_schema_builds_an_empty_database_to_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'fresh.sqlite3'}")
    try:
        assert table_names(engine) == []
        ensure_schema(engine)
        current, head = _current_and_head(engine)
        assert current == head and head is not None
        assert {"citizens", "persons", "audit_log", "outbox_events"} <= set(table_names(engine))
    finally:
        engine.dispose()


def test_a_sqlite_engine_opens_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one().lower() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 30000
    finally:
        engine.dispose()


def test_make_engine_uses_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'configured.sqlite3'}"
    monkeypatch.setenv("NIDB_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine()
    try:
        assert engine.url.render_as_string(False) == url
    finally:
        engine.dispose()


def test_a_session_scope_commits_on_success_and_rolls_back_on_error(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(models.OutboxEvent(topic="t", subject_key="kept", payload={}))
    try:
        with session_scope(engine) as session:
            session.add(models.OutboxEvent(topic="t", subject_key="lost", payload={}))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        keys = conn.execute(select(models.OutboxEvent.subject_key)).scalars().all()
    assert keys == ["kept"]
