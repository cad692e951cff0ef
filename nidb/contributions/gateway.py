"""Employers paying through the payment gateway, by the same contract as the online services
(nidb.services.payments: create a payment, the gateway calls back signed with HMAC-SHA256).

``start_gateway_payment`` orders a payment of an employer's debt (or a given amount) at the
gateway and returns its pay page; ``handle_gateway_callback`` verifies the callback with the
services' ``verify_callback`` (signature, canonical body, timestamp, fields), checks reference
and amount against the order, and records the payment (source 'gateway', reference = the order:
a repeated callback records nothing twice), settling the oldest debt first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine, text

from nidb.contributions.ledger import record_payment
from nidb.services.errors import PaymentRefused, ServiceError
from nidb.services.payments import PaymentSettings, payment_settings, verify_callback
from nidb.services.workdays import today_vn

__all__ = ["CALLBACK_PATH", "GatewayOrder", "handle_gateway_callback", "start_gateway_payment"]

CALLBACK_PATH = "/dong-bhxh/v1/thanh-toan/callback"


@dataclass(frozen=True, slots=True)
class GatewayOrder:
    """A payment ordered at the gateway: its reference, amount and pay page."""

    reference: str
    amount: int
    pay_url: str


def _refused(field: str, value: object, rule: str, vi: str, en: str) -> PaymentRefused:
    return PaymentRefused(field, value, rule, vi, en)


def start_gateway_payment(
    engine: Engine,
    employer_code: str,
    amount: int | None = None,
    *,
    settings: PaymentSettings | None = None,
    return_path: str = "/",
) -> GatewayOrder:
    """Order a payment at the gateway (default amount: the employer's whole open debt);
    the gateway sends the payer back to nidb's ``return_path``."""
    settings = settings or payment_settings()
    with engine.begin() as conn:
        if amount is None:
            amount = int(
                conn.execute(
                    text(
                        "SELECT COALESCE(SUM(amount - settled), 0) FROM contribution_charges "
                        "WHERE employer_code = :e"
                    ),
                    {"e": employer_code},
                ).scalar_one()
            )
        if amount <= 0:
            raise _refused(
                "amount", amount, "NOTHING_TO_PAY", "đơn vị không còn nợ", "nothing is owed"
            )
        count = conn.execute(
            text("SELECT COUNT(*) FROM contribution_gateway_orders WHERE employer_code = :e"),
            {"e": employer_code},
        ).scalar_one()
        reference = f"BHXH-{employer_code}-{int(count) + 1}"
        conn.execute(
            text(
                "INSERT INTO contribution_gateway_orders (reference, employer_code, amount, "
                "status) VALUES (:r, :e, :a, 'pending')"
            ),
            {"r": reference, "e": employer_code, "a": amount},
        )
    base = settings.public_base_url.rstrip("/")
    try:
        reply = httpx.post(
            f"{settings.gateway_url.rstrip('/')}/v1/payments",
            json={
                "amount": amount,
                "reference": reference,
                "description": f"Nộp tiền BHXH, BHYT, BHTN của đơn vị {employer_code}",
                "return_url": f"{base}{return_path}",
                "callback_url": f"{base}{CALLBACK_PATH}",
            },
            timeout=10,
        )
        reply.raise_for_status()
        pay_url = str(reply.json()["pay_url"])
    except (httpx.HTTPError, ValueError, KeyError) as error:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE contribution_gateway_orders SET status = 'failed' WHERE reference = :r"
                ),
                {"r": reference},
            )
        raise ServiceError(
            "gateway",
            type(error).__name__,
            "GATEWAY_UNAVAILABLE",
            "cổng thanh toán đang không phản hồi, vui lòng thử lại sau",
            "the payment gateway is not answering; try again later",
        ) from None
    return GatewayOrder(reference, amount, pay_url)


def handle_gateway_callback(
    engine: Engine, raw: bytes, signature: str | None, *, secret: str | None = None
) -> str:
    """Verify and apply one callback; returns 'paid', 'duplicate', 'failed' or 'ignored'."""
    secret = secret if secret is not None else payment_settings().secret
    body = verify_callback(raw, signature, secret, time.time())
    reference, status = str(body["reference"]), str(body["status"])
    with engine.begin() as conn:
        order = conn.execute(
            text(
                "SELECT employer_code, amount, status FROM contribution_gateway_orders "
                "WHERE reference = :r"
            ),
            {"r": reference},
        ).one_or_none()
        if order is None:
            raise _refused(
                "reference",
                reference,
                "REFERENCE_UNKNOWN",
                "không có khoản này",
                "unknown reference",
            )
        if int(body["amount"]) != int(order[1]):
            raise _refused(
                "amount",
                body["amount"],
                "AMOUNT_MISMATCH",
                f"số tiền {body['amount']} khác số đã đặt {order[1]}",
                "amount differs from the order's",
            )
        if status == "failed":
            conn.execute(
                text(
                    "UPDATE contribution_gateway_orders SET status = 'failed' "
                    "WHERE reference = :r AND status = 'pending'"
                ),
                {"r": reference},
            )
            return "failed"
        if status != "paid":
            return "ignored"
        result = record_payment(
            conn,
            employer_code=str(order[0]),
            source="gateway",
            reference=reference,
            amount=int(order[1]),
            paid_on=today_vn(),
            actor="gateway",
        )
        conn.execute(
            text("UPDATE contribution_gateway_orders SET status = 'paid' WHERE reference = :r"),
            {"r": reference},
        )
        return "duplicate" if result.duplicate else "paid"
