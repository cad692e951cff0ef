"""A plain ASGI fast path for partner messages, in front of the FastAPI application.

``POST /x/<service>`` is the hottest path of the system (a hospital checks a card at every
visit). This wrapper hands it to the same `ExchangeRuntime.answer_async` the FastAPI routes
use, without FastAPI's routing, dependency and middleware machinery; everything else (other
paths and methods, OpenAPI, the staff API) goes to the FastAPI application unchanged.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from nidb.api.observe import Observe, note_outcome
from nidb.exchange.runtime import MAX_BODY_BYTES, ExchangeRuntime

_HEADERS = [(b"content-type", b"application/json")]


class PartnerFastPath:
    """ASGI app: partner envelopes straight to the runtime; the rest to ``app``."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.state = app.state  # the same state: tests and tools reach the runtime through it
        self._partner = Observe(self._answer)  # the FastAPI app observes the rest itself

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.startswith("/x/"):
            await self.app(scope, receive, send)
            return
        runtime: ExchangeRuntime = self.app.state.exchange
        if not runtime.serves(path[3:]):
            await self.app(scope, receive, send)  # FastAPI's 404
            return
        await self._partner(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the envelope, answer it, send the signed reply."""
        runtime: ExchangeRuntime = self.app.state.exchange
        service = scope["path"][3:]
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES + 1:  # enough to be refused as too large
                while more:  # drain the rest without keeping it
                    message = await receive()
                    more = message.get("more_body", False) and message["type"] != "http.disconnect"
        reply = await runtime.answer_async(service, bytes(body))
        note_outcome(scope, service, reply.result)
        headers = [*_HEADERS, (b"content-length", str(len(reply.content)).encode("ascii"))]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.content})
