"""Migration 0013: the quality_measures table, its constraints, and its reversal (both engines)."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import Engine, insert, inspect
from sqlalchemy.exc import IntegrityError

from nidb.store.db import alembic_config
from nidb.store.models_analytics import QualityMeasure


def test_migration_0013_creates_and_drops_quality_measures(engine: Engine) -> None:
    config = alembic_config(engine)
    command.check(config)
    command.downgrade(config, "0012")
    assert "quality_measures" not in inspect(engine).get_table_names()
    command.upgrade(config, "head")
    command.check(config)


def test_a_numerator_above_its_denominator_is_refused(engine: Engine) -> None:
    row = {"as_of": date(2026, 9, 20), "province": "01", "info_group": "person",
           "measure": "correct", "numerator": 5, "denominator": 4, "computed_by": "test"}  # fmt: skip
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(QualityMeasure), row)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(QualityMeasure), {**row, "numerator": 1, "measure": "fresh"})
