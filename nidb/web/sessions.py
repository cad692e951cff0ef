"""Server-side web sessions (phiên đăng nhập) for citizens and staff.

The browser holds a random value in the ``nidb_session`` cookie (HttpOnly, SameSite=Lax, Secure
when ``NIDB_COOKIE_SECURE``); the table keeps only its SHA-256, so a leaked copy of the table
cannot be replayed. A session ends after an idle time (staff 15 min, citizen 30 min by default)
or, however active, after an absolute lifetime (8 h). Signing in always starts a new session
(no fixation); signing out deletes the row.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Request, Response
from sqlalchemy import Engine, delete, insert, select, update

from nidb.domain.staff import second_factor_required
from nidb.settings import get_settings
from nidb.store.models_web import StaffUser, WebSession

COOKIE = "nidb_session"
Kind = Literal["citizen", "staff", "employer"]
SIGN_IN_PATHS: dict[str, str] = {
    "citizen": "/cong-dan/dang-nhap",
    "staff": "/can-bo/dang-nhap",
    "employer": "/don-vi/dang-nhap",
}
STAFF_CODE_PATH = "/can-bo/ma-xac-thuc"
"""The second step of a staff sign-in: the TOTP or recovery code."""
STAFF_ENROL_PATH = "/can-bo/xac-thuc-hai-buoc"
"""Where a staff member sets up (or sees the state of) their second factor."""
SECOND_FACTOR = "second_factor"
"""The session-data key set once the session has passed (or enrolled) a second factor."""
TOUCH_EVERY = timedelta(seconds=15)  # last_seen_at is written at most this often per session


def utcnow() -> datetime:
    """Now, in UTC (a function so tests can reason about it)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def token_hash(token: str) -> str:
    """The stored form of a cookie value."""
    return hashlib.sha256(token.encode()).hexdigest()


def idle_timeout(kind: str) -> timedelta:
    """How long a session of ``kind`` may sit unused."""
    settings = get_settings()
    minutes = settings.citizen_idle_minutes if kind == "citizen" else settings.staff_idle_minutes
    return timedelta(minutes=minutes)


@dataclass
class SessionInfo:
    """The signed-in session of this request."""

    id: int
    kind: str
    subject: str
    data: dict[str, Any]
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    flashes: list[dict[str, str]] = field(default_factory=list)


class SignInRequired(Exception):
    """Raised by ``current_citizen``/``current_staff``: answered with a redirect to sign-in."""

    def __init__(self, kind: str, next_path: str, expired: bool) -> None:
        super().__init__(kind)
        self.kind = kind
        self.next_path = next_path
        self.expired = expired

    def location(self) -> str:
        """Where the browser goes: the sign-in page of ``kind``, remembering where it was."""
        query = f"?next={quote(self.next_path, safe='/')}"
        if self.expired:
            query += "&het_han=1"
        return SIGN_IN_PATHS[self.kind] + query


class SecondFactorRequired(SignInRequired):
    """A staff session past the password but not past the second factor (or an account that
    must enrol first): answered with a redirect to the code or the enrolment page."""

    def __init__(self, page: str, next_path: str) -> None:
        super().__init__("staff", next_path, False)
        self.page = page

    def location(self) -> str:
        """The code or enrolment page, remembering where the browser was going."""
        return f"{self.page}?next={quote(self.next_path, safe='/')}"


EMPLOYER_PASSWORD_PATH = "/don-vi/doi-mat-khau"
MUST_CHANGE_PASSWORD = "must_change_password"
"""Session data key: the employer signed in with a password staff issued, to be changed first."""


class PasswordChangeRequired(SignInRequired):
    """An employer session opened with a password staff issued: answered with a redirect to
    the change-password page, which alone it reaches until the password is changed."""

    def __init__(self, next_path: str) -> None:
        super().__init__("employer", next_path, False)

    def location(self) -> str:
        """The change-password page, remembering where the browser was going."""
        return f"{EMPLOYER_PASSWORD_PATH}?next={quote(self.next_path, safe='/')}"


class Forbidden(Exception):
    """A signed-in staff member asked for something their role or scope does not allow."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


def engine_of(request: Request) -> Engine:
    """The register's engine behind this app."""
    return request.app.state.engine  # type: ignore[no-any-return]


def safe_next(raw: str | None, default: str) -> str:
    """A local path to return to after sign-in; anything else (other hosts, ``//x``) → default."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return default
    return raw


def _set_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
        path="/",
    )


def open_session(
    engine: Engine,
    kind: Kind,
    subject: str,
    data: dict[str, Any] | None = None,
    *,
    replacing: str | None = None,
) -> tuple[str, SessionInfo]:
    """Create a session row and return the cookie value to give the browser, and the session.

    The HTTP-free half of ``start_session``: benchmarks and tests use it to sign someone in
    without going through a sign-in form. ``replacing`` is an old cookie value whose session
    ends in the same transaction.
    """
    now = utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=get_settings().session_max_hours)
    with engine.begin() as conn:
        if replacing:
            conn.execute(delete(WebSession).where(WebSession.token_hash == token_hash(replacing)))
        # sessions past their absolute lifetime that nobody came back to (indexed, usually none)
        conn.execute(delete(WebSession).where(WebSession.expires_at < now))
        new_id = conn.execute(
            insert(WebSession).values(
                token_hash=token_hash(token),
                kind=kind,
                subject=subject,
                data=dict(data or {}),
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        ).inserted_primary_key
    assert new_id is not None
    return token, SessionInfo(int(new_id[0]), kind, subject, dict(data or {}), csrf, now, expires)


def start_session(
    request: Request,
    response: Response,
    kind: Kind,
    subject: str,
    data: dict[str, Any] | None = None,
) -> SessionInfo:
    """Sign ``subject`` in: end any session the browser had, create a new one, set the cookie."""
    token, info = open_session(
        engine_of(request), kind, subject, data, replacing=request.cookies.get(COOKIE)
    )
    _set_cookie(response, token)
    request.state.web_session = info
    request.state.web_session_loaded = True
    return info


def end_session(request: Request, response: Response) -> None:
    """Sign out: delete the session row and the cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        with engine_of(request).begin() as conn:
            conn.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
    response.delete_cookie(COOKIE, path="/")
    request.state.web_session = None
    request.state.web_session_loaded = True


def load_session(request: Request) -> SessionInfo | None:
    """The live session of this request's cookie, or None (absent, unknown, idle or too old).

    An expired session is deleted on sight and remembered on ``request.state.session_expired``
    so the sign-in page can say why the user must sign in again.
    """
    if getattr(request.state, "web_session_loaded", False):
        return request.state.web_session  # type: ignore[no-any-return]
    request.state.web_session_loaded = True
    request.state.web_session = None
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    engine = engine_of(request)
    with engine.connect() as conn:
        row = conn.execute(
            select(WebSession).where(WebSession.token_hash == token_hash(token))
        ).one_or_none()
    if row is None:
        return None
    now = utcnow()
    last_seen = as_utc(row.last_seen_at)
    if now >= as_utc(row.expires_at) or now >= last_seen + idle_timeout(row.kind):
        with engine.begin() as conn:
            conn.execute(delete(WebSession).where(WebSession.id == row.id))
        request.state.session_expired = row.kind
        return None
    if now - last_seen >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(update(WebSession).where(WebSession.id == row.id).values(last_seen_at=now))
    data = dict(row.data or {})
    flashes = data.pop("_flash", [])
    if flashes:  # shown once: taken out of the stored data now, rendered by this request
        with engine.begin() as conn:
            conn.execute(update(WebSession).where(WebSession.id == row.id).values(data=data))
    info = SessionInfo(
        row.id, row.kind, row.subject, data, row.csrf_token, as_utc(row.created_at),
        as_utc(row.expires_at), list(flashes),
    )  # fmt: skip
    request.state.web_session = info
    return info


def flash(request: Request, message: str, level: str = "info") -> None:
    """Show ``message`` on the next page this session renders (after a redirect)."""
    info = load_session(request)
    if info is None:
        return
    with engine_of(request).begin() as conn:
        row = conn.execute(
            select(WebSession.data).where(WebSession.id == info.id)
        ).scalar_one_or_none()
        data: dict[str, Any] = dict(row or {})
        data["_flash"] = [*list(data.get("_flash") or []), {"level": level, "message": message}]
        conn.execute(update(WebSession).where(WebSession.id == info.id).values(data=data))


def update_session_data(request: Request, **changes: Any) -> None:
    """Merge ``changes`` into the session's stored data."""
    info = load_session(request)
    if info is None:
        return
    info.data.update(changes)
    with engine_of(request).begin() as conn:
        conn.execute(update(WebSession).where(WebSession.id == info.id).values(data=info.data))


def _require(request: Request, kind: Kind) -> SessionInfo:
    info = load_session(request)
    if info is None or info.kind != kind:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            path = SIGN_IN_PATHS[kind].rsplit("/", 1)[0] + "/"
        expired = getattr(request.state, "session_expired", None) == kind
        raise SignInRequired(kind, path, expired)
    return info


@dataclass(frozen=True)
class CitizenPrincipal:
    """A citizen signed in through VNeID: their verified personal ID (số định danh cá nhân)."""

    personal_id: str
    full_name: str
    session: SessionInfo


@dataclass(frozen=True)
class StaffPrincipal:
    """A signed-in staff member (cán bộ), as the ``staff_users`` table says now."""

    id: int
    username: str
    full_name: str
    role: str
    scope_level: str
    province_code: str | None
    district_code: str | None
    session: SessionInfo
    second_factor_enrolled: bool = False

    @property
    def actor(self) -> str:
        """The name this staff member acts under in the audit log."""
        return f"staff:{self.username}"


def current_citizen(request: Request) -> CitizenPrincipal:
    """FastAPI dependency: the signed-in citizen, or a redirect to ``/cong-dan/dang-nhap``."""
    info = _require(request, "citizen")
    return CitizenPrincipal(info.subject, str(info.data.get("full_name", "")), info)


@dataclass(frozen=True)
class EmployerPrincipal:
    """An employer signed in to its pages (/don-vi/) with the password staff set at enrolment."""

    employer_code: str
    name: str
    session: SessionInfo

    @property
    def actor(self) -> str:
        """The name this employer acts under in the audit log."""
        return f"employer-web:{self.employer_code}"


def current_employer(request: Request) -> EmployerPrincipal:
    """FastAPI dependency: the signed-in employer, or a redirect to ``/don-vi/dang-nhap`` (or,
    while an issued password is still to be changed, to ``/don-vi/doi-mat-khau``)."""
    info = _require(request, "employer")
    if info.data.get(MUST_CHANGE_PASSWORD) and request.url.path != EMPLOYER_PASSWORD_PATH:
        path = request.url.path if request.method == "GET" else "/don-vi/"
        raise PasswordChangeRequired(path)
    return EmployerPrincipal(info.subject, str(info.data.get("name", "")), info)


def must_use_second_factor(role: str) -> bool:
    """Whether a staff member of ``role`` must enrol a second factor: admins and approvers
    always, every role under ``NIDB_STAFF_TOTP_REQUIRED_FOR_ALL``."""
    return second_factor_required(role, everyone=get_settings().staff_totp_required_for_all)


def signed_in_staff(request: Request) -> tuple[SessionInfo, StaffUser]:
    """The staff session and its still active account, whether or not the session has passed
    the second factor (only the code and enrolment pages use this directly)."""
    info = _require(request, "staff")
    with engine_of(request).connect() as conn:
        user = conn.execute(
            select(StaffUser).where(StaffUser.username == info.subject)
        ).one_or_none()
    if user is None or not user.active:
        with engine_of(request).begin() as conn:
            conn.execute(delete(WebSession).where(WebSession.id == info.id))
        raise SignInRequired("staff", "/can-bo/", False)
    return info, user  # type: ignore[return-value]


def current_staff(request: Request) -> StaffPrincipal:
    """FastAPI dependency: the signed-in, still active staff member, or a redirect to
    ``/can-bo/dang-nhap`` (a disabled account loses its sessions at the next request).

    A session that has not passed the second factor reaches no page: an enrolled account is
    sent to the code page, an admin or approver without one to the enrolment page.
    """
    info, user = signed_in_staff(request)
    if not info.data.get(SECOND_FACTOR):
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            path = "/can-bo/"
        if user.totp_enrolled_at is not None:
            raise SecondFactorRequired(STAFF_CODE_PATH, path)
        if must_use_second_factor(user.role):
            raise SecondFactorRequired(STAFF_ENROL_PATH, path)
    return StaffPrincipal(
        user.id, user.username, user.full_name, user.role, user.scope_level,
        user.province_code, user.district_code, info, user.totp_enrolled_at is not None,
    )  # fmt: skip


def require_role(*roles: str) -> Any:
    """A dependency factory: the signed-in staff member, if their role is one of ``roles``."""
    from fastapi import Depends

    def dependency(staff: StaffPrincipal = Depends(current_staff)) -> StaffPrincipal:  # noqa: B008
        if staff.role not in roles:
            raise Forbidden(
                "Tài khoản của bạn không có quyền thực hiện chức năng này.",
                f"role {staff.role} may not do this (needs one of {', '.join(roles)})",
            )
        return staff

    return dependency


def purge_expired(engine: Engine) -> int:
    """Delete sessions past their absolute lifetime (idle ones go when next seen)."""
    with engine.begin() as conn:
        result = conn.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    return int(result.rowcount or 0)
