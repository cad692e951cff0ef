"""Server-rendered HTML: one Jinja2 environment (autoescape on), a ``render`` helper, and the
security headers every HTML answer carries.

Pages are plain HTML forms that work without JavaScript and with the keyboard alone; the
Content-Security-Policy forbids inline script, so any script is a file under ``static/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from nidb.domain import display

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
"""The one environment: other packages add filters/globals to it, never a second one."""


env.filters["vn_date"] = display.vn_date
env.filters["vn_birth"] = display.vn_partial_date
env.filters["vn_datetime"] = display.vn_datetime
env.filters["vn_money"] = display.vn_money
env.filters["gender"] = display.gender_label

STAFF_NAV: list[dict[str, str]] = []
"""Links of the staff console's navigation bar, added by the modules owning the pages."""
env.globals["staff_nav_items"] = STAFF_NAV


def register_staff_nav(key: str, label: str, url: str) -> None:
    """Add a link to the staff navigation (idempotent by ``key``); ``active_nav=key`` marks it."""
    if all(item["key"] != key for item in STAFF_NAV):
        STAFF_NAV.append({"key": key, "label": label, "url": url})


CONTEXT_HOOKS: list[Callable[[Request], dict[str, Any]]] = []
"""Functions adding per-request names to every template (the session module adds the CSRF
token, the signed-in principal and the flash messages)."""


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """Render template ``name`` for ``request`` as an HTML response with ``status``."""
    context: dict[str, Any] = {"request": request}
    for hook in CONTEXT_HOOKS:
        context.update(hook(request))
    context.update(ctx)
    html = env.get_template(name).render(context)
    response = HTMLResponse(html, status_code=status)
    for finish in getattr(request.state, "response_finishers", ()):
        finish(response)
    return response


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HTML_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class SecurityHeaders:
    """ASGI middleware: strict headers on every HTML answer (pages are private: never cached)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    present = {k.lower() for k, _ in headers}
                    for key, value in HTML_HEADERS.items():
                        if key.encode() not in present:
                            headers.append((key.encode(), value.encode()))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
