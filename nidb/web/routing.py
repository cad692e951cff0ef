"""The pieces every web page module uses: a router with CSRF on, the error pages, a body limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nidb.web.csrf import CsrfRejected, check_csrf
from nidb.web.sessions import Forbidden, SignInRequired
from nidb.web.templating import ASGIApp, Message, Scope, env, render

MAX_BODY_BYTES = 6 * 1024 * 1024
"""Largest request body a web page accepts (a 5 MB evidence file plus the form around it)."""


def web_router(prefix: str = "", **kwargs: Any) -> APIRouter:
    """An HTML router: every POST on it is CSRF-checked; kept out of the OpenAPI schema."""
    return APIRouter(
        prefix=prefix,
        dependencies=[Depends(check_csrf)],
        default_response_class=HTMLResponse,
        include_in_schema=False,
        **kwargs,
    )


def see_other(location: str) -> RedirectResponse:
    """Post/redirect/get: a 303 to ``location``."""
    return RedirectResponse(location, status_code=303)


def install_error_pages(app: FastAPI) -> None:
    """Answer the web exceptions with pages (redirect to sign-in, 403 in Vietnamese)."""

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, error: SignInRequired) -> RedirectResponse:
        return see_other(error.location())

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, error: CsrfRejected) -> HTMLResponse:
        return render(
            request,
            "errors/csrf.html",
            status=403,
            title="Yêu cầu bị từ chối",
        )

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, error: StarletteHTTPException) -> Response:
        # unknown pages in the web areas get a page, the API keeps FastAPI's JSON
        if request.url.path.startswith(BodyLimit.PREFIXES):
            if error.status_code in (404, 405):
                return render(request, "errors/not_found.html", status=error.status_code)
            if error.status_code == 400:  # e.g. a form the parser refuses (a field over 1 MB)
                return render(request, "errors/bad_request.html", status=400)
        return await http_exception_handler(request, error)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> HTMLResponse:
        return render(request, "errors/forbidden.html", status=403, error=error)


class BodyLimit:
    """ASGI middleware: refuse web-page request bodies over ``MAX_BODY_BYTES`` before parsing.

    A declared Content-Length over the limit is refused at once; otherwise the body is read
    (at most the limit) and handed on. Only the HTML areas are limited (partner messages have
    their own limit). The refusal is a page in Vietnamese; nothing reaches the handlers.
    """

    PREFIXES = ("/cong-dan", "/can-bo")

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PUT", "PATCH")
            or not scope["path"].startswith(self.PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        html = env.get_template("errors/too_large.html").render(
            limit_mb=self.limit // 2**20, flashes=[], csrf_token=""
        )
        response = HTMLResponse(html, status_code=413, headers={"connection": "close"})
        await response(scope, receive, send)
