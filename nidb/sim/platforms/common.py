"""What the four national-platform stand-ins share: API-key checks and coded error answers.

Every error is ``{"code": ..., "message": "<Vietnamese> (<English>)", "details": [...]}`` with
a stable code, as the other stand-ins answer (``nidb.sim.business.feed``).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nidb.sim.business.feed import ServiceError

__all__ = ["ServiceError", "check_key", "error_body", "install_errors"]

log = logging.getLogger(__name__)


def error_body(code: str, vi: str, en: str, details: Any = None) -> dict[str, Any]:
    """The JSON of an error answer."""
    body: dict[str, Any] = {"code": code, "message": f"{vi} ({en})"}
    if details is not None:
        body["details"] = details
    return body


def check_key(given: str | None, keys: dict[str, str]) -> str:
    """The holder of the API key ``given`` (keys: holder → key); 401 ServiceError if none."""
    if not given:
        raise ServiceError(
            401, "API_KEY_MISSING", "thiếu khóa truy cập (X-API-Key)", "no API key (X-API-Key)"
        )
    for holder, key in keys.items():
        if hmac.compare_digest(given.encode(), key.encode()):
            return holder
    raise ServiceError(401, "API_KEY_INVALID", "khóa truy cập không hợp lệ", "invalid API key")


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = [
        {
            "field": ".".join(str(p) for p in problem["loc"][1:]) or "body",
            "value": problem.get("input") if isinstance(problem.get("input"), str | int) else None,
            "rule": problem["type"],
            "message": problem["msg"],
        }
        for problem in error.errors()
    ]
    body = error_body(
        "INVALID_REQUEST", "yêu cầu không hợp lệ", "the request is not valid", details
    )
    return JSONResponse(body, status_code=422)


async def _on_service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    body = error_body(error.code, error.message_vi, error.message_en)
    return JSONResponse(body, status_code=error.status_code)


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404:
        return JSONResponse(error_body("NOT_FOUND", "không tìm thấy", "not found"), 404)
    if error.status_code == 405:
        body = error_body(
            "METHOD_NOT_ALLOWED", "phương thức không được hỗ trợ", "method not allowed"
        )
        return JSONResponse(body, 405)
    return JSONResponse(error_body("HTTP_ERROR", "lỗi", str(error.detail)), error.status_code)


async def _on_crash(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("INTERNAL_ERROR", "lỗi hệ thống", "internal error"), 500)


def install_errors(app: FastAPI) -> None:
    """Answer every error of ``app`` with a coded, bilingual body."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_crash)
