"""HTTP routes of ``nidb.services``, mounted on the FastAPI app by ``nidb.api.app``.

The payment gateway's callback lives here (JSON, no session: the signature is the
authentication). Web pages for citizens (``pages``) and staff (``pages_staff``) are HTML
routers on the web foundation (sessions, CSRF, templates in nidb/web/templates/workflows/).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from nidb.services.errors import PaymentRefused
from nidb.services.payments import CALLBACK_PATH, handle_callback

MAX_CALLBACK_BYTES = 16 * 1024

router = APIRouter(tags=["online services"])


class PaymentCallbackDoc(BaseModel):
    """The gateway's callback body: canonical JSON, HMAC-SHA256 in ``X-Signature``."""

    reference: str
    amount: int
    status: str = Field(examples=["paid", "failed"])
    transaction_id: str | None = None
    timestamp: int = Field(description="Unix seconds; refused if more than a few minutes off")


class _ErrorBody(BaseModel):
    code: str
    message_vi: str
    message_en: str
    field: str | None = None


class _ErrorDoc(BaseModel):
    error: _ErrorBody


CALLBACK_ERRORS: dict[int | str, dict[str, Any]] = {
    # what a gateway callback may answer besides 200: the online services' and the employers'
    status: {"model": _ErrorDoc, "description": words}
    for status, words in (
        (
            400,
            "not canonical JSON, a field missing or wrong, a stale timestamp, an unknown reference",
        ),
        (401, "X-Signature missing or wrong (SIGNATURE_INVALID)"),
        (409, "already paid, or the transaction id used for another payment"),
        (413, "body over 16 KiB"),
    )
}


def error_response(
    status: int, code: str, vi: str, en: str, field: str | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message_vi": vi, "message_en": en}
    if field:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status)


@router.post(
    CALLBACK_PATH,
    summary="Thông báo kết quả thanh toán từ cổng thanh toán",
    description="Signed by the gateway (HMAC-SHA256 over the canonical body, `X-Signature`).",
    responses=CALLBACK_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PaymentCallbackDoc.model_json_schema()}},
        }
    },
)
async def payment_callback(request: Request) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_CALLBACK_BYTES:
        return error_response(413, "BODY_TOO_LARGE", "nội dung quá lớn", "body too large")
    engine = request.app.state.engine
    try:
        result = handle_callback(engine, raw, request.headers.get("X-Signature"))
    except PaymentRefused as error:
        status = (
            401
            if error.rule == "SIGNATURE_INVALID"
            else 409
            if error.rule in ("ALREADY_PAID", "TXN_REUSED")
            else 400
        )
        return error_response(status, error.rule, error.message_vi, error.message_en, error.field)
    return JSONResponse({"outcome": result.outcome, "reference": result.reference})


def mount(app: FastAPI) -> None:
    """Add this package's routes to ``app``."""
    from nidb.web import services_pages as pages  # citizen and staff pages, on the web foundation

    app.include_router(router)
    pages.mount(app)
