"""The payment gateway stand-in: payments in memory, a pay page, signed callbacks with retries."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from nidb.apidocs import mount_offline_docs

__all__ = ["GatewayMode", "canonical", "create_app", "sign"]


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes that are signed: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, body: dict[str, Any]) -> str:
    """The ``X-Signature`` header value for a body."""
    digest = hmac.new(secret.encode(), canonical(body), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class GatewayMode(BaseModel):
    """How the gateway misbehaves (all off by default)."""

    model_config = ConfigDict(extra="forbid")

    double: bool = False  # send each callback twice
    out_of_order: bool = False  # after "paid", send a stale "pending" for the same payment
    bad_signature: bool = False  # sign with a wrong key
    timestamp_offset_seconds: int = 0  # date callbacks in the past (negative) or future
    delay_seconds: float = Field(0.0, ge=0, le=60)  # wait before the first attempt
    max_attempts: int = Field(6, ge=1, le=20)
    retry_base_seconds: float = Field(0.2, ge=0, le=30)


class NewPayment(BaseModel):
    """A merchant's request for a payment."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0, le=10_000_000_000)
    reference: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    description: str = Field("", max_length=200)
    return_url: str = Field(max_length=500, pattern=r"^https?://")
    callback_url: str = Field(max_length=500, pattern=r"^https?://")


@dataclass
class GatewayPayment:
    id: str
    amount: int
    reference: str
    description: str
    return_url: str
    callback_url: str
    status: str = "pending"
    transaction_id: str | None = None
    paid_at: str | None = None


@dataclass
class Gateway:
    """In-memory state: payments, the mode, and every callback attempt (for tests)."""

    secret: str
    mode: GatewayMode = field(default_factory=lambda: GatewayMode.model_validate({}))
    payments: dict[str, GatewayPayment] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self, payment: GatewayPayment, status: str) -> dict[str, Any]:
        return {
            "payment_id": payment.id,
            "reference": payment.reference,
            "amount": payment.amount,
            "status": status,
            "transaction_id": payment.transaction_id,
            "paid_at": payment.paid_at,
            "timestamp": int(time.time()) + self.mode.timestamp_offset_seconds,
        }

    def deliver(self, payment: GatewayPayment, status: str) -> None:
        """Send one callback, retrying with backoff until a 2xx or the attempts run out."""
        mode = self.mode
        with httpx.Client(timeout=10) as client:
            for attempt in range(1, mode.max_attempts + 1):
                body = self.body(payment, status)  # re-dated and re-signed on every attempt
                secret = "wrong-" + self.secret if mode.bad_signature else self.secret
                code: int | None
                try:
                    reply = client.post(
                        payment.callback_url,
                        content=canonical(body),
                        headers={
                            "Content-Type": "application/json",
                            "X-Signature": sign(secret, body),
                        },
                    )
                    code = reply.status_code
                except httpx.HTTPError:
                    code = None
                with self.lock:
                    self.attempts.append(
                        {
                            "payment_id": payment.id,
                            "status": status,
                            "attempt": attempt,
                            "http_status": code,
                        }
                    )
                if code is not None and (
                    200 <= code < 300 or (400 <= code < 500 and code not in (408, 429))
                ):
                    return  # answered (2xx), or refused for good (4xx): retrying changes nothing
                time.sleep(mode.retry_base_seconds * 2 ** (attempt - 1))

    def settle(self, payment: GatewayPayment, status: str) -> None:
        """Deliver the callbacks of a settled payment on a background thread."""
        mode = self.mode

        def run() -> None:
            if mode.delay_seconds:
                time.sleep(mode.delay_seconds)
            self.deliver(payment, status)
            if mode.double:
                self.deliver(payment, status)
            if mode.out_of_order:
                self.deliver(payment, "pending")

        threading.Thread(target=run, daemon=True, name=f"callback:{payment.id}").start()


_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Cổng thanh toán (giả lập)</title></head><body>
<main><h1>Cổng thanh toán (giả lập)</h1>
<p>Mã thanh toán: <strong>{reference}</strong></p><p>{description}</p>
<p>Số tiền: <strong id="amount">{amount} đ</strong></p><p>Trạng thái: {status}</p>
<form method="post" action="/pay/{id}/confirm"><button type="submit" id="pay">Thanh toán</button></form>
<form method="post" action="/pay/{id}/cancel"><button type="submit" id="cancel">Hủy</button></form>
</main></body></html>"""


def create_app(secret: str) -> FastAPI:
    """The gateway's HTTP app, signing callbacks with ``secret``."""
    gateway = Gateway(secret)
    app = FastAPI(title="Payment gateway stand-in", version="1", docs_url=None, redoc_url=None)
    mount_offline_docs(app)  # /docs and /redoc without a CDN
    app.state.gateway = gateway

    def find(payment_id: str) -> GatewayPayment:
        payment = gateway.payments.get(payment_id)
        if payment is None:
            raise HTTPException(404, "không có giao dịch này (no such payment)")
        return payment

    @app.post("/v1/payments", status_code=201)
    def create_payment(body: NewPayment, request: Request) -> dict[str, Any]:
        payment = GatewayPayment(
            uuid.uuid4().hex,
            body.amount,
            body.reference,
            body.description,
            body.return_url,
            body.callback_url,
        )
        with gateway.lock:
            gateway.payments[payment.id] = payment
        return {
            "payment_id": payment.id,
            "status": payment.status,
            "pay_url": f"{str(request.base_url).rstrip('/')}/pay/{payment.id}",
        }

    @app.get("/v1/payments/{payment_id}")
    def get_payment(payment_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
        return asdict(find(payment_id))

    @app.get("/pay/{payment_id}", response_class=HTMLResponse)
    def pay_page(payment_id: Annotated[str, Path(max_length=64)]) -> str:
        p = find(payment_id)
        return _PAGE.format(
            id=html.escape(p.id),
            reference=html.escape(p.reference),
            description=html.escape(p.description),
            amount=f"{p.amount:,}".replace(",", "."),
            status=html.escape(p.status),
        )

    def _finish(payment_id: str, status: str) -> RedirectResponse:
        p = find(payment_id)
        with gateway.lock:
            if p.status != "pending":
                raise HTTPException(409, "giao dịch đã kết thúc (payment already settled)")
            p.status = status
            if status == "paid":
                p.transaction_id = f"TXN-{uuid.uuid4().hex[:16].upper()}"
                p.paid_at = datetime.now(UTC).isoformat(timespec="seconds")
        gateway.settle(p, status)
        query = urlencode({"reference": p.reference, "status": status})
        return RedirectResponse(
            f"{p.return_url}{'&' if '?' in p.return_url else '?'}{query}", status_code=303
        )

    @app.post("/pay/{payment_id}/confirm")
    def confirm(payment_id: Annotated[str, Path(max_length=64)]) -> RedirectResponse:
        return _finish(payment_id, "paid")

    @app.post("/pay/{payment_id}/cancel")
    def cancel(payment_id: Annotated[str, Path(max_length=64)]) -> RedirectResponse:
        return _finish(payment_id, "failed")

    @app.put("/admin/mode")
    def set_mode(mode: GatewayMode) -> dict[str, Any]:
        gateway.mode = mode
        return mode.model_dump()

    @app.get("/admin/callbacks")
    def callbacks() -> list[dict[str, Any]]:
        with gateway.lock:
            return list(gateway.attempts)

    @app.post("/admin/resend/{payment_id}")
    def resend(payment_id: Annotated[str, Path(max_length=64)]) -> dict[str, str]:
        """Send a settled payment's callback again (a late duplicate)."""
        p = find(payment_id)
        if p.status == "pending":
            raise HTTPException(409, "giao dịch chưa kết thúc (payment not settled)")
        threading.Thread(target=gateway.deliver, args=(p, p.status), daemon=True).start()
        return {"status": "queued"}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(host: str, port: int, secret: str) -> None:
    """Serve the gateway until interrupted."""
    import uvicorn

    uvicorn.run(create_app(secret), host=host, port=port, log_level="info")
