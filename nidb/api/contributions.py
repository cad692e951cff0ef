"""HTTP routes of ``nidb.contributions``: the payment gateway's callback for employers' payments
(JSON, no session: the signature is the authentication). Mounted by ``nidb.api.app``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from nidb.api.payments import (
    CALLBACK_ERRORS,
    MAX_CALLBACK_BYTES,
    PaymentCallbackDoc,
    error_response,
)
from nidb.contributions.gateway import CALLBACK_PATH, handle_gateway_callback
from nidb.services.errors import PaymentRefused

router = APIRouter(tags=["contributions"])


@router.post(
    CALLBACK_PATH,
    summary="Thông báo kết quả thanh toán tiền đóng BHXH của đơn vị",
    description="Signed by the gateway (HMAC-SHA256 over the canonical body, `X-Signature`).",
    responses={status: CALLBACK_ERRORS[status] for status in (400, 401, 413)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PaymentCallbackDoc.model_json_schema()}},
        }
    },
)
async def contribution_payment_callback(request: Request) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_CALLBACK_BYTES:
        return error_response(413, "BODY_TOO_LARGE", "nội dung quá lớn", "body too large")
    try:
        outcome = handle_gateway_callback(
            request.app.state.engine, raw, request.headers.get("X-Signature")
        )
    except PaymentRefused as error:
        status = 401 if error.rule == "SIGNATURE_INVALID" else 400
        return error_response(status, error.rule, error.message_vi, error.message_en, error.field)
    return JSONResponse({"outcome": outcome})


def mount(app: FastAPI) -> None:
    """Add this package's routes to ``app``."""
    app.include_router(router)
