"""Staff enrol employers for electronic transactions (``/can-bo/don-vi/``: đăng ký giao dịch
điện tử của đơn vị).

A staff member finds an employer of the register by its unit code or tax code, sees whether it
is enrolled, its keys (with their history) and the state of its sign-in; enrols it with its
Ed25519 public key (base64url, as ``nidb employer enrol`` takes it) and a first password for
its pages — typed by the staff member, or issued by nidb and shown once, never stored in
clear, and to be changed by the employer at its first sign-in; adds a key, revokes one with a reason, sets or issues a new password, lifts a sign-in
lock. Every change goes through ``nidb.employers`` in one transaction with its audit entries.

Roles: ``StaffAction.READ_EMPLOYER_ACCOUNTS`` to look, ``MANAGE_EMPLOYER_ACCOUNTS`` to change.
Area: by the employer's province (``employers.province``); an employer outside the staff
member's area answers 404 as one that does not exist. Employer data is not personal data: no
access-log entry.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from nidb.domain.credentials import minutes_left
from nidb.domain.staff import StaffAction, can
from nidb.employers.accounts import (
    RegisterEntry,
    add_key,
    enrol,
    find_employers,
    get_account,
    register_entry,
    revoke_key,
    set_password,
    unlock,
)
from nidb.employers.errors import EmployerError
from nidb.employers.passwords import check_password, hash_password, new_password
from nidb.web.console.common import page
from nidb.web.console.dashboard_queries import province_name
from nidb.web.console.scope import (
    EmployerAccountManager,
    EmployerAccountReader,
    NotInScope,
    Scope,
    StaffScope,
)
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import StaffPrincipal, engine_of, flash, utcnow

router = web_router("/can-bo/don-vi")

_CODE = re.compile(r"[A-Z0-9]{1,20}")
_KID = re.compile(r"[A-Za-z0-9_-]{1,64}")
REASON_MAX = 400
TYPE_LABELS = {
    "enterprise": "Doanh nghiệp",
    "state": "Cơ quan, đơn vị nhà nước",
    "household_business": "Hộ kinh doanh",
    "cooperative": "Hợp tác xã",
    "other": "Tổ chức khác",
}
PASSWORD_WAYS = {
    "cap": "Cấp mật khẩu ngẫu nhiên (hiện một lần để trao cho đơn vị)",
    "dat": "Tự nhập mật khẩu",
    "khong": "Chưa đặt mật khẩu (đơn vị chỉ nộp hồ sơ qua phần mềm, I-VAN)",
}
KEY_ERRORS = {
    "PUBLIC_KEY_FORMAT": (
        "Khoá công khai không hợp lệ: cần đúng 32 byte khoá Ed25519 mã hoá base64url "
        "(43 ký tự A–Z, a–z, 0–9, - và _). "
        "(Public key must be 32 Ed25519 bytes in base64url.)"
    ),
    "PUBLIC_KEY_REUSED": (
        "Khoá này đã được đăng ký trước đây; một khoá không được đăng ký lại. "
        "(This key was registered before; a key is never registered twice.)"
    ),
}


def _in_scope(request: Request, scope: StaffScope, code: str) -> RegisterEntry:
    """The employer ``code`` if it exists and lies in the staff member's area; else 404."""
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise NotInScope("đơn vị")
    with engine_of(request).connect() as conn:
        entry = register_entry(conn, code)
    if entry is None or not scope.allows(entry.province):
        raise NotInScope("đơn vị")
    return entry


def _employer_page(
    request: Request,
    staff: StaffPrincipal,
    scope: StaffScope,
    entry: RegisterEntry,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    issued_password: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    with engine_of(request).connect() as conn:
        account = get_account(conn, entry.employer_code) if entry.enrolled else None
    return page(
        request, "console/employer_account.html", staff, scope,
        status=status, entry=entry, keys=account.keys if account else (),
        locked_minutes=minutes_left(entry.locked_until, utcnow()),
        can_manage=can(staff.role, StaffAction.MANAGE_EMPLOYER_ACCOUNTS),
        errors=errors or {}, form=form or {"password_way": "cap"},
        issued_password=issued_password, notice=notice, type_labels=TYPE_LABELS,
        password_ways=PASSWORD_WAYS, province_name=province_name, reason_max=REASON_MAX,
    )  # fmt: skip


@router.get("/")
def search(
    request: Request, staff: EmployerAccountReader, scope: Scope, q: str | None = None
) -> HTMLResponse:
    """Find an employer of the area by unit code or tax code."""
    query = (q or "").strip()[:40]
    found: list[RegisterEntry] = []
    if query:
        with engine_of(request).connect() as conn:
            found = [e for e in find_employers(conn, query) if scope.allows(e.province)]
    return page(
        request, "console/employer_search.html", staff, scope,
        query=query, found=found, province_name=province_name,
    )  # fmt: skip


@router.get("/{code}")
def employer(request: Request, code: str, staff: EmployerAccountReader, scope: Scope) -> Response:
    """One employer: the register's facts, its enrolment, keys and sign-in state."""
    entry = _in_scope(request, scope, code)
    if entry.employer_code != code:
        return see_other(f"/can-bo/don-vi/{entry.employer_code}")
    return _employer_page(request, staff, scope, entry)


def _password_choice(
    entry: RegisterEntry, way: str, password: str, again: str, errors: dict[str, str]
) -> str | None:
    """The password to set (typed or issued), None for none; field errors into ``errors``."""
    if way == "cap":
        return new_password()
    if way == "dat":
        try:
            check_password(entry.employer_code, password)
        except EmployerError as error:
            errors["password"] = f"{error.message_vi} ({error.message_en})"
            return None
        if password != again:
            errors["password_again"] = "Hai lần nhập mật khẩu không giống nhau."
        return password
    if way != "khong":
        errors["password_way"] = "Vui lòng chọn cách đặt mật khẩu."
    return None


def _key_error(error: EmployerError) -> str:
    return KEY_ERRORS.get(error.rule, f"{error.message_vi} ({error.message_en})")


@router.post("/{code}/dang-ky")
def enrol_employer(
    request: Request,
    code: str,
    staff: EmployerAccountManager,
    scope: Scope,
    public_key: Annotated[str, Form()] = "",
    password_way: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
) -> Response:
    """Enrol the employer with its first key and, if chosen, a password; one transaction."""
    entry = _in_scope(request, scope, code)
    form = {"public_key": public_key.strip()[:200], "password_way": password_way}
    errors: dict[str, str] = {}
    if not form["public_key"]:
        errors["public_key"] = "Vui lòng dán khoá công khai của đơn vị."
    chosen = _password_choice(entry, password_way, password, password_again, errors)
    if not errors:
        try:
            with engine_of(request).begin() as conn:
                kid = enrol(conn, entry.employer_code, form["public_key"], staff.actor)
                if chosen is not None:
                    set_password(
                        conn, entry.employer_code, hash_password(chosen), staff.actor,
                        must_change=password_way == "cap",
                    )  # fmt: skip
        except EmployerError as error:
            if error.field == "public_key":
                errors["public_key"] = _key_error(error)
            else:  # enrolled meanwhile, or closed: the page as it is now says which
                errors["form"] = f"{error.message_vi[:1].upper()}{error.message_vi[1:]}."
        else:
            entry = _in_scope(request, scope, entry.employer_code)
            message = f"Đơn vị {entry.employer_code} đã đăng ký giao dịch điện tử; khoá {kid}."
            if password_way == "cap":
                return _employer_page(
                    request, staff, scope, entry, issued_password=chosen, notice=message
                )
            flash(request, message, "success")
            return see_other(f"/can-bo/don-vi/{entry.employer_code}")
        entry = _in_scope(request, scope, entry.employer_code)
    return _employer_page(request, staff, scope, entry, status=400, errors=errors, form=form)


@router.post("/{code}/them-khoa")
def add_employer_key(
    request: Request,
    code: str,
    staff: EmployerAccountManager,
    scope: Scope,
    new_key: Annotated[str, Form()] = "",
) -> Response:
    """Register another key of the employer (a renewed certificate)."""
    entry = _in_scope(request, scope, code)
    key = new_key.strip()[:200]
    if not key:
        errors = {"new_key": "Vui lòng dán khoá công khai mới của đơn vị."}
    else:
        try:
            with engine_of(request).begin() as conn:
                kid = add_key(conn, entry.employer_code, key, staff.actor)
        except EmployerError as error:
            errors = {"new_key": _key_error(error)}
        else:
            flash(request, f"Đã thêm khoá {kid} cho đơn vị {entry.employer_code}.", "success")
            return see_other(f"/can-bo/don-vi/{entry.employer_code}")
    return _employer_page(
        request, staff, scope, entry, status=400, errors=errors, form={"new_key": key}
    )


@router.post("/{code}/thu-hoi-khoa")
def revoke_employer_key(
    request: Request,
    code: str,
    staff: EmployerAccountManager,
    scope: Scope,
    kid: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Revoke one key, with a reason: submissions signed with it are refused from now on."""
    entry = _in_scope(request, scope, code)
    reason = " ".join(reason.split())
    errors: dict[str, str] = {}
    if not reason:
        errors[f"reason-{kid[:64]}"] = "Vui lòng ghi lý do thu hồi khoá."
    elif len(reason) > REASON_MAX:
        errors[f"reason-{kid[:64]}"] = f"Lý do tối đa {REASON_MAX} ký tự."
    elif not _KID.fullmatch(kid):
        errors["form"] = "Đơn vị không có khoá đang hiệu lực với mã này."
    else:
        try:
            with engine_of(request).begin() as conn:
                revoke_key(conn, entry.employer_code, kid, staff.actor, reason)
        except EmployerError as error:
            errors["form"] = f"{error.message_vi[:1].upper()}{error.message_vi[1:]}."
        else:
            flash(request, f"Đã thu hồi khoá {kid} của đơn vị {entry.employer_code}.", "success")
            return see_other(f"/can-bo/don-vi/{entry.employer_code}")
    form = {f"reason-{kid[:64]}": reason[:REASON_MAX], "password_way": "cap"}
    return _employer_page(request, staff, scope, entry, status=400, errors=errors, form=form)


@router.post("/{code}/mat-khau")
def set_employer_password(
    request: Request,
    code: str,
    staff: EmployerAccountManager,
    scope: Scope,
    password_way: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
) -> Response:
    """Set a new password (typed, or issued and shown once); it also lifts a sign-in lock."""
    entry = _in_scope(request, scope, code)
    errors: dict[str, str] = {}
    if password_way not in ("cap", "dat"):
        password_way = ""
    chosen = _password_choice(entry, password_way, password, password_again, errors)
    if not errors and chosen is not None:
        try:
            with engine_of(request).begin() as conn:
                set_password(
                    conn, entry.employer_code, hash_password(chosen), staff.actor,
                    must_change=password_way == "cap",
                )  # fmt: skip
        except EmployerError as error:
            errors["form"] = f"{error.message_vi[:1].upper()}{error.message_vi[1:]}."
        else:
            entry = _in_scope(request, scope, entry.employer_code)
            if password_way == "cap":
                notice = f"Đã cấp mật khẩu mới cho đơn vị {entry.employer_code}."
                return _employer_page(
                    request, staff, scope, entry, issued_password=chosen, notice=notice
                )
            flash(request, f"Đã đặt mật khẩu mới cho đơn vị {entry.employer_code}.", "success")
            return see_other(f"/can-bo/don-vi/{entry.employer_code}")
    form = {"password_way": password_way}
    return _employer_page(request, staff, scope, entry, status=400, errors=errors, form=form)


@router.post("/{code}/mo-khoa")
def unlock_employer(
    request: Request, code: str, staff: EmployerAccountManager, scope: Scope
) -> Response:
    """Lift the sign-in lock of the employer's pages."""
    entry = _in_scope(request, scope, code)
    try:
        with engine_of(request).begin() as conn:
            unlock(conn, entry.employer_code, staff.actor)
    except EmployerError as error:
        errors = {"form": f"{error.message_vi[:1].upper()}{error.message_vi[1:]}."}
        return _employer_page(request, staff, scope, entry, status=400, errors=errors)
    flash(request, f"Đã mở khoá đăng nhập của đơn vị {entry.employer_code}.", "success")
    return see_other(f"/can-bo/don-vi/{entry.employer_code}")
