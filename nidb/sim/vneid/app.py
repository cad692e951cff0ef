"""The VNeID stand-in as a FastAPI app: OpenID Connect authorization code flow with PKCE.

Endpoints: ``/.well-known/openid-configuration``, ``/authorize`` (a Vietnamese sign-in page:
personal ID + password or one-time code), ``/token`` (code → EdDSA-signed id_token + access
token; client_secret_basic or client_secret_post; S256 PKCE required), ``/userinfo``, ``/jwks``.
Codes are one-time and live 2 minutes; everything is in memory (a restart signs everyone out).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment

from nidb.sim.vneid.people import People, VneidPerson
from nidb.sim.vneid.tokens import IssuerKey, s256

CODE_TTL = 120.0
TOKEN_TTL = 300
DEFAULT_REDIRECTS = (r"^http://(127\.0\.0\.1|localhost)(:\d+)?/cong-dan/dang-nhap/vneid/callback$",)
PERSONAL_ID = re.compile(r"^\d{12}$")
PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


@dataclass(frozen=True)
class RegisteredClient:
    """A relying party: its secret and the redirect URIs (regular expressions) it may use."""

    client_id: str
    secret: str
    redirect_patterns: tuple[str, ...] = DEFAULT_REDIRECTS

    def allows(self, redirect_uri: str) -> bool:
        return any(re.fullmatch(p, redirect_uri) for p in self.redirect_patterns)


@dataclass
class _Grant:
    person: VneidPerson
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    issued: float
    auth_time: int


@dataclass
class _State:
    codes: dict[str, _Grant] = field(default_factory=dict)
    access: dict[str, tuple[VneidPerson, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Đăng nhập VNeID (giả lập)</title></head>
<body>
<main>
<h1>Đăng nhập tài khoản định danh điện tử VNeID</h1>
<p>Hệ thống giả lập dùng cho phát triển và kiểm thử. Ứng dụng <strong>{{ client_id }}</strong>
yêu cầu xác thực danh tính của bạn.</p>
{% if message %}<p role="alert" id="loi-chung">{{ message }}</p>{% endif %}
<form method="post" action="/authorize">
{% for name, value in hidden.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}
<p><label for="personal_id">Số định danh cá nhân</label><br>
{% if errors.personal_id %}<span id="personal_id-loi">{{ errors.personal_id }}</span><br>{% endif %}
<input id="personal_id" name="personal_id" inputmode="numeric" autocomplete="username"
 value="{{ personal_id }}" maxlength="12"{% if errors.personal_id %} aria-invalid="true"
 aria-describedby="personal_id-loi"{% endif %}></p>
<p><label for="password">Mật khẩu hoặc mã OTP</label><br>
{% if errors.password %}<span id="password-loi">{{ errors.password }}</span><br>{% endif %}
<input id="password" name="password" type="password" autocomplete="current-password"
 {% if errors.password %} aria-invalid="true" aria-describedby="password-loi"{% endif %}></p>
<p><button type="submit" name="action" value="login">Đăng nhập</button>
<button type="submit" name="action" value="cancel">Hủy</button></p>
</form>
</main></body></html>"""
)
_HEADERS = {
    "content-security-policy": "default-src 'none'; form-action *; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
_AUTH_PARAMS = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
    "code_challenge", "code_challenge_method",
)  # fmt: skip


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    html = f'<!doctype html><html lang="vi"><body><h1>Lỗi yêu cầu đăng nhập</h1><p>{message}</p></body></html>'
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


def create_app(
    people: People,
    clients: list[RegisteredClient],
    *,
    otp: str = "123456",
    issuer: str | None = None,
    key: IssuerKey | None = None,
) -> FastAPI:
    """The stand-in over ``people``, trusting ``clients``; ``issuer`` defaults to the base URL
    the caller used."""
    app = FastAPI(title="VNeID (giả lập) — OpenID Connect", docs_url=None, redoc_url=None)
    key = key or IssuerKey()
    registered = {c.client_id: c for c in clients}
    state = _State()
    app.state.key = key

    def issuer_of(request: Request) -> str:
        return issuer or str(request.base_url).rstrip("/")

    @app.get("/.well-known/openid-configuration")
    def discovery(request: Request) -> dict[str, Any]:
        base = issuer_of(request)
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile"],
            "claims_supported": ["sub", "personal_id", "name", "birthdate", "gender", "nonce"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return {"keys": [key.jwk()]}

    def _check_request(params: dict[str, str]) -> str | None:
        client = registered.get(params.get("client_id", ""))
        if client is None:
            return "Ứng dụng (client_id) chưa được đăng ký với VNeID."
        if not client.allows(params.get("redirect_uri", "")):
            return "Địa chỉ chuyển hướng (redirect_uri) không được đăng ký cho ứng dụng này."
        if params.get("response_type") != "code":
            return "Chỉ hỗ trợ response_type=code."
        if "openid" not in params.get("scope", "").split():
            return "Thiếu phạm vi openid."
        if (
            params.get("code_challenge_method") != "S256"
            or len(params.get("code_challenge", "")) < 43
        ):
            return "Bắt buộc PKCE với code_challenge_method=S256."
        if not params.get("state") or not params.get("nonce"):
            return "Thiếu state hoặc nonce."
        return None

    def _page(params: dict[str, str], **ctx: Any) -> HTMLResponse:
        hidden = {k: params.get(k, "") for k in _AUTH_PARAMS}
        html = _PAGE.render(
            client_id=params.get("client_id", ""),
            hidden=hidden,
            errors=ctx.get("errors", {}),
            message=ctx.get("message", ""),
            personal_id=ctx.get("personal_id", ""),
        )
        return HTMLResponse(html, status_code=ctx.get("status", 200), headers=_HEADERS)

    @app.get("/authorize")
    def authorize_page(request: Request) -> Response:
        params = {k: request.query_params.get(k, "") for k in _AUTH_PARAMS}
        problem = _check_request(params)
        if problem:
            return _error_page(problem)
        return _page(params)

    @app.post("/authorize")
    async def authorize(request: Request) -> Response:
        form = await request.form()
        params = {k: str(form.get(k, "")) for k in _AUTH_PARAMS}
        problem = _check_request(params)
        if problem:
            return _error_page(problem)
        back = params["redirect_uri"]
        if form.get("action") == "cancel":
            query = urlencode({"error": "access_denied", "state": params["state"]})
            return RedirectResponse(f"{back}?{query}", status_code=303)
        personal_id = str(form.get("personal_id", "")).strip()
        password = str(form.get("password", ""))
        errors: dict[str, str] = {}
        if not PERSONAL_ID.fullmatch(personal_id):
            errors["personal_id"] = "Số định danh cá nhân gồm đúng 12 chữ số."
        if not password:
            errors["password"] = "Vui lòng nhập mật khẩu hoặc mã OTP."
        if errors:
            return _page(params, errors=errors, personal_id=personal_id[:12], status=400)
        person = people.find(personal_id)
        expected = (person.password or otp) if person else None
        if (
            person is None
            or expected is None
            or not hmac.compare_digest(password.encode(), expected.encode())
        ):
            return _page(
                params,
                message="Số định danh hoặc mật khẩu/mã OTP không đúng.",
                personal_id=personal_id,
                status=401,
            )
        code = secrets.token_urlsafe(32)
        with state.lock:
            state.codes[code] = _Grant(
                person, params["client_id"], back, params["nonce"], params["code_challenge"],
                time.monotonic(), int(time.time()),
            )  # fmt: skip
        query = urlencode({"code": code, "state": params["state"]})
        return RedirectResponse(f"{back}?{query}", status_code=303)

    def _client_auth(request: Request, form: Any) -> RegisteredClient | None:
        header = request.headers.get("authorization", "")
        client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode()
                client_id, secret = decoded.split(":", 1)
            except (ValueError, UnicodeDecodeError):
                return None
        client = registered.get(client_id)
        if client is None or not hmac.compare_digest(secret.encode(), client.secret.encode()):
            return None
        return client

    @app.post("/token")
    async def token(request: Request) -> Response:
        form = await request.form()
        client = _client_auth(request, form)
        if client is None:
            return _oauth_error("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code")
        code = str(form.get("code", ""))
        with state.lock:
            grant = state.codes.pop(code, None)  # one-time, whatever happens next
        if grant is None or time.monotonic() - grant.issued > CODE_TTL:
            return _oauth_error("invalid_grant", "unknown, used or expired code")
        if grant.client_id != client.client_id or grant.redirect_uri != form.get("redirect_uri"):
            return _oauth_error("invalid_grant", "code issued to another client or redirect_uri")
        verifier = str(form.get("code_verifier", ""))
        if not PKCE_VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
            s256(verifier), grant.challenge
        ):
            return _oauth_error("invalid_grant", "PKCE verification failed")
        now = int(time.time())
        person = grant.person
        claims = {
            "iss": issuer_of(request),
            "sub": _pairwise_sub(person.personal_id, client.client_id),
            "aud": client.client_id,
            "iat": now,
            "exp": now + TOKEN_TTL,
            "auth_time": grant.auth_time,
            "nonce": grant.nonce,
            "personal_id": person.personal_id,
            "name": person.full_name,
            "birthdate": person.birthdate,
            "gender": {"M": "male", "F": "female"}.get(person.gender, "unknown"),
        }
        access = secrets.token_urlsafe(32)
        with state.lock:
            state.access[access] = (person, time.monotonic())
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL,
                "id_token": key.sign(claims),
            },
            headers={"cache-control": "no-store", "pragma": "no-cache"},
        )

    @app.get("/userinfo")
    def userinfo(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        with state.lock:
            found = state.access.get(token)
        if found is None or time.monotonic() - found[1] > TOKEN_TTL:
            return _oauth_error("invalid_token", "unknown or expired access token", 401)
        person = found[0]
        return JSONResponse(
            {
                "personal_id": person.personal_id,
                "name": person.full_name,
                "birthdate": person.birthdate,
                "gender": {"M": "male", "F": "female"}.get(person.gender, "unknown"),
            }
        )

    return app


def _pairwise_sub(personal_id: str, client_id: str) -> str:
    """A per-client pseudonymous subject, stable for one citizen and one relying party."""
    return hashlib.sha256(f"vneid|{client_id}|{personal_id}".encode()).hexdigest()[:32]
