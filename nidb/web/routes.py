"""HTTP routes of ``nidb.web``, mounted on the FastAPI app by ``nidb.api.app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from nidb.web import labels, templating
from nidb.web.csrf import csrf_token
from nidb.web.routing import BodyLimit, install_error_pages
from nidb.web.sessions import load_session


def _page_context(request: Request) -> dict[str, Any]:
    """Names every template sees: the CSRF token, the session and its one-time messages."""
    info = load_session(request)
    return {
        "csrf_token": csrf_token(request),
        "web_session": info,
        "flashes": info.flashes if info is not None else [],
    }


def mount(app: FastAPI) -> None:
    """Add this package's routes to ``app``: citizen portal, staff sign-in, static files."""
    from nidb.web import (
        citizen_auth,
        citizen_export,
        citizen_forms,
        citizen_pages,
        console,
        employer_account_pages,
        employer_notify_pages,
        employer_pages,
        notify_pages,
        staff_pages,
        staff_second_factor_pages,
    )

    labels.install()
    if _page_context not in templating.CONTEXT_HOOKS:
        templating.CONTEXT_HOOKS.append(_page_context)
    app.add_middleware(BodyLimit)
    app.add_middleware(templating.SecurityHeaders)
    install_error_pages(app)
    app.mount("/static", StaticFiles(directory=templating.STATIC_DIR), name="static")
    console.mount(app)  # staff console; before staff_pages: its /can-bo/ replaces the bare home
    app.include_router(staff_pages.router)
    app.include_router(staff_second_factor_pages.router)
    app.include_router(citizen_auth.router)
    app.include_router(citizen_pages.router)
    app.include_router(citizen_forms.router)
    app.include_router(notify_pages.router)  # notification settings
    app.include_router(citizen_export.router)
    app.include_router(employer_pages.router)  # employers' pages (/don-vi/)
    app.include_router(employer_account_pages.router)  # their account: statements, debt
    app.include_router(employer_notify_pages.router)  # /don-vi/thong-bao
