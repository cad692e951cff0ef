"""The HTTP API of `nidb serve`: the partner exchange (``exchange``, in tests/conftest.py), the
staff API, the payment callback and the server in its own process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests import seed


@pytest.fixture
def register(engine: Engine) -> Iterator[Engine]:
    """The engine over ``seed.household`` (the payment tests renew its household's cards)."""
    seed.household(engine)
    yield engine
