"""A plain ASGI fast path for partner messages, in front of the FastAPI application.

``POST /x/<service>`` is the hottest path of the system (a hospital checks a card at every
visit). This wrapper hands it to the same `ExchangeRuntime.answer_async` the FastAPI routes
use, without FastAPI's routing, dependency and middleware machinery; everything else (other
paths and methods, OpenAPI, the staff API) goes to the FastAPI application unchanged.

It observes its requests itself, as `nidb.api.observe.Observe` does the application's (the
same request id, metrics and log line), without wrapping ``send`` for each request.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope

from nidb.api.logs import REQUEST_ID
from nidb.api.observe import note_outcome, request_ended, request_started
from nidb.exchange.runtime import MAX_BODY_BYTES, ExchangeRuntime, Reply

_CONTENT_TYPE = (b"content-type", b"application/json")


class PartnerFastPath:
    """ASGI app: partner envelopes straight to the runtime; the rest to ``app``."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.state = app.state  # the same state: tests and tools reach the runtime through it

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.startswith("/x/"):
            await self.app(scope, receive, send)
            return
        runtime: ExchangeRuntime = self.app.state.exchange
        if not runtime.serves(path[3:]):
            await self.app(scope, receive, send)  # FastAPI's 404
            return
        request_id = request_started(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # unless a reply starts: an exception ends as a server error
        try:
            reply = await self._reply(scope, receive)
            if reply is not None:  # None: the client went away before the body was read
                headers = [
                    _CONTENT_TYPE,
                    (b"content-length", str(len(reply.content)).encode("ascii")),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
                status = reply.status
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": reply.content})
        finally:
            request_ended(scope, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    async def _reply(self, scope: Scope, receive: Receive) -> Reply | None:
        """Read the envelope and answer it (None if the client went away first)."""
        runtime: ExchangeRuntime = self.app.state.exchange
        service = scope["path"][3:]
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES + 1:  # enough to be refused as too large
                while more:  # drain the rest without keeping it
                    message = await receive()
                    more = message.get("more_body", False) and message["type"] != "http.disconnect"
        reply = await runtime.answer_async(service, bytes(body))
        note_outcome(scope, service, reply.result)
        return reply
