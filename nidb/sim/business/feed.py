"""A change feed any stand-in can serve: events in order, read after a cursor, oldest first.

Shared by the business-registry and MOLISA stand-ins. Each event gets the next sequence
number; a cursor is the sequence number of the last event a reader has seen, as a decimal
string (the population stand-in's convention). `mount_feed` adds to an app the feed endpoint,
the fault-injection admin endpoints (the population stand-in's `FaultInjector`), a raw-event
admin endpoint (appends an event exactly as given, to play a partner that sends bad data) and
the error answers (a stable code, the message in Vietnamese then English).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nidb.sim.population.faults import FaultConfig, FaultInjector, FaultMiddleware
from nidb.sim.population.feed import InvalidCursor
from nidb.sim.population.schemas import ErrorResponse, FaultSettings, FaultStatus

__all__ = ["EventFeed", "InvalidCursor", "ServiceError", "mount_feed"]

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """An error the service answers with: HTTP status, stable code, Vietnamese and English."""

    def __init__(self, status_code: int, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(code, message_vi, message_en)
        self.status_code = status_code
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


class EventFeed:
    """An append-only, in-memory list of events keyed by `key_name` (e.g. enterprise_code)."""

    def __init__(self, key_name: str) -> None:
        self.key_name = key_name
        self._events: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._events)

    def append(
        self, kind: str, key: str, data: dict[str, Any], at: datetime | None = None
    ) -> dict[str, Any]:
        """Record a well-formed event under the next sequence number and return it."""
        return self.append_raw({"kind": kind, self.key_name: key, "data": data}, at)

    def append_raw(self, body: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
        """Record an event as given (fields may be missing or wrong): for tests of bad data."""
        when = (at or datetime.now(UTC)).astimezone(UTC)
        event = {**body, "seq": len(self._events) + 1, "at": when.isoformat()}
        self._events.append(event)
        return event

    def read(self, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str]:
        """Up to `limit` events after the cursor (from the start when None), and the next one.

        The next cursor is the last returned event's, or `after` itself when there is none yet,
        so a reader can keep polling with it. Raises InvalidCursor.
        """
        seen = self._position(after)
        events = self._events[seen : seen + limit]
        return events, str(events[-1]["seq"] if events else seen)

    def _position(self, cursor: str | None) -> int:
        if cursor is None or cursor == "":
            return 0
        if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
            raise InvalidCursor(cursor, "con trỏ không hợp lệ", "malformed cursor")
        seq = int(cursor)
        if seq > len(self._events):
            raise InvalidCursor(
                cursor,
                "con trỏ vượt quá sự kiện cuối cùng (luồng đã được khởi tạo lại?)",
                "cursor is past the last event (was the feed restarted?)",
            )
        return seq


def _error(status_code: int, code: str, vi: str, en: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": f"{vi} ({en})"}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status_code)


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = [
        {
            "field": ".".join(str(p) for p in problem["loc"][1:]) or "body",
            "rule": problem["type"],
            "message": problem["msg"],
        }
        for problem in error.errors()
    ]
    return _error(
        422, "INVALID_REQUEST", "yêu cầu không hợp lệ", "the request is not valid", details
    )


async def _on_service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    return _error(error.status_code, error.code, error.message_vi, error.message_en)


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404:
        return _error(404, "NOT_FOUND", "không tìm thấy", "not found")
    return _error(error.status_code, "HTTP_ERROR", "lỗi", str(error.detail))


async def _on_crash(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, "INTERNAL_ERROR", "lỗi hệ thống", "internal error")


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (404, 409, 422, 503)
}


def mount_feed(
    app: FastAPI, feed: EventFeed, faults: FaultConfig | None, *, admin: bool, tag: str
) -> None:
    """Serve `feed` at GET /v1/changes, with faults, error answers and (if `admin`) the admin
    endpoints /v1/admin/faults and /v1/admin/raw-events."""
    injector = FaultInjector(faults)
    app.state.feed = feed
    app.state.faults = injector
    router = APIRouter(prefix="/v1", tags=[tag])

    @router.get("/changes", responses=ERRORS)
    async def changes(
        after: Annotated[
            str | None, Query(max_length=32, description="`next_cursor` of the previous page.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Events after a cursor, oldest first: `{"changes": [...], "next_cursor": "..."}`."""
        try:
            events, next_cursor = feed.read(after, limit)
        except InvalidCursor as error:
            raise ServiceError(422, "INVALID_CURSOR", error.message_vi, error.message_en) from None
        return {"changes": events, "next_cursor": next_cursor}

    app.include_router(router)
    if admin:
        admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])

        @admin_router.get("/faults", response_model=FaultStatus)
        async def get_faults() -> dict[str, Any]:
            """The fault injection in force, and the faults injected since it was set."""
            return {**injector.config.as_dict(), "injected": injector.counts()}

        @admin_router.post("/faults", response_model=FaultStatus, responses=ERRORS)
        async def set_faults(body: FaultSettings) -> dict[str, Any]:
            """Put fault injection settings in force (the random sequence and counts restart)."""
            injector.configure(FaultConfig(**body.model_dump()))
            return {**injector.config.as_dict(), "injected": injector.counts()}

        @admin_router.post("/raw-events", status_code=status.HTTP_201_CREATED)
        async def add_raw_event(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
            """Append an event exactly as given, without checks (a partner sending bad data)."""
            return feed.append_raw(body)

        app.include_router(admin_router)
    app.add_middleware(FaultMiddleware, injector=injector)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_crash)
