"""The suite's PostgreSQL registers (tests/pg_registers.py): a database is reused by the next
test only once it is the migrated template again; anything else is dropped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from nidb.store.db import alembic_config
from tests import seed
from tests.pg_registers import PostgresRegisters


@pytest.fixture
def registers(postgres_registers: PostgresRegisters) -> Iterator[PostgresRegisters]:
    """The session's registers, with no spare database left by an earlier test."""
    postgres_registers.close()
    yield postgres_registers


def test_a_written_register_comes_back_empty_with_its_sequences_restarted(
    registers: PostgresRegisters,
) -> None:
    name = registers.take()
    engine = create_engine(registers.url(name))
    seed.household(engine)
    with engine.connect() as conn:
        written = conn.execute(text("SELECT count(*) FROM citizens")).scalar_one()
        left_open = engine.connect()  # a session the test forgot: ended, not waited for
    assert written > 0

    registers.give_back(name)
    left_open.close()
    engine.dispose()

    assert registers.take() == name
    engine = create_engine(registers.url(name))
    with engine.begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        rows = {
            table: conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            for table in tables
        }
        assert {table for table, count in rows.items() if count} == {"alembic_version"}
        assert conn.execute(text("SELECT last_value FROM pg_sequences")).scalars().all()
        assert set(conn.execute(text("SELECT last_value FROM pg_sequences")).scalars()) == {None}
    engine.dispose()
    registers.give_back(name)


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE citizens ADD COLUMN nickname text",
        "CREATE INDEX citizens_extra ON citizens (full_name)",
        "ALTER TABLE access_log DISABLE TRIGGER USER",
        "UPDATE alembic_version SET version_num = '0001'",
        "CREATE SCHEMA scratch",
        "CREATE TABLE scratch_rows (id int)",
    ],
)
def test_a_register_whose_catalogue_changed_is_dropped_not_reused(
    registers: PostgresRegisters, change: str
) -> None:
    name = registers.take()
    engine = create_engine(registers.url(name))
    with engine.begin() as conn:
        conn.execute(text(change))
    engine.dispose()

    registers.give_back(name)

    assert registers.spare == []
    with registers.admin.connect() as conn:
        assert not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
    fresh = registers.take()
    assert fresh != name
    registers.give_back(fresh)


def test_a_register_migrated_down_a_step_is_dropped(registers: PostgresRegisters) -> None:
    name = registers.take()
    engine = create_engine(registers.url(name))
    command.downgrade(alembic_config(engine), "-1")
    engine.dispose()

    registers.give_back(name)

    assert registers.spare == []
