"""HTTP routes of ``nidb.contributions``: the payment gateway's callback for employers' payments
(JSON, no session: the signature is the authentication). Mounted by ``nidb.api.app``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from nidb.contributions.gateway import CALLBACK_PATH, handle_gateway_callback
from nidb.services.errors import PaymentRefused

MAX_CALLBACK_BYTES = 16 * 1024

router = APIRouter(tags=["contributions"])


def _error(status: int, code: str, vi: str, en: str, field: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message_vi": vi, "message_en": en}
    if field:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status)


@router.post(
    CALLBACK_PATH,
    summary="Thông báo kết quả thanh toán tiền đóng BHXH của đơn vị",
    description="Signed by the gateway (HMAC-SHA256 over the canonical body, `X-Signature`).",
)
async def contribution_payment_callback(request: Request) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_CALLBACK_BYTES:
        return _error(413, "BODY_TOO_LARGE", "nội dung quá lớn", "body too large")
    try:
        outcome = handle_gateway_callback(
            request.app.state.engine, raw, request.headers.get("X-Signature")
        )
    except PaymentRefused as error:
        status = 401 if error.rule == "SIGNATURE_INVALID" else 400
        return _error(status, error.rule, error.message_vi, error.message_en, error.field)
    return JSONResponse({"outcome": outcome})


def mount(app: FastAPI) -> None:
    """Add this package's routes to ``app``."""
    app.include_router(router)
