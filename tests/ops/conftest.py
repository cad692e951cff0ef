"""What operators watch: metrics, logs, and the absence of personal data in the logs.

``served`` is the app as `nidb serve` builds it (the partner fast path in front of FastAPI)
over ``seed.insured_person``, with a hospital granted card checks, reached from loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from nidb.api.app import create_app
from nidb.api.fastpath import PartnerFastPath
from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey, VerifyKey
from tests import seed

LOOPBACK = ("127.0.0.1", 50000)
CARD = {
    "card_code": f"DN401{seed.BHXH}",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1985-03-17",
}


@dataclass
class Served:
    engine: Engine
    http: TestClient
    hospital: ExchangeClient
    server_key: SigningKey


@pytest.fixture
def served(engine: Engine) -> Iterator[Served]:
    seed.insured_person(engine)
    hospital, server = SigningKey.generate(), SigningKey.generate()
    add_partner(engine, seed.HOSPITAL, "Bệnh viện Bạch Mai", "hospital", hospital.public_b64, "t")
    add_grant(engine, seed.HOSPITAL, "card.check/v1", "KCB", "dd", "Luật BHYT Điều 28", "t")
    app = PartnerFastPath(create_app(engine, server))
    with TestClient(app, client=LOOPBACK, follow_redirects=False) as http:
        client = ExchangeClient(
            "http://testserver",
            seed.HOSPITAL,
            hospital,
            server_key=VerifyKey.from_b64(server.public_b64),
            http=http,
        )
        yield Served(engine, http, client, server)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition: (name, labels) → value."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when absent: a counter not yet touched)."""
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put back the root logger and the loggers `nidb.api.logs.logging_config` names, as
    they were, after a test that applies the serve configuration."""
    import logging

    from nidb.api.logs import logging_config

    names = ["", *logging_config()["loggers"]]
    saved = {
        name: (logger.level, logger.propagate, logger.handlers[:], logger.filters[:])
        for name in names
        for logger in [logging.getLogger(name or None)]
    }
    try:
        yield
    finally:
        for name, (level, propagate, handlers, filters) in saved.items():
            logger = logging.getLogger(name or None)
            logger.setLevel(level)
            logger.propagate = propagate
            logger.handlers[:] = handlers
            logger.filters[:] = filters
