"""The national platforms' stand-ins, served over real HTTP on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from nidb.sim.population import BackgroundServer
from tests import seed

KEY = "khoa-bhxh-thu-nghiem"


@pytest.fixture
def register(engine: Engine) -> Iterator[Engine]:
    """The engine over ``seed.household`` (claimants with contributions)."""
    seed.household(engine)
    yield engine


def serve(app: object, lifespan: str = "off") -> BackgroundServer:
    """A server of ``app`` on a free port (`with` starts and stops it)."""
    return BackgroundServer(app, lifespan=lifespan)
