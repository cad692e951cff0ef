"""The second step of a staff sign-in (``/can-bo/ma-xac-thuc``) and the enrolment page
(``/can-bo/xac-thuc-hai-buoc``): the QR code and the secret in groups of 4, the first code,
then the ten recovery codes, shown once.

Both pages take a session past the password but not yet past the second factor; every other
staff page refuses such a session (``nidb.web.sessions.current_staff``). Passing the second
factor starts a new session (a new cookie), so a session id seen before is worth nothing after.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import segno
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from nidb.store.models_web import StaffUser
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import (
    SECOND_FACTOR,
    STAFF_CODE_PATH,
    STAFF_ENROL_PATH,
    end_session,
    engine_of,
    flash,
    must_use_second_factor,
    safe_next,
    signed_in_staff,
    start_session,
)
from nidb.web.staff_totp import (
    RECOVERY_CODES,
    CodeOutcome,
    begin_enrolment,
    check_code,
    confirm_enrolment,
    recovery_codes_left,
)
from nidb.web.templating import render

router = web_router("/can-bo")

CODE_MAX = 40  # a 6-digit code or an 11-character recovery code, with some spaces


def _with_next(page: str, next_path: str) -> str:
    return f"{page}?next={quote(next_path, safe='/')}"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code, made here (segno, as the e-card's)."""
    svg = segno.make(uri, error="m", micro=False).svg_inline(
        scale=4, border=4, omitsize=True, dark="#000", light="#fff",
        title="Mã QR để thêm tài khoản vào ứng dụng xác thực",
    )  # fmt: skip
    return svg.replace(
        "<svg ", '<svg role="img" aria-label="Mã QR để thêm tài khoản vào ứng dụng xác thực" ', 1
    )


# --- the code after the password ----------------------------------------------------------------


def _code_page(request: Request, next_path: str, *, status: int = 200, **ctx: Any) -> HTMLResponse:
    return render(
        request, "can-bo/ma-xac-thuc.html", status=status, next=next_path,
        errors=ctx.pop("errors", {}), message=ctx.pop("message", ""), **ctx,
    )  # fmt: skip


@router.get("/ma-xac-thuc")
def code_form(request: Request, next: str | None = None) -> Response:
    """Ask for the authenticator's code (or a recovery code) after the password."""
    info, user = signed_in_staff(request)
    next_path = safe_next(next, "/can-bo/")
    if info.data.get(SECOND_FACTOR) or user.totp_enrolled_at is None:
        return see_other(next_path)  # nothing to ask: the gate decides what comes next
    return _code_page(request, next_path, full_name=user.full_name)


@router.post("/ma-xac-thuc")
def code_submit(
    request: Request,
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/can-bo/",
) -> Response:
    """Check the code; right: a new, fully signed-in session; wrong: say so (5 wrong: locked)."""
    info, user = signed_in_staff(request)
    next_path = safe_next(next, "/can-bo/")
    if info.data.get(SECOND_FACTOR) or user.totp_enrolled_at is None:
        return see_other(next_path)
    if not code.strip() or len(code) > CODE_MAX:
        error = "Vui lòng nhập mã gồm 6 chữ số trong ứng dụng xác thực, hoặc một mã khôi phục."
        return _code_page(
            request, next_path, status=400, errors={"code": error}, full_name=user.full_name
        )
    result = check_code(engine_of(request), user.username, code, _client(request))
    if result.outcome is CodeOutcome.OK:
        signed_in = see_other(next_path)
        start_session(request, signed_in, "staff", user.username, {SECOND_FACTOR: result.via})
        if result.via == "recovery_code":
            _flash_recovery(request, recovery_codes_left(engine_of(request), user.username))
        return signed_in
    if result.outcome is CodeOutcome.LOCKED:
        response = _code_page(
            request, next_path, status=401, locked=True, full_name=user.full_name,
            message="Tài khoản tạm thời bị khóa do nhập sai nhiều lần. "
            f"Vui lòng đăng nhập lại sau {result.locked_minutes} phút.",
        )  # fmt: skip
        end_session(request, response)
        return response
    if result.outcome is CodeOutcome.REPLAYED:
        message = "Mã này vừa được dùng. Vui lòng chờ ứng dụng hiện mã mới rồi nhập lại."
    else:
        message = "Mã xác thực không đúng. Vui lòng kiểm tra lại giờ trên điện thoại và nhập lại."
    return _code_page(request, next_path, status=401, message=message, full_name=user.full_name)


def _flash_recovery(request: Request, left: int) -> None:
    message = f"Bạn đã đăng nhập bằng mã khôi phục. Còn {left} mã chưa dùng."
    if left <= 3:
        message += " Hãy đề nghị quản trị hệ thống đặt lại xác thực hai bước để nhận mã mới."
    flash(request, message, "warning")  # into the session just started


# --- enrolment ----------------------------------------------------------------------------------


def _enrol_page(
    request: Request, user: StaffUser, next_path: str, *, status: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    enrolment = begin_enrolment(engine_of(request), user.username)
    assert enrolment is not None  # the callers checked the account has no factor yet
    return render(
        request,
        "can-bo/xac-thuc-hai-buoc.html",
        status=status,
        next=next_path,
        full_name=user.full_name,
        username=user.username,
        qr=qr_svg(enrolment.uri),
        secret_grouped=enrolment.grouped,
        required=must_use_second_factor(user.role),
        errors=errors or {},
    )


@router.get("/xac-thuc-hai-buoc")
def enrol_form(request: Request, next: str | None = None) -> Response:
    """Set up the second factor (or, once set up, say so: its secret is never shown again)."""
    info, user = signed_in_staff(request)
    next_path = safe_next(next, "/can-bo/")
    if user.totp_enrolled_at is not None:
        if not info.data.get(SECOND_FACTOR):
            return see_other(_with_next(STAFF_CODE_PATH, next_path))
        return render(
            request, "can-bo/xac-thuc-da-bat.html", full_name=user.full_name,
            enrolled_at=user.totp_enrolled_at,
            codes_left=recovery_codes_left(engine_of(request), user.username),
        )  # fmt: skip
    return _enrol_page(request, user, next_path)


@router.post("/xac-thuc-hai-buoc")
def enrol_confirm(
    request: Request,
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/can-bo/",
) -> Response:
    """Check the first code; right: the factor is in force and the recovery codes are shown."""
    _, user = signed_in_staff(request)
    next_path = safe_next(next, "/can-bo/")
    if user.totp_enrolled_at is not None:
        return see_other(_with_next(STAFF_ENROL_PATH, next_path))
    codes = (
        confirm_enrolment(engine_of(request), user.username, code, _client(request))
        if len(code) <= CODE_MAX
        else None
    )
    if codes is None:
        error = (
            "Mã không đúng. Hãy nhập mã 6 chữ số đang hiện trong ứng dụng xác thực "
            "sau khi đã quét mã QR hoặc nhập khóa."
        )
        return _enrol_page(request, user, next_path, status=400, errors={"code": error})
    response = render(
        request, "can-bo/ma-khoi-phuc.html", next=next_path, codes=codes,
        count=RECOVERY_CODES, full_name=user.full_name,
    )  # fmt: skip
    start_session(request, response, "staff", user.username, {SECOND_FACTOR: "enrolment"})
    return response
