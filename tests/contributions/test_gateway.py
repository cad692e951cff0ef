"""Employers pay through the payment-gateway stand-in (real HTTP both ways, signed callbacks)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from sqlalchemy import Engine, text

from nidb.api.app import create_app as create_nidb
from nidb.contributions.assess import assess_month
from nidb.contributions.gateway import CALLBACK_PATH, start_gateway_payment
from nidb.contributions.ledger import paid_through
from nidb.protocol.keys import SigningKey
from nidb.sim.payment.app import canonical, sign
from nidb.sim.payment.app import create_app as create_gateway
from nidb.sim.population.server import BackgroundServer
from tests import seed

SECRET = "gateway-shared-secret"


@pytest.fixture
def owing(engine: Engine) -> Engine:
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 10_000_000, "2026-08")
    assess_month(engine, date(2026, 8, 1), actor="test:gateway")
    return engine


@pytest.fixture
def live(owing: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    nidb_app = create_nidb(owing, SigningKey.generate())
    with (
        BackgroundServer(create_gateway(SECRET)) as gateway,
        BackgroundServer(nidb_app, lifespan="on") as nidb,
    ):
        monkeypatch.setenv("NIDB_PAYMENT_GATEWAY_URL", gateway.url)
        monkeypatch.setenv("NIDB_PAYMENT_SECRET", SECRET)
        monkeypatch.setenv("NIDB_PAYMENT_PUBLIC_BASE_URL", nidb.url)
        yield gateway.url, nidb.url


def settled(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT COALESCE(SUM(settled), 0) FROM contribution_charges")
            ).scalar_one()
        )


def test_an_employer_pays_its_debt_at_the_gateway_and_the_month_counts_as_paid(
    owing: Engine, live: tuple[str, str]
) -> None:
    gateway, _ = live
    order = start_gateway_payment(owing, "DN001")
    assert order.amount == 3_200_000
    payment_id = order.pay_url.rsplit("/", 1)[1]
    reply = httpx.post(f"{gateway}/pay/{payment_id}/confirm", timeout=5)
    assert reply.status_code == 303
    deadline = time.monotonic() + 10
    while settled(owing) < 3_200_000:
        assert time.monotonic() < deadline, "the callback never settled the debt"
        time.sleep(0.05)
    with owing.connect() as conn:
        assert paid_through(conn, "0100000001") == date(2026, 8, 1)


def test_callbacks_unsigned_or_for_another_amount_are_refused_and_repeats_pay_once(
    owing: Engine, live: tuple[str, str]
) -> None:
    _, nidb = live
    order = start_gateway_payment(owing, "DN001", 1_000_000)
    body = {
        "reference": order.reference,
        "amount": 1_000_000,
        "status": "paid",
        "transaction_id": "TXN-1",
        "timestamp": int(time.time()),
    }
    url = f"{nidb}{CALLBACK_PATH}"
    raw = canonical(body)
    unsigned = httpx.post(url, content=raw, headers={"X-Signature": "sha256=00"}, timeout=5)
    assert unsigned.status_code == 401
    wrong = {**body, "amount": 999}
    refused = httpx.post(
        url, content=canonical(wrong), headers={"X-Signature": sign(SECRET, wrong)}, timeout=5
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "AMOUNT_MISMATCH"
    for outcome in ("paid", "duplicate"):
        ok = httpx.post(url, content=raw, headers={"X-Signature": sign(SECRET, body)}, timeout=5)
        assert ok.json() == {"outcome": outcome}
    assert settled(owing) == 1_000_000
