"""Generated data sets shared by the generator's tests (generated once per test session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nidb.sim.generate import TABLES, generate
from tests.sim.helpers import DataSet, read_csv


def generate_and_read(directory: Path, people: int, seed: int) -> DataSet:
    """Generate CSV files and read every table back."""
    summary = generate(directory, people, seed)
    return DataSet(summary, {name: read_csv(summary.path(name)) for name in TABLES})


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> DataSet:
    """3,000 people: for structural checks."""
    return generate_and_read(tmp_path_factory.mktemp("small"), 3_000, seed=11)


@pytest.fixture(scope="session")
def large(tmp_path_factory: pytest.TempPathFactory) -> DataSet:
    """20,000 people: for rates and other statistical checks."""
    return generate_and_read(tmp_path_factory.mktemp("large"), 20_000, seed=2026)
