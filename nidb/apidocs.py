"""API documentation pages that work offline: Swagger UI at ``/docs`` and ReDoc at ``/redoc``.

FastAPI's own pages load their JavaScript from a CDN and start Swagger UI with an inline
script: blank under a Content-Security-Policy of ``script-src 'self'`` and without internet.
Here the assets come from the ``fastapi-offline`` package (Swagger UI and ReDoc under their MIT
licences, inside the wheel) and the start-up script is a static file of this package, so the
pages need neither a CDN nor an inline script.

Layer note: this module knows nothing of nidb or of any organisation; it dresses any FastAPI
app. It sits beside ``nidb.terminal`` at the bottom of the house so that both nidb's API
(``nidb.api``) and the stand-ins of other organisations (``nidb.sim``, which may import only
the domain, the protocol, the terminal helpers and this) can use the same 60 lines. A real
organisation would vendor the same two files; sharing them here shares no behaviour of nidb.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ASSETS_PATH", "mount_offline_docs"]

ASSETS_PATH = "/api-docs-assets"
"""Where the Swagger UI, ReDoc and start-up files are served."""

_OWN_ASSETS = Path(__file__).parent / "apidocs_static"

_SWAGGER = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Swagger UI</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head><body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body></html>
"""

_REDOC = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — ReDoc</title>
<link rel="icon" href="{assets}/favicon.png">
</head><body>
<redoc spec-url="{openapi}"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body></html>
"""

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""The documentation pages' policy: scripts only from this server, as everywhere else; inline
*styles* are allowed on these two pages only, because Swagger UI and ReDoc set element styles
from script (no page of the portal or the console relaxes its policy)."""


def mount_offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` for ``app`` from local files (create ``app`` with
    ``docs_url=None, redoc_url=None`` so that FastAPI's CDN pages are not mounted)."""
    import fastapi_offline
    from fastapi.responses import FileResponse, HTMLResponse

    vendor = Path(fastapi_offline.__file__).parent / "static"
    files = {
        "swagger-ui.css": (vendor / "swagger-ui.css", "text/css"),
        "swagger-ui-bundle.js": (vendor / "swagger-ui-bundle.js", "text/javascript"),
        "redoc.standalone.js": (vendor / "redoc.standalone.js", "text/javascript"),
        "favicon.png": (vendor / "favicon.png", "image/png"),
        "swagger-init.js": (_OWN_ASSETS / "swagger-init.js", "text/javascript"),
    }
    title = escape(app.title)
    openapi = escape(app.openapi_url or "/openapi.json")
    headers = {"content-security-policy": DOCS_CSP, "cache-control": "no-store"}

    @app.get(f"{ASSETS_PATH}/{{name}}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        from fastapi import HTTPException

        if name not in files:
            raise HTTPException(404, "không có tệp này (no such file)")
        path, media = files[name]
        return FileResponse(path, media_type=media, headers={"cache-control": "max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        html = _SWAGGER.format(title=title, assets=ASSETS_PATH, openapi=openapi)
        return HTMLResponse(html, headers=headers)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        html = _REDOC.format(title=title, assets=ASSETS_PATH, openapi=openapi)
        return HTMLResponse(html, headers=headers)
