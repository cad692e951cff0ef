"""A partner's webhook receiving nidb's change notifications, as a real FastAPI service.

It does what a careful receiver does: checks the envelope and nidb's Ed25519 signature with the
key its ``kid`` names among those nidb publishes (`nidb.protocol.trusted.TrustedKeys`: the set
``GET /keys`` lists, fetched again when a kid is new, so that nidb's key rotation breaks
nothing; or keys pinned at start), refuses a kid outside that set (401 ``E_UNKNOWN_KEY``), drops
repeats by ``Idempotency-Key``, and keeps what it accepted in arrival order (in memory;
``GET /received`` pages through it). It also counts events that arrive out of order for their
subject, so tests and the benchmark can check nidb's promise.

Faults (``PUT /admin/faults``) make it as unreliable as a real partner: down (503) for a while,
slow, failing a share of requests with 500 before accepting, losing a share of
acknowledgements (accepts, then answers 500, so nidb sends a duplicate), and refusing events
of chosen subjects for good (422).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from nidb.apidocs import mount_offline_docs
from nidb.protocol.envelope import ClockWindow, parse_envelope, signature_kid, verify_signature
from nidb.protocol.errors import Refused
from nidb.protocol.trusted import TrustedKeys

SERVICE = "event.notify/v1"
UNKNOWN_KEY = "E_UNKNOWN_KEY"

__all__ = ["SERVICE", "FaultSettings", "Receiver", "create_app"]


class FaultSettings(BaseModel):
    """How unreliable the receiver is (all off by default)."""

    down_seconds: float = Field(
        default=0.0, ge=0, description="Answer 503 for this many seconds from now"
    )
    slow_ms: float = Field(default=0.0, ge=0, description="Added before answering each event")
    fail_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share answered 500 before accepting"
    )
    ack_loss_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share accepted, then answered 500"
    )
    reject_subjects: list[str] = Field(default_factory=list, description="Refused with 422")
    seed: int = 0


@dataclass
class Receiver:
    """The receiver's memory: accepted events in order, seen keys, counters, faults."""

    nidb_keys: TrustedKeys
    member: str | None = None
    faults: FaultSettings = field(default_factory=lambda: FaultSettings())
    accepted: list[dict[str, Any]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    last_by_subject: dict[str, int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    down_until: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    window: ClockWindow = field(default_factory=ClockWindow)

    def configure(self, faults: FaultSettings) -> None:
        self.faults = faults
        self.down_until = time.monotonic() + faults.down_seconds
        self.rng = random.Random(faults.seed)

    def stats(self) -> dict[str, Any]:
        return {"accepted": len(self.accepted), **dict(self.counts)}

    async def receive(self, raw: bytes, key: str | None) -> tuple[int, dict[str, Any]]:
        """Handle one POST; the status code and JSON answer."""
        self.counts["requests"] += 1
        faults = self.faults
        if time.monotonic() < self.down_until:
            self.counts["down"] += 1
            return 503, {"code": "DOWN"}
        if faults.slow_ms:
            await asyncio.sleep(faults.slow_ms / 1000)
        if faults.fail_rate and self.rng.random() < faults.fail_rate:
            self.counts["failed"] += 1
            return 500, {"code": "FAILED"}
        try:
            envelope = parse_envelope(json.loads(raw))
            kid = signature_kid(envelope.signature)
            if self.nidb_keys.wants_refresh(kid):
                await asyncio.to_thread(self.nidb_keys.refresh)
            nidb_key = self.nidb_keys.get(kid)
            if nidb_key is None:
                self.counts["unknown_key"] += 1
                return 401, {
                    "code": UNKNOWN_KEY,
                    "message_vi": "Thông báo được ký bằng khóa không nằm trong các khóa "
                    "CSDL bảo hiểm công bố",
                    "message_en": "signed with a key nidb does not publish",
                    "kid": kid,
                }
            verify_signature(envelope, nidb_key)
            self.window.check(envelope.header.issued_at, datetime.now(UTC))
        except ValueError:
            self.counts["malformed"] += 1
            return 400, {"code": "E_MALFORMED"}
        except Refused as refused:
            self.counts["refused"] += 1
            bad_signature = refused.code.value in ("E_BAD_SIGNATURE", "E_UNSIGNED")
            return (401 if bad_signature else 400), {"code": refused.code.value}
        header, body = envelope.header, envelope.body
        if header.service != SERVICE or (self.member and header.receiver != self.member):
            self.counts["misdirected"] += 1
            return 422, {"code": "E_SERVICE"}
        if not key:
            self.counts["no_key"] += 1
            return 400, {"code": "E_NO_IDEMPOTENCY_KEY"}
        subject, event_id = str(body.get("subject_key")), int(body.get("event_id", 0))
        if subject in faults.reject_subjects:
            self.counts["rejected"] += 1
            return 422, {"code": "E_REJECTED"}
        if key in self.keys:
            self.counts["duplicates"] += 1
            return 200, {"status": "duplicate"}
        self.keys.add(key)
        if event_id < self.last_by_subject.get(subject, -1):
            self.counts["out_of_order"] += 1
        self.last_by_subject[subject] = max(event_id, self.last_by_subject.get(subject, -1))
        self.accepted.append(
            {
                "seq": len(self.accepted) + 1,
                "event_id": event_id,
                "topic": body.get("topic"),
                "subject_key": subject,
                "idempotency_key": key,
                "kid": kid,
            }
        )
        if faults.ack_loss_rate and self.rng.random() < faults.ack_loss_rate:
            self.counts["ack_lost"] += 1
            return 500, {"code": "ACK_LOST"}
        return 200, {"status": "accepted"}


def create_app(
    nidb_keys: TrustedKeys | str, member: str | None = None, faults: FaultSettings | None = None
) -> FastAPI:
    """The receiver app, trusting ``nidb_keys``: a `TrustedKeys` (e.g. following nidb's
    ``/keys``), or one public key pinned (base64url Ed25519, as `nidb keys` shows it).

    ``member``: this partner's code; envelopes addressed to another receiver are refused.
    """
    trusted = TrustedKeys.pinned(nidb_keys) if isinstance(nidb_keys, str) else nidb_keys
    receiver = Receiver(trusted, member)
    if faults is not None:
        receiver.configure(faults)
    app = FastAPI(
        title="Webhook nhận thông báo của CSDL bảo hiểm (stand-in)",
        summary="A partner's receiver of nidb change notifications, with fault injection",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)  # /docs and /redoc without a CDN
    app.state.receiver = receiver

    @app.post("/events", summary="Nhận một thông báo sự kiện đã ký")
    async def events(request: Request) -> JSONResponse:
        raw = await request.body()
        code, answer = await receiver.receive(raw, request.headers.get("idempotency-key"))
        return JSONResponse(answer, status_code=code)

    @app.get("/received", summary="Các sự kiện đã nhận, theo thứ tự")
    async def received(
        after: int = Query(0, ge=0), limit: int = Query(10_000, ge=1, le=1_000_000)
    ) -> dict[str, Any]:
        return {"total": len(receiver.accepted), "events": receiver.accepted[after : after + limit]}

    @app.get("/stats", summary="Bộ đếm")
    async def stats() -> dict[str, Any]:
        return receiver.stats()

    @app.put("/admin/faults", summary="Đặt lỗi giả lập")
    async def set_faults(settings: FaultSettings) -> dict[str, Any]:
        receiver.configure(settings)
        return settings.model_dump()

    @app.get("/healthz", summary="Tình trạng")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
