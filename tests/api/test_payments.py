"""Paying a renewal through the gateway stand-in, a real server on loopback, calling back a real
nidb server: double, stale, forged, late and tampered callbacks never pay twice."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine, func, select

from nidb.api.app import create_app as create_nidb
from nidb.protocol.keys import SigningKey
from nidb.services.payments import CALLBACK_PATH, start_payment
from nidb.services.renewal import submit_renewal
from nidb.services.views import get_dossier
from nidb.sim.payment.app import canonical, sign
from nidb.sim.payment.app import create_app as create_gateway
from nidb.sim.population.server import BackgroundServer
from nidb.store import models
from nidb.store.models_services import Payment
from tests.seed import HEAD, SON, WIFE

SECRET = "gateway-shared-secret"


@dataclass
class Live:
    engine: Engine
    nidb: str
    gateway: str
    nidb_server: BackgroundServer

    def mode(self, **mode: object) -> None:
        httpx.put(
            f"{self.gateway}/admin/mode", json={"retry_base_seconds": 0.05, **mode}, timeout=60
        ).raise_for_status()

    def callbacks(self) -> list[dict[str, object]]:
        return list(httpx.get(f"{self.gateway}/admin/callbacks", timeout=60).json())


@pytest.fixture
def live(register: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    with BackgroundServer(create_gateway(SECRET)) as gateway:
        nidb_app = create_nidb(register, SigningKey.generate())
        with BackgroundServer(nidb_app, lifespan="on") as nidb:
            monkeypatch.setenv("NIDB_PAYMENT_GATEWAY_URL", gateway.url)
            monkeypatch.setenv("NIDB_PAYMENT_SECRET", SECRET)
            monkeypatch.setenv("NIDB_PAYMENT_PUBLIC_BASE_URL", nidb.url)
            yield Live(register, nidb.url, gateway.url, nidb)


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def pay(live: Live) -> tuple[int, str]:
    view = submit_renewal(live.engine, HEAD, [HEAD, WIFE, SON], 12)
    started = start_payment(live.engine, view.summary.id, HEAD)
    page = httpx.get(started.pay_url, timeout=60)
    assert "2.906.280 đ" in page.text and "Thanh toán" in page.text
    payment_id = started.pay_url.rsplit("/", 1)[1]
    reply = httpx.post(f"{live.gateway}/pay/{payment_id}/confirm", timeout=60)
    assert reply.status_code == 303 and "status=paid" in reply.headers["location"]
    return view.summary.id, payment_id


def new_cards(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(models.HealthCard)
            .where(
                models.HealthCard.group_code == "GD",
                models.HealthCard.valid_from > func.current_date(),
            )
        ).scalar_one()


def test_a_renewal_paid_at_the_gateway_completes_with_new_cards(live: Live) -> None:
    live.mode()
    dossier_id, _ = pay(live)
    wait_for(lambda: get_dossier(live.engine, dossier_id).summary.state == "completed")
    assert new_cards(live.engine) == 3
    assert [c["http_status"] for c in live.callbacks()] == [200]


def test_a_double_callback_and_a_stale_one_out_of_order_pay_once(live: Live) -> None:
    live.mode(double=True, out_of_order=True)
    dossier_id, _ = pay(live)
    wait_for(lambda: len(live.callbacks()) >= 3)
    assert [c["status"] for c in live.callbacks()] == ["paid", "paid", "pending"]
    assert all(c["http_status"] == 200 for c in live.callbacks())
    view = get_dossier(live.engine, dossier_id)
    assert view.summary.state == "completed" and [p["status"] for p in view.payments] == ["paid"]
    assert new_cards(live.engine) == 3
    with live.engine.connect() as conn:
        paid = conn.execute(
            select(func.count())
            .select_from(models.AuditEntry)
            .where(models.AuditEntry.action == "payment.paid")
        ).scalar_one()
    assert paid == 1


def test_a_forged_signature_is_refused_audited_and_pays_nothing(live: Live) -> None:
    live.mode(bad_signature=True)
    dossier_id, _ = pay(live)
    wait_for(lambda: len(live.callbacks()) >= 1)
    time.sleep(0.2)
    assert [c["http_status"] for c in live.callbacks()] == [401]  # refused for good: no retry
    assert get_dossier(live.engine, dossier_id).summary.state == "awaiting_payment"
    with live.engine.connect() as conn:
        refused = (
            conn.execute(
                select(models.AuditEntry.detail).where(
                    models.AuditEntry.action == "payment.callback_refused"
                )
            )
            .scalars()
            .all()
        )
    assert [d["rule"] for d in refused] == ["SIGNATURE_INVALID"]
    assert new_cards(live.engine) == 0


def test_a_late_callback_is_refused_and_a_fresh_resend_then_pays(live: Live) -> None:
    live.mode(timestamp_offset_seconds=-3600)
    dossier_id, payment_id = pay(live)
    wait_for(lambda: len(live.callbacks()) >= 1)
    assert live.callbacks()[0]["http_status"] == 400
    assert get_dossier(live.engine, dossier_id).summary.state == "awaiting_payment"
    live.mode()
    httpx.post(f"{live.gateway}/admin/resend/{payment_id}", timeout=60).raise_for_status()
    wait_for(lambda: get_dossier(live.engine, dossier_id).summary.state == "completed")


def test_the_gateway_retries_until_nidb_answers(live: Live, register: Engine) -> None:
    """nidb is down when the payer pays: the gateway's retries settle the payment later."""
    live.mode(max_attempts=10, retry_base_seconds=0.1)
    view = submit_renewal(register, HEAD, [HEAD], 3)
    started = start_payment(register, view.summary.id, HEAD)
    again = start_payment(register, view.summary.id, HEAD)
    assert again.pay_url == started.pay_url  # one payment per dossier while it is pending
    live.nidb_server.stop()
    payment_id = started.pay_url.rsplit("/", 1)[1]
    httpx.post(f"{live.gateway}/pay/{payment_id}/confirm", timeout=60)
    wait_for(lambda: len(live.callbacks()) >= 2)  # refused connections, retried
    live.nidb_server.start()
    wait_for(lambda: get_dossier(register, view.summary.id).summary.state == "completed", 30)
    statuses = [c["http_status"] for c in live.callbacks()]
    assert statuses[0] is None and statuses[-1] == 200


def post_callback(live: Live, body: dict[str, object], secret: str = SECRET) -> httpx.Response:
    return httpx.post(
        f"{live.nidb}{CALLBACK_PATH}",
        content=canonical(body),
        headers={"X-Signature": sign(secret, body), "Content-Type": "application/json"},
        timeout=60,
    )


def test_tampered_amount_unknown_reference_and_a_second_transaction_are_refused(live: Live) -> None:
    view = submit_renewal(live.engine, HEAD, [HEAD], 3)
    started = start_payment(live.engine, view.summary.id, HEAD)
    base = {
        "payment_id": "x",
        "reference": started.reference,
        "amount": started.amount,
        "status": "paid",
        "transaction_id": "TXN-A",
        "paid_at": None,
        "timestamp": int(time.time()),
    }
    wrong_amount = post_callback(live, {**base, "amount": 1})
    assert (
        wrong_amount.status_code == 400
        and wrong_amount.json()["error"]["code"] == "AMOUNT_MISMATCH"
    )
    unknown = post_callback(live, {**base, "reference": "NIDB-999-1"})
    assert unknown.json()["error"]["code"] == "REFERENCE_UNKNOWN"
    assert post_callback(live, base).json()["outcome"] == "paid"
    assert post_callback(live, base).json()["outcome"] == "duplicate"
    other = post_callback(live, {**base, "transaction_id": "TXN-B"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "ALREADY_PAID"
    spaced = b'{"amount": 1}'  # signed correctly, but not in canonical form
    digest = hmac.new(SECRET.encode(), spaced, hashlib.sha256).hexdigest()
    not_canonical = httpx.post(
        f"{live.nidb}{CALLBACK_PATH}",
        content=spaced,
        headers={"X-Signature": f"sha256={digest}"},
        timeout=60,
    )
    assert not_canonical.status_code == 400
    with live.engine.connect() as conn:
        assert conn.execute(select(Payment.status)).scalars().all() == ["paid"]
        rules = (
            conn.execute(
                select(models.AuditEntry.detail).where(
                    models.AuditEntry.action == "payment.callback_refused"
                )
            )
            .scalars()
            .all()
        )
    assert [r["rule"] for r in rules] == [
        "AMOUNT_MISMATCH",
        "REFERENCE_UNKNOWN",
        "ALREADY_PAID",
        "BODY_NOT_CANONICAL",
    ]


def test_a_payment_cancelled_at_the_gateway_can_be_paid_again(live: Live) -> None:
    live.mode()
    view = submit_renewal(live.engine, HEAD, [HEAD], 3)
    first = start_payment(live.engine, view.summary.id, HEAD)
    httpx.post(f"{live.gateway}/pay/{first.pay_url.rsplit('/', 1)[1]}/cancel", timeout=60)
    wait_for(lambda: get_dossier(live.engine, view.summary.id).payments[0]["status"] == "failed")
    assert get_dossier(live.engine, view.summary.id).summary.state == "awaiting_payment"
    second = start_payment(live.engine, view.summary.id, HEAD)
    assert second.reference.endswith("-2") and second.pay_url != first.pay_url
    httpx.post(f"{live.gateway}/pay/{second.pay_url.rsplit('/', 1)[1]}/confirm", timeout=60)
    wait_for(lambda: get_dossier(live.engine, view.summary.id).summary.state == "completed")
    assert [p["status"] for p in get_dossier(live.engine, view.summary.id).payments] == [
        "failed",
        "paid",
    ]


def test_a_control_character_in_a_callback_field_is_refused_not_a_server_error(live: Live) -> None:
    view = submit_renewal(live.engine, HEAD, [HEAD], 3)
    started = start_payment(live.engine, view.summary.id, HEAD)
    base = {
        "payment_id": "x",
        "reference": started.reference,
        "amount": started.amount,
        "status": "paid",
        "transaction_id": "TXN-A",
        "paid_at": None,
        "timestamp": int(time.time()),
    }
    for field in ("reference", "transaction_id", "status"):
        answer = post_callback(live, {**base, field: f"{base[field]}\x00"})
        assert answer.status_code == 400, (field, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "FIELD_INVALID" and error["field"] == field
    assert post_callback(live, base).json()["outcome"] == "paid"
