"""The online services start from ``seed.household``: a household, claimants, contributions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests import seed


@pytest.fixture
def register(engine: Engine) -> Iterator[Engine]:
    """The engine over ``seed.household``."""
    seed.household(engine)
    yield engine
