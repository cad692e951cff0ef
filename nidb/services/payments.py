"""Electronic payment of a dossier through a payment gateway, and the gateway's callback.

Contract with the gateway (as the stand-in ``nidb.sim.payment`` implements it): nidb creates a
payment (amount, reference, return URL, callback URL) and sends the citizen to its pay page;
the gateway calls back with a JSON body signed by HMAC-SHA256 under a shared secret over the
canonical body (sorted keys, no spaces, UTF-8), which carries a Unix ``timestamp``; header
``X-Signature: sha256=<hex>``.

``handle_callback`` verifies the signature (constant-time), the timestamp (±5 minutes: a
replayed old callback is refused), the reference and the amount, then settles the payment in
one transaction: ``UPDATE payments … WHERE status IN ('pending', 'failed')`` claims it — a
second callback for the same transaction finds it paid and changes nothing ("duplicate"), and
``gateway_txn_id`` is unique, so no transaction pays twice — then the dossier completes and
the cards are issued. A refused callback is answered 4xx and audited in its own transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, func, insert, select, update

from nidb.domain.text import control_character
from nidb.services.errors import PaymentRefused, ServiceError, TransitionRefused
from nidb.services.renewal import issue_renewal_cards
from nidb.services.rules import vnd
from nidb.services.workdays import today_vn
from nidb.services.workflow import DOSSIERS, SYSTEM, load, move, notify
from nidb.store.audit import write_audit, write_event
from nidb.store.models_services import Payment

__all__ = [
    "CALLBACK_PATH",
    "CallbackResult",
    "PaymentSettings",
    "handle_callback",
    "payment_settings",
    "start_payment",
    "verify_callback",
]

CALLBACK_PATH = "/dich-vu/v1/thanh-toan/callback"
TIMESTAMP_TOLERANCE_SECONDS = 300


class PaymentSettings(BaseSettings):
    """Gateway settings (``NIDB_PAYMENT_*``): its URL, the shared secret, nidb's own URL."""

    model_config = SettingsConfigDict(env_prefix="NIDB_PAYMENT_", extra="ignore")

    gateway_url: str = "http://127.0.0.1:8020"  # `nidb sim payment`; 8090 is the webhook's
    secret: str = "change-me"
    public_base_url: str = "http://127.0.0.1:8000"
    """Where the gateway reaches nidb (callback) and sends the citizen back (return URL)."""


def payment_settings() -> PaymentSettings:
    """Settings read from the environment now (tests and servers set them per process)."""
    return PaymentSettings()


def canonical(body: dict[str, Any]) -> bytes:
    """The signed bytes: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _refused(field: str, value: object, rule: str, vi: str, en: str) -> PaymentRefused:
    return PaymentRefused(field, value, rule, vi, en)


@dataclass(frozen=True, slots=True)
class StartedPayment:
    """Where to send the citizen to pay."""

    reference: str
    amount: int
    pay_url: str


def start_payment(
    engine: Engine,
    dossier_id: int,
    personal_id: str,
    *,
    return_url: str | None = None,
    settings: PaymentSettings | None = None,
) -> StartedPayment:
    """Create (or reuse) the gateway payment of a renewal waiting for payment."""
    settings = settings or payment_settings()
    with engine.begin() as conn:
        dossier = load(conn, dossier_id)
        if dossier.applicant_personal_id != personal_id:
            raise TransitionRefused(
                "dossier_id",
                dossier_id,
                "NOT_APPLICANT",
                "chỉ người nộp hồ sơ được thanh toán",
                "only the applicant may pay",
            )
        if dossier.kind != "household_renewal" or dossier.state != "awaiting_payment":
            raise TransitionRefused(
                "state",
                dossier.state,
                "NOT_PAYABLE",
                "hồ sơ này không ở trạng thái chờ thanh toán",
                "this dossier is not waiting for payment",
            )
        pending = conn.execute(
            select(Payment.reference, Payment.amount, Payment.pay_url).where(
                Payment.dossier_id == dossier_id,
                Payment.status == "pending",
                Payment.pay_url.is_not(None),
            )
        ).first()
        if pending is not None:
            return StartedPayment(pending.reference, int(pending.amount), pending.pay_url)
        count = conn.execute(
            select(func.count()).select_from(Payment).where(Payment.dossier_id == dossier_id)
        ).scalar_one()
        reference = f"NIDB-{dossier_id}-{count + 1}"
        amount = int(dossier.data["total"])
        conn.execute(
            insert(Payment).values(dossier_id=dossier_id, reference=reference, amount=amount)
        )
    base = settings.public_base_url.rstrip("/")
    try:
        reply = httpx.post(
            f"{settings.gateway_url.rstrip('/')}/v1/payments",
            json={
                "amount": amount,
                "reference": reference,
                "description": f"Gia hạn BHYT hộ gia đình, hồ sơ số {dossier_id}",
                "return_url": return_url or f"{base}/cong-dan/dich-vu/ho-so/{dossier_id}",
                "callback_url": f"{base}{CALLBACK_PATH}",
            },
            timeout=10,
        )
        reply.raise_for_status()
        answer = reply.json()
    except (httpx.HTTPError, ValueError) as error:
        with engine.begin() as conn:
            conn.execute(
                update(Payment).where(Payment.reference == reference).values(status="failed")
            )
        raise ServiceError(
            "gateway",
            type(error).__name__,
            "GATEWAY_UNAVAILABLE",
            "cổng thanh toán đang không phản hồi, vui lòng thử lại sau",
            "the payment gateway is not answering; try again later",
        ) from None
    with engine.begin() as conn:
        conn.execute(
            update(Payment)
            .where(Payment.reference == reference)
            .values(
                gateway_payment_id=str(answer["payment_id"])[:64],
                pay_url=str(answer["pay_url"])[:500],
            )
        )
    return StartedPayment(reference, amount, str(answer["pay_url"]))


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """What a callback did: ``paid`` (settled now), ``duplicate``, ``failed`` or ``ignored``."""

    outcome: str
    reference: str
    dossier_id: int | None = None


def verify_callback(raw: bytes, signature: str | None, secret: str, now: float) -> dict[str, Any]:
    """A gateway callback's body once its signature, canonical form, timestamp and fields are
    checked (PaymentRefused otherwise); shared by every payment nidb takes through the gateway."""
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(signature.strip(), expected):
        raise _refused(
            "X-Signature", None, "SIGNATURE_INVALID", "chữ ký không hợp lệ", "invalid signature"
        )
    try:
        body = json.loads(raw)
    except ValueError:
        raise _refused(
            "body", None, "BODY_INVALID", "nội dung không phải JSON", "body is not JSON"
        ) from None
    if not isinstance(body, dict) or canonical(body) != raw:
        raise _refused(
            "body",
            None,
            "BODY_NOT_CANONICAL",
            "nội dung không ở dạng chuẩn",
            "body is not canonical JSON",
        )
    stamp = body.get("timestamp")
    if not isinstance(stamp, int) or abs(now - stamp) > TIMESTAMP_TOLERANCE_SECONDS:
        raise _refused(
            "timestamp",
            stamp,
            "TIMESTAMP_STALE",
            "thông báo đã quá hạn hoặc sai thời gian",
            "callback timestamp outside the allowed window",
        )
    for key, kind in (("reference", str), ("amount", int), ("status", str)):
        if not isinstance(body.get(key), kind):
            raise _refused(
                key,
                body.get(key),
                "FIELD_INVALID",
                f"thiếu hoặc sai trường {key}",
                f"missing or invalid {key}",
            )
    for key in ("reference", "status", "transaction_id"):
        value = body.get(key)
        if isinstance(value, str) and control_character(value) is not None:
            raise _refused(
                key,
                value.encode("unicode_escape").decode("ascii"),
                "FIELD_INVALID",
                f"trường {key} chứa ký tự điều khiển",
                f"{key} holds a control character",
            )
    return body


def _audit_refusal(engine: Engine, error: PaymentRefused, reference: object) -> None:
    with engine.begin() as conn:
        write_audit(
            conn,
            actor="gateway",
            action="payment.callback_refused",
            subject_type="payment",
            subject_id=str(reference)[:100] if isinstance(reference, str) else "-",
            purpose="DVC",
            detail={"rule": error.rule, "field": error.field, "message_en": error.message_en},
        )


def handle_callback(
    engine: Engine,
    raw: bytes,
    signature: str | None,
    *,
    secret: str | None = None,
    now: float | None = None,
) -> CallbackResult:
    """Verify and apply one gateway callback (see the module docstring)."""
    secret = secret if secret is not None else payment_settings().secret
    reference: object = None
    try:
        body = verify_callback(raw, signature, secret, time.time() if now is None else now)
        reference = body["reference"]
        return _apply(engine, body)
    except PaymentRefused as error:
        _audit_refusal(engine, error, reference)
        raise


def _apply(engine: Engine, body: dict[str, Any]) -> CallbackResult:
    reference, status = str(body["reference"]), str(body["status"])
    txn = body.get("transaction_id")
    with engine.begin() as conn:
        payment = conn.execute(
            select(Payment.__table__).where(Payment.reference == reference)
        ).first()
        if payment is None:
            raise _refused(
                "reference",
                reference,
                "REFERENCE_UNKNOWN",
                "không có khoản thanh toán này",
                "unknown payment reference",
            )
        if int(body["amount"]) != int(payment.amount):
            raise _refused(
                "amount",
                body["amount"],
                "AMOUNT_MISMATCH",
                f"số tiền {body['amount']} khác số phải trả {payment.amount}",
                "amount differs from the payment's",
            )
        if status == "failed":
            conn.execute(
                update(Payment)
                .where(Payment.id == payment.id, Payment.status == "pending")
                .values(status="failed")
            )
            return CallbackResult("failed", reference, int(payment.dossier_id))
        if status != "paid":
            return CallbackResult("ignored", reference, int(payment.dossier_id))  # stale or interim
        if not isinstance(txn, str) or not txn or len(txn) > 64:
            raise _refused(
                "transaction_id",
                txn,
                "FIELD_INVALID",
                "thiếu mã giao dịch",
                "missing transaction id",
            )
        if payment.status == "paid":
            if payment.gateway_txn_id == txn:
                return CallbackResult("duplicate", reference, int(payment.dossier_id))
            raise _refused(
                "transaction_id",
                txn,
                "ALREADY_PAID",
                "khoản này đã được thanh toán bằng giao dịch khác",
                "already paid by another transaction",
            )
        now = datetime.now(UTC)
        used = conn.execute(select(Payment.reference).where(Payment.gateway_txn_id == txn)).scalar()
        if used is not None:
            raise _refused(
                "transaction_id",
                txn,
                "TXN_REUSED",
                "mã giao dịch đã dùng cho khoản khác",
                "transaction id already settled another payment",
            )
        # the unique gateway_txn_id is the backstop should two such callbacks race
        claimed = conn.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status.in_(("pending", "failed")))
            .values(status="paid", gateway_txn_id=txn, paid_at=now)
        ).rowcount
        if claimed != 1:
            return CallbackResult("duplicate", reference, int(payment.dossier_id))
        detail = {"reference": reference, "amount": int(payment.amount), "transaction_id": txn}
        write_audit(
            conn,
            actor="gateway",
            action="payment.paid",
            subject_type="dossier",
            subject_id=str(payment.dossier_id),
            purpose="DVC",
            detail=detail,
        )
        write_event(conn, "payment.paid", f"dossier:{payment.dossier_id}", detail)
        dossier = load(conn, int(payment.dossier_id))
        if dossier.state != "awaiting_payment":
            # paid after a cancel: keep the money on record and flag the refund for staff
            write_audit(
                conn,
                actor="gateway",
                action="payment.refund_needed",
                subject_type="dossier",
                subject_id=str(dossier.id),
                purpose="DVC",
                detail=detail,
            )
            return CallbackResult("paid", reference, int(dossier.id))
        moved = move(
            conn,
            int(dossier.id),
            "completed",
            actor="gateway",
            role=SYSTEM,
            note=f"đã thanh toán {vnd(int(payment.amount))} ({txn})",
        )
        issued = issue_renewal_cards(conn, moved, today_vn())
        conn.execute(
            DOSSIERS.update()
            .where(DOSSIERS.c.id == dossier.id)
            .values(data={**moved.data, "cards": issued})
        )
        notify(
            conn,
            dossier.applicant_personal_id,
            f"Đã nhận thanh toán {vnd(int(payment.amount))} cho hồ sơ số {dossier.id}; thẻ BHYT mới đã được cấp.",
            int(dossier.id),
        )
        return CallbackResult("paid", reference, int(dossier.id))
