"""What every request leaves behind: a request id, its metrics and one log line.

`Observe` wraps an ASGI app (the FastAPI application, and the partner fast path in front of
it). For each HTTP request it takes the id from ``X-Request-Id`` when well formed (else makes
one), echoes it in the response, and when the reply is sent counts the request under its
*service* — the partner service (``card.check/v1``) or the route template
(``/can-bo/ho-so/{record_id}``), never the raw path, which may hold a personal ID — and its
*outcome* (the refusal code or ``ok`` for partner services, the status class otherwise), then
writes the request line of the JSON log (`nidb.api.logs`).

Partner handlers say which service answered and how with `note_outcome`.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nidb.api.logs import REQUEST_ID, request_id_from, request_line
from nidb.api.metrics import LATENCY, REFUSALS, REQUESTS

_SERVICE = "nidb.service"
_RESULT = "nidb.result"
_OBSERVED = "nidb.request_id"
UNMATCHED = "(unmatched)"
"""The service label of a request no route took (a 404 for an unknown path)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods named as sent; any other is ``OTHER`` (a client chooses the method: left as sent, it
could grow the metrics without bound or carry a value into the log)."""

_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
"""The labelled counter and histogram of each (service, method, outcome), looked up once:
labels are bounded (route templates, partner services, methods above, status classes and
refusal codes)."""


def _count(service: str, method: str, outcome: str, seconds: float) -> None:
    key = (service, method, outcome)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            REQUESTS.labels(service, method, outcome),
            LATENCY.labels(service, outcome),
        )
    children[0].inc()
    children[1].observe(seconds)


def note_outcome(scope: MutableMapping[str, Any], service: str, result: str) -> None:
    """Label this request with the partner ``service`` that answered and its ``result``
    (``ok`` or the refusal code)."""
    scope[_SERVICE] = service
    scope[_RESULT] = result


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    if isinstance(route, Mount):
        return f"{path}/{{path}}"
    return path or "/"


_in_flight = 0
"""Requests being answered in this process (their lines wait for each other: `request_line`)."""


def request_started(scope: MutableMapping[str, Any]) -> str:
    """The id of the request ``scope`` starts (kept in the scope and the context); to be
    followed by `request_ended`."""
    global _in_flight
    incoming = None
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            break
    request_id = request_id_from(incoming)
    scope[_OBSERVED] = request_id
    _in_flight += 1
    return request_id


def request_ended(scope: Scope, status: int, seconds: float) -> None:
    """Count the request and write its line (``status`` 500 if no reply was started)."""
    global _in_flight
    _in_flight -= 1
    service, outcome, refusal = labels(scope, status)
    method = scope.get("method", "")
    method = method if method in METHODS else "OTHER"
    _count(service, method, outcome, seconds)
    if refusal is not None:
        REFUSALS.labels(service, refusal).inc()
    request_line(
        request_id=scope[_OBSERVED],
        method=method,
        route=service,
        status=status,
        outcome=outcome,
        duration_ms=round(seconds * 1000, 2),
        alone=_in_flight == 0,
    )


def labels(scope: Scope, status: int) -> tuple[str, str, str | None]:
    """The request's service, outcome and refusal code (None unless a partner was refused)."""
    service = scope.get(_SERVICE)
    if isinstance(service, str):
        result = str(scope.get(_RESULT, "ok"))
        return service, result, result if result.startswith("E_") else None
    return _route_template(scope), f"{status // 100}xx", None


class Observe:
    """ASGI middleware: request id, metrics and the request's log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _OBSERVED in scope:
            await self.app(scope, receive, send)
            return
        request_id = request_started(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # unless a reply starts: an exception ends as a server error

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_ended(scope, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)
