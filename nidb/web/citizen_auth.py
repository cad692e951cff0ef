"""Citizen sign-in through VNeID (``/cong-dan/dang-nhap/vneid`` and its callback)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import delete, insert, select

from nidb.settings import get_settings
from nidb.store.audit import write_audit
from nidb.store.models_web import SignInRequest
from nidb.web.oidc import OidcError, VneidClient, pkce_pair
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import as_utc, engine_of, safe_next, start_session, utcnow
from nidb.web.templating import render

router = web_router("/cong-dan/dang-nhap/vneid")
BROWSER_COOKIE = "nidb_oidc"
CALLBACK_PATH = "/cong-dan/dang-nhap/vneid/callback"
REQUEST_TTL = timedelta(minutes=10)


def vneid_client(request: Request) -> VneidClient | None:
    """The app's VNeID client for the configured issuer (None when VNeID is not configured)."""
    settings = get_settings()
    if not settings.vneid_url:
        return None
    wanted = (
        settings.vneid_url.rstrip("/"),
        settings.vneid_client_id,
        settings.vneid_client_secret,
    )
    current: VneidClient | None = getattr(request.app.state, "vneid_client", None)
    if current is None or (current.issuer, current.client_id, current._secret) != wanted:
        current = VneidClient(*wanted)
        request.app.state.vneid_client = current
    return current


def redirect_uri(request: Request) -> str:
    """The callback URL registered with VNeID: ``NIDB_PUBLIC_URL`` or this request's base."""
    base = get_settings().public_url or str(request.base_url)
    return base.rstrip("/") + CALLBACK_PATH


def _failed(request: Request, message: str, status: int = 400) -> HTMLResponse:
    return render(
        request,
        "cong-dan/dang-nhap.html",
        status=status,
        next="/cong-dan/",
        vneid_ready=bool(get_settings().vneid_url),
        expired=False,
        signed_out=False,
        message=message,
    )


@router.get("")
def start(request: Request, next: str | None = None) -> Response:
    """Send the browser to VNeID with a fresh state, nonce and PKCE challenge."""
    client = vneid_client(request)
    if client is None:
        return _failed(request, "Chưa cấu hình kết nối VNeID.", 503)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    browser = secrets.token_urlsafe(32)
    try:
        location = client.authorization_url(
            state=state, nonce=nonce, challenge=challenge, redirect_uri=redirect_uri(request)
        )
    except OidcError as error:
        return _failed(request, error.message_vi, 503)
    now = utcnow()
    with engine_of(request).begin() as conn:
        conn.execute(delete(SignInRequest).where(SignInRequest.expires_at < now))
        conn.execute(
            insert(SignInRequest).values(
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                browser_hash=hashlib.sha256(browser.encode()).hexdigest(),
                next_path=safe_next(next, "/cong-dan/")[:300],
                created_at=now,
                expires_at=now + REQUEST_TTL,
            )
        )
    response = see_other(location)
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=int(REQUEST_TTL.total_seconds()),
        httponly=True,
        samesite="lax",  # the callback is a top-level navigation back from VNeID
        secure=get_settings().cookie_secure,
        path="/cong-dan/dang-nhap/vneid",
    )
    return response


def _audit_failure(request: Request, reason: str) -> None:
    with engine_of(request).begin() as conn:
        write_audit(
            conn,
            actor="anonymous",
            action="citizen.sign_in_failed",
            subject_type="citizen",
            subject_id="-",
            purpose=None,
            detail={"reason": reason[:200], "via": "vneid"},
        )


@router.get("/callback")
def callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    """Back from VNeID: check state and browser, redeem the code, verify, start the session."""
    browser = request.cookies.get(BROWSER_COOKIE, "")
    with engine_of(request).begin() as conn:
        pending = conn.execute(
            select(SignInRequest).where(SignInRequest.state == state[:64])
        ).one_or_none()
        if pending is not None:  # one-time, whatever the outcome
            conn.execute(delete(SignInRequest).where(SignInRequest.state == pending.state))
    if (
        pending is None
        or not browser
        or not secrets.compare_digest(
            pending.browser_hash, hashlib.sha256(browser.encode()).hexdigest()
        )
        or as_utc(pending.expires_at) < utcnow()
    ):
        _audit_failure(request, "unknown, expired or foreign state")
        return _failed(
            request, "Yêu cầu đăng nhập không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại."
        )
    if error:
        _audit_failure(request, f"VNeID error: {error[:50]}")
        message = (
            "Bạn đã hủy đăng nhập bằng VNeID."
            if error == "access_denied"
            else "VNeID từ chối yêu cầu đăng nhập. Vui lòng thử lại."
        )
        return _failed(request, message)
    client = vneid_client(request)
    if client is None or not code:
        _audit_failure(request, "no code")
        return _failed(request, "Thiếu mã xác thực từ VNeID. Vui lòng đăng nhập lại.")
    try:
        identity = client.redeem(
            code=code[:200],
            verifier=pending.code_verifier,
            redirect_uri=redirect_uri(request),
            nonce=pending.nonce,
        )
    except OidcError as failure:
        _audit_failure(request, failure.reason)
        return _failed(request, failure.message_vi)
    response = see_other(pending.next_path)
    start_session(
        request,
        response,
        "citizen",
        identity.personal_id,
        {
            "full_name": identity.full_name,
            "birthdate": identity.birthdate,
            "gender": identity.gender,
            "vneid_sub": identity.subject,
        },
    )
    response.delete_cookie(BROWSER_COOKIE, path="/cong-dan/dang-nhap/vneid")
    with engine_of(request).begin() as conn:
        write_audit(
            conn,
            actor=f"citizen:{identity.personal_id}",
            action="citizen.sign_in",
            subject_type="citizen",
            subject_id=identity.personal_id,
            purpose=None,
            detail={"via": "vneid"},
        )
    return response
