"""Fixtures of the analytics tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from nidb.settings import get_settings


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Run the commands in this process against the test's database."""
    monkeypatch.setenv("NIDB_DATABASE_URL", database_url)
    monkeypatch.setenv("NIDB_ACTOR", "test:cli")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
