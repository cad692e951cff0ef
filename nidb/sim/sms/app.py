"""An SMS gateway (nhà cung cấp dịch vụ tin nhắn thương hiệu) as a real HTTP service.

What nidb sees of a brand-name SMS provider: ``POST /v1/messages`` with an API key
(``Authorization: Bearer KEY``) sends one text to one Vietnamese mobile number and answers
``201`` with the provider's message id; the same ``client_ref`` sent again answers ``200`` with
the first message's id (a provider's idempotency key). Refusals are permanent and coded (401
``E_KEY``, 422 ``E_NUMBER``, ``E_TEXT``, ``E_SENDER``); faults set with ``PUT /admin/faults``
are transient (503 or 429 for the next N sends, or a share of them), as a provider's are.

Nothing leaves the machine: ``GET /messages`` lists what was accepted (tests, the demo),
``DELETE /messages`` empties the box.
"""

from __future__ import annotations

import random
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from nidb.apidocs import mount_offline_docs

__all__ = ["MAX_TEXT", "MOBILE", "SmsFaults", "SmsGateway", "create_app"]

MOBILE = re.compile(r"^(?:\+84|84|0)(3|5|7|8|9)\d{8}$")
"""A Vietnamese mobile number (10 digits from 0, or +84 and 9 digits)."""
MAX_TEXT = 670
"""Ten UCS-2 segments of 67 characters: Vietnamese text with diacritics is not GSM-7."""


class SmsFaults(BaseModel):
    """Transient failures on demand (all off by default)."""

    model_config = ConfigDict(extra="forbid")

    fail_next: int = Field(default=0, ge=0, le=1000, description="The next N sends answer `status`")
    fail_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of sends answered `status`"
    )
    status: int = Field(default=503, description="503 (unavailable) or 429 (too many requests)")
    seed: int = 0


class NewMessage(BaseModel):
    """One text to send (what nidb posts)."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(max_length=20, description="Mobile number, 0xxxxxxxxx or +84xxxxxxxxx")
    text: str = Field(max_length=5000, description="The message, UTF-8")
    sender: str = Field(default="BHXHVN", max_length=11, description="The brand name shown")
    client_ref: str | None = Field(default=None, max_length=80, description="Idempotency key")


def _refusal(
    status: int, code: str, vi: str, en: str, field_name: str | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message_vi": vi, "message_en": en}
    if field_name:
        body["field"] = field_name
    return JSONResponse(body, status_code=status)


@dataclass
class SmsGateway:
    """The gateway's memory: messages accepted, by client reference; faults; counters."""

    api_key: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    by_ref: dict[str, str] = field(default_factory=dict)
    faults: SmsFaults = field(default_factory=lambda: SmsFaults())
    rng: random.Random = field(default_factory=random.Random)
    counts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def configure(self, faults: SmsFaults) -> None:
        with self.lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)

    def transient(self) -> bool:
        """Whether this send fails (and uses up one of ``fail_next``)."""
        with self.lock:
            if self.faults.fail_next > 0:
                self.faults = self.faults.model_copy(
                    update={"fail_next": self.faults.fail_next - 1}
                )
                return True
            return bool(self.faults.fail_rate and self.rng.random() < self.faults.fail_rate)

    def accept(self, message: NewMessage) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if message.client_ref and message.client_ref in self.by_ref:
                self.count("duplicates")
                return 200, {"message_id": self.by_ref[message.client_ref], "status": "duplicate"}
            message_id = "SMS-" + uuid.uuid4().hex[:16].upper()
            segments = max(1, -(-len(message.text) // 67))
            self.messages.append(
                {
                    "id": len(self.messages) + 1,
                    "message_id": message_id,
                    "to": message.to,
                    "sender": message.sender,
                    "text": message.text,
                    "segments": segments,
                    "client_ref": message.client_ref,
                    "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
            if message.client_ref:
                self.by_ref[message.client_ref] = message_id
            self.count("accepted")
            return 201, {"message_id": message_id, "status": "accepted", "segments": segments}


def create_app(api_key: str, faults: SmsFaults | None = None) -> FastAPI:
    """The gateway, accepting requests that carry ``api_key``."""
    if len(api_key) < 8:
        raise ValueError("the SMS gateway's API key must have at least 8 characters")
    gateway = SmsGateway(api_key)
    if faults is not None:
        gateway.configure(faults)
    app = FastAPI(
        title="Cổng gửi tin nhắn SMS (stand-in)",
        summary="A brand-name SMS provider: send, list received, transient faults on demand",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)
    app.state.gateway = gateway

    @app.post("/v1/messages", summary="Gửi một tin nhắn", status_code=201)
    def send(
        message: NewMessage, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        gateway.count("requests")
        if authorization != f"Bearer {gateway.api_key}":
            gateway.count("refused")
            return _refusal(
                401, "E_KEY", "Khóa API không đúng hoặc thiếu", "missing or wrong API key"
            )
        if gateway.transient():
            gateway.count("failed")
            status = gateway.faults.status if gateway.faults.status in (429, 503) else 503
            return _refusal(
                status,
                "E_BUSY",
                "Cổng tin nhắn tạm thời quá tải, vui lòng gửi lại sau",
                "temporarily unavailable, retry later",
            )
        if not MOBILE.match(message.to):
            gateway.count("refused")
            return _refusal(
                422,
                "E_NUMBER",
                f"Số điện thoại '{message.to}' không phải số di động Việt Nam",
                f"'{message.to}' is not a Vietnamese mobile number",
                "to",
            )
        if not message.text.strip() or len(message.text) > MAX_TEXT:
            gateway.count("refused")
            return _refusal(
                422,
                "E_TEXT",
                f"Nội dung trống hoặc dài quá {MAX_TEXT} ký tự ({len(message.text)})",
                f"text empty or longer than {MAX_TEXT} characters ({len(message.text)})",
                "text",
            )
        if not re.fullmatch(r"[A-Za-z0-9]{3,11}", message.sender):
            gateway.count("refused")
            return _refusal(
                422, "E_SENDER", "Tên thương hiệu không hợp lệ", "invalid sender name", "sender"
            )
        status, answer = gateway.accept(message)
        return JSONResponse(answer, status_code=status)

    @app.get("/messages", summary="Các tin đã nhận (thử nghiệm, demo)")
    def received(
        to: str | None = Query(None, max_length=20), after: int = Query(0, ge=0)
    ) -> dict[str, Any]:
        with gateway.lock:
            chosen = [m for m in gateway.messages[after:] if to is None or m["to"] == to]
        return {"total": len(gateway.messages), "messages": chosen}

    @app.delete("/messages", summary="Xóa hộp tin")
    def clear() -> dict[str, bool]:
        with gateway.lock:
            gateway.messages.clear()
            gateway.by_ref.clear()
        return {"cleared": True}

    @app.put("/admin/faults", summary="Đặt lỗi tạm thời giả lập")
    def set_faults(settings: SmsFaults) -> dict[str, Any]:
        gateway.configure(settings)
        return settings.model_dump()

    @app.get("/stats", summary="Bộ đếm")
    def stats() -> dict[str, int]:
        return dict(gateway.counts)

    @app.get("/healthz", summary="Tình trạng")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
