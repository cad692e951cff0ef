"""Cross-site request forgery protection: every state-changing request carries a token.

Signed-in forms carry the session's token (``web_sessions.csrf_token``); sign-in forms, before
any session exists, use the double-submit pattern: a random ``nidb_csrf`` cookie (HttpOnly,
SameSite=Strict) whose value the form repeats. Comparison is constant-time; a failure is a 403
page in Vietnamese and nothing is done.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from nidb.settings import get_settings
from nidb.web.sessions import SIGN_IN_PATHS, SignInRequired, load_session

CSRF_COOKIE = "nidb_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRejected(Exception):
    """The request's CSRF token is missing or wrong."""


def csrf_token(request: Request) -> str:
    """The token forms on this page must carry (the session's, or the pre-session cookie's)."""
    info = load_session(request)
    if info is not None:
        return info.csrf_token
    existing = getattr(request.state, "presession_csrf", None) or request.cookies.get(CSRF_COOKIE)
    if existing:
        return existing
    token = secrets.token_urlsafe(32)
    request.state.presession_csrf = token

    def set_cookie(response: Response) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=get_settings().cookie_secure,
            path="/",
        )

    finishers = getattr(request.state, "response_finishers", [])
    request.state.response_finishers = [*finishers, set_cookie]
    return token


def _expected(request: Request) -> str | None:
    info = load_session(request)
    return info.csrf_token if info is not None else request.cookies.get(CSRF_COOKIE)


async def check_csrf(request: Request) -> None:
    """Dependency on every web router: refuse an unsafe request without the right token."""
    if request.method not in UNSAFE_METHODS:
        return
    submitted = request.headers.get(HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(FIELD)
        submitted = value if isinstance(value, str) else None
    expected = _expected(request)
    expired = getattr(request.state, "session_expired", None)
    if expired and not request.url.path.startswith(SIGN_IN_PATHS[expired]):
        # the form carried the token of a session that has since timed out: sign in again
        raise SignInRequired(expired, SIGN_IN_PATHS[expired].rsplit("/", 1)[0] + "/", True)
    if (
        not submitted
        or not expected
        or not hmac.compare_digest(submitted.encode(), expected.encode())
    ):
        raise CsrfRejected()
