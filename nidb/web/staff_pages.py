"""Staff sign-in, sign-out and the bare staff home (``/can-bo/``); the console builds on it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from nidb.domain.credentials import locked_message
from nidb.domain.staff import StaffRole
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import (
    STAFF_CODE_PATH,
    STAFF_ENROL_PATH,
    StaffPrincipal,
    current_staff,
    end_session,
    engine_of,
    load_session,
    safe_next,
    start_session,
)
from nidb.web.staff_users import SignInOutcome, authenticate
from nidb.web.templating import render

router = web_router("/can-bo")

ROLE_LABELS = {role.value: role.label for role in StaffRole}
StaffDep = Annotated[StaffPrincipal, Depends(current_staff)]


def scope_label(staff: StaffPrincipal) -> str:
    """The staff member's area in words."""
    if staff.scope_level == "central":
        return "Toàn quốc (trung ương)"
    if staff.scope_level == "province":
        return f"Tỉnh/thành phố mã {staff.province_code}"
    return f"Quận/huyện mã {staff.district_code} (tỉnh {staff.province_code})"


def _sign_in_page(
    request: Request,
    *,
    status: int = 200,
    next_path: str = "/can-bo/",
    username: str = "",
    errors: dict[str, str] | None = None,
    message: str = "",
) -> HTMLResponse:
    return render(
        request,
        "can-bo/dang-nhap.html",
        status=status,
        next=next_path,
        username=username,
        errors=errors or {},
        message=message,
        expired=request.query_params.get("het_han") == "1",
        signed_out=request.query_params.get("da_dang_xuat") == "1",
    )


@router.get("/dang-nhap")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (already signed in: straight on)."""
    info = load_session(request)
    if info is not None and info.kind == "staff":
        return see_other(safe_next(next, "/can-bo/"))
    return _sign_in_page(request, next_path=safe_next(next, "/can-bo/"))


@router.post("/dang-nhap")
def sign_in(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/can-bo/",
) -> Response:
    """Check the password (argon2id, lockout after 5 failures), then start a staff session;
    with a second factor, that session reaches only the code page until the code is right."""
    next_path = safe_next(next, "/can-bo/")
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Vui lòng nhập tên đăng nhập."
    if not password:
        errors["password"] = "Vui lòng nhập mật khẩu."
    if len(password) > 256:
        errors["password"] = "Mật khẩu quá dài."
    if errors:
        return _sign_in_page(
            request, status=400, next_path=next_path, username=username[:64], errors=errors
        )
    client = request.client.host if request.client else "unknown"
    result = authenticate(engine_of(request), username, password, client)
    if result.outcome in (SignInOutcome.OK, SignInOutcome.CODE_NEEDED):
        # past the password only: the gate in current_staff lets this session reach nothing
        # but the code page (or, for an admin or approver without a second factor, enrolment)
        if result.outcome is SignInOutcome.CODE_NEEDED:
            location = f"{STAFF_CODE_PATH}?next={quote(next_path, safe='/')}"
        elif result.must_enrol:
            location = f"{STAFF_ENROL_PATH}?next={quote(next_path, safe='/')}"
        else:
            location = next_path
        response = see_other(location)
        start_session(request, response, "staff", result.username)
        return response
    if result.outcome is SignInOutcome.LOCKED:
        message = locked_message(result.locked_minutes)
    else:
        message = "Tên đăng nhập hoặc mật khẩu không đúng."
    return _sign_in_page(
        request, status=401, next_path=next_path, username=username[:64], message=message
    )


@router.post("/dang-xuat")
def sign_out(request: Request) -> Response:
    """End the staff session."""
    response = see_other("/can-bo/dang-nhap?da_dang_xuat=1")
    end_session(request, response)
    return response
