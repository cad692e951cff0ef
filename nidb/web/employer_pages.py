"""Pages for small employers under ``/don-vi/`` (Vietnamese): sign-in, workers, declaring an
increase, a decrease or a salary change, uploading a worker list with its per-row errors, and
the declarations with their status.

Sign-in: the employer's code and the password staff set at enrolment (the console's
``/can-bo/don-vi/`` or ``nidb employer enrol CODE --public-key … --password-stdin``), hashed
with argon2id and locked after five wrong attempts as staff passwords are
(``nidb.employers.passwords``); a session of kind ``employer`` (CSRF on every form, the staff
idle timeout).
The pages only parse forms and call ``nidb.employers``: a declaration made here is the same
declaration as one sent through the signed API, under a number the form carries (sending the
same form twice changes nothing; a refused one is corrected and sent again under its number).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from nidb.domain.credentials import locked_message
from nidb.employers.checks import DECREASE_REASONS
from nidb.employers.declarations import submit
from nidb.employers.errors import EmployerError
from nidb.employers.passwords import SignInOutcome
from nidb.employers.passwords import change_password as change_employer_password
from nidb.employers.passwords import sign_in as check_sign_in
from nidb.employers.queries import declaration, recent_declarations, workers
from nidb.employers.upload import upload_workers
from nidb.services.workdays import today_vn
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import (
    EMPLOYER_PASSWORD_PATH,
    MUST_CHANGE_PASSWORD,
    EmployerPrincipal,
    current_employer,
    end_session,
    engine_of,
    flash,
    load_session,
    start_session,
    update_session_data,
)
from nidb.web.templating import env, render

router = web_router("/don-vi")
EmployerDep = Annotated[EmployerPrincipal, Depends(current_employer)]
MAX_LIST_BYTES = 2 * 1024 * 1024

KIND_LABELS = {
    "register_unit": "Đăng ký thông tin đơn vị",
    "increase": "Báo tăng lao động",
    "decrease": "Báo giảm lao động",
    "salary_change": "Điều chỉnh tiền lương",
    "correction": "Điều chỉnh thông tin người lao động",
}
STATUS_LABELS = {"applied": "Đã chấp nhận", "refused": "Bị từ chối"}
CARD_LABELS = {"active": "Còn hiệu lực", "revoked": "Đã thu hồi", "suspended": "Tạm dừng"}
CONTRACT_LABELS = {
    "indefinite": "Không xác định thời hạn",
    "fixed_term": "Xác định thời hạn",
    "short_term": "Dưới 12 tháng",
    "manager": "Người quản lý doanh nghiệp",
    "other": "Khác",
}
FIELD_LABELS = {
    "personal_id": "Số định danh cá nhân",
    "full_name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "wage": "Tiền lương đóng BHXH",
    "position": "Chức danh",
    "contract_type": "Loại hợp đồng",
    "full_time": "Toàn thời gian",
    "facility_code": "Nơi đăng ký khám chữa bệnh ban đầu",
    "month": "Từ tháng",
    "schemes": "Chế độ tham gia",
    "reason": "Lý do giảm",
    "kind": "Loại khai báo",
    "bhxh_code": "Mã số BHXH",
}
_MONTH_VI = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{4})\s*$")


def _vn_month(value: Any) -> str:
    """A first-of-month date as mm/yyyy."""
    return "" if value is None else f"{value:%m/%Y}"


env.filters["vn_month"] = _vn_month
env.globals["employer_labels"] = {
    "kinds": KIND_LABELS,
    "statuses": STATUS_LABELS,
    "cards": CARD_LABELS,
    "contracts": CONTRACT_LABELS,
    "fields": FIELD_LABELS,
    "reasons": DECREASE_REASONS,
}


def error_text(error: dict[str, Any]) -> str:
    """A row error as one Vietnamese sentence for the pages."""
    if error["rule"] == "MONTH_FORMAT":
        return "Tháng phải có dạng tháng/năm, ví dụ 11/2026."
    text = str(error["message_vi"])
    return text[:1].upper() + text[1:] + "."


def _month(raw: str) -> str:
    """mm/yyyy as typed on the page → YYYY-MM for the declaration (anything else as typed)."""
    match = _MONTH_VI.fullmatch(raw)
    return f"{match[2]}-{int(match[1]):02d}" if match else raw.strip()


def _wage(raw: str) -> str | int:
    digits = raw.replace(".", "").replace(" ", "").replace("đồng", "").replace("₫", "")
    return int(digits) if digits.isdigit() else raw


def _number() -> str:
    return "WEB-" + secrets.token_hex(5).upper()


# --- sign-in ---------------------------------------------------------------------------------


def _sign_in_page(
    request: Request, status: int = 200, code: str = "", message: str = ""
) -> HTMLResponse:
    return render(
        request,
        "don-vi/dang-nhap.html",
        status=status,
        code=code,
        message=message,
        signed_out=request.query_params.get("da_dang_xuat") == "1",
        expired=request.query_params.get("het_han") == "1",
    )


@router.get("/dang-nhap")
def sign_in_form(request: Request) -> Response:
    """The employer's sign-in form."""
    info = load_session(request)
    if info is not None and info.kind == "employer":
        return see_other("/don-vi/")
    return _sign_in_page(request)


@router.post("/dang-nhap")
def sign_in(
    request: Request,
    employer_code: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Check the employer's password (argon2id, lockout after 5 failures), then start an
    employer session."""
    code = employer_code.strip().upper()[:20]
    if not code or not password:
        return _sign_in_page(request, 400, code, "Vui lòng nhập mã đơn vị và mật khẩu.")
    client = request.client.host if request.client else "unknown"
    result = check_sign_in(engine_of(request), code, password, client)
    if result.outcome is SignInOutcome.OK:
        data: dict[str, Any] = {"name": result.name}
        if result.must_change:
            data[MUST_CHANGE_PASSWORD] = True
        response = see_other(EMPLOYER_PASSWORD_PATH if result.must_change else "/don-vi/")
        start_session(request, response, "employer", result.employer_code, data)
        return response
    if result.outcome is SignInOutcome.LOCKED:
        message = locked_message(result.locked_minutes)
    else:
        message = "Mã đơn vị hoặc mật khẩu không đúng."
    return _sign_in_page(request, 401, code, message)


def _password_page(
    request: Request,
    employer: EmployerPrincipal,
    status: int = 200,
    errors: dict[str, str] | None = None,
    message: str = "",
) -> HTMLResponse:
    return render(
        request, "don-vi/doi-mat-khau.html", status=status, employer=employer,
        must_change=bool(employer.session.data.get(MUST_CHANGE_PASSWORD)),
        errors=errors or {}, message=message, active_nav="password",
    )  # fmt: skip


@router.get("/doi-mat-khau")
def password_form(request: Request, employer: EmployerDep) -> HTMLResponse:
    """The change-password form (the only page of a session opened with an issued password)."""
    return _password_page(request, employer)


@router.post("/doi-mat-khau")
def change_password(
    request: Request,
    employer: EmployerDep,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    new_password_again: Annotated[str, Form()] = "",
) -> Response:
    """Replace the password: the current one checked under the lockout rule, the new one
    against the policy; then the pages open."""
    errors: dict[str, str] = {}
    if not current_password:
        errors["current_password"] = "Vui lòng nhập mật khẩu hiện tại."
    if new_password != new_password_again:
        errors["new_password_again"] = "Hai lần nhập mật khẩu mới không giống nhau."
    if errors:
        return _password_page(request, employer, 400, errors)
    client = request.client.host if request.client else "unknown"
    try:
        result = change_employer_password(
            engine_of(request), employer.employer_code, current_password, new_password, client
        )
    except EmployerError as error:
        return _password_page(request, employer, 400, {"new_password": error.message_vi})
    if result.outcome is SignInOutcome.LOCKED:
        response = see_other("/don-vi/dang-nhap")
        end_session(request, response)  # locked: this session ends too
        return response
    if result.outcome is not SignInOutcome.OK:
        errors["current_password"] = "Mật khẩu hiện tại không đúng."
        return _password_page(request, employer, 400, errors)
    update_session_data(request, **{MUST_CHANGE_PASSWORD: False})
    flash(request, "Đã đổi mật khẩu.", "success")
    return see_other("/don-vi/")


@router.post("/dang-xuat")
def sign_out(request: Request) -> Response:
    """End the employer's session."""
    response = see_other("/don-vi/dang-nhap?da_dang_xuat=1")
    end_session(request, response)
    return response


# --- workers and declarations ----------------------------------------------------------------


@router.get("/")
def home(request: Request, employer: EmployerDep) -> HTMLResponse:
    """The employer's workers: each one's latest declared run."""
    with engine_of(request).connect() as conn:
        rows = workers(conn, employer.employer_code)
    return render(
        request, "don-vi/home.html", employer=employer, workers=rows, today=today_vn(),
        active_nav="home",
    )  # fmt: skip


@router.get("/ho-so")
def declarations(request: Request, employer: EmployerDep) -> HTMLResponse:
    """The employer's declarations and their status."""
    with engine_of(request).connect() as conn:
        rows = recent_declarations(conn, employer.employer_code)
    for row in rows:
        row["messages"] = [(e["row"], error_text(e)) for e in row["errors"] or []]
    return render(
        request, "don-vi/ho-so.html", employer=employer, declarations=rows, active_nav="records"
    )


FORMS = {
    "bao-tang": ("increase", "Báo tăng lao động", "increase"),
    "bao-giam": ("decrease", "Báo giảm lao động", "decrease"),
    "dieu-chinh-luong": ("salary_change", "Điều chỉnh tiền lương", "salary"),
}


def _form_page(
    request: Request,
    employer: EmployerPrincipal,
    slug: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    kind, title, nav = FORMS[slug]
    running: list[dict[str, Any]] = []
    if kind != "increase":
        with engine_of(request).connect() as conn:
            running = [w for w in workers(conn, employer.employer_code) if w["to_month"] is None]
    return render(
        request,
        "don-vi/khai-bao.html",
        status=status,
        employer=employer,
        slug=slug,
        kind=kind,
        title=title,
        values=values,
        errors=errors,
        running=running,
        active_nav=nav,
    )


def _errors_of(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Row errors as the form shows them: by field, the first of each; others for the form."""
    shown: dict[str, str] = {}
    for error in errors:
        name = error["field"] if error["field"] in FIELD_LABELS else "form"
        shown.setdefault(name, error_text(error))
    return shown


def _values_of(refused: dict[str, Any]) -> dict[str, str]:
    """A refused one-worker declaration as the form's values (months and salary as typed)."""
    body = refused["body"] if isinstance(refused["body"], dict) else {}
    rows = body.get("workers")
    worker = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
    values = {
        k: "" if v is None else str(v)
        for k, v in worker.items()
        if k in FIELD_LABELS and not isinstance(v, dict | list)
    }
    values["full_time"] = "1" if worker.get("full_time", True) is True else ""
    month = str(body.get("month") or "")
    iso = re.fullmatch(r"(\d{4})-(\d{2})", month)
    values["month"] = f"{iso[2]}/{iso[1]}" if iso else month
    values["declaration_no"] = str(refused["declaration_no"])
    return values


def _form_route(slug: str) -> None:
    kind = FORMS[slug][0]

    def show(request: Request, employer: EmployerDep, so: str | None = None) -> HTMLResponse:
        values = {"declaration_no": _number(), "full_time": "1", "contract_type": "indefinite"}
        errors: dict[str, str] = {}
        if so:  # correct a refused declaration: its values and errors, under its own number
            with engine_of(request).connect() as conn:
                refused = declaration(conn, employer.employer_code, so[:40])
            if refused and refused["status"] == "refused" and refused["kind"] == kind:
                values = _values_of(refused)
                errors = _errors_of(refused["errors"] or [])
        return _form_page(request, employer, slug, values, errors)

    async def send(request: Request, employer: EmployerDep) -> Response:
        form = await request.form()
        values = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
        values.setdefault("declaration_no", _number())
        worker: dict[str, Any] = {"personal_id": values.get("personal_id", "")}
        if kind == "increase":
            worker.update(
                full_name=values.get("full_name", ""),
                date_of_birth=values.get("date_of_birth", ""),
                wage=_wage(values.get("wage", "")),
                position=values.get("position") or None,
                contract_type=values.get("contract_type", "indefinite"),
                full_time=values.get("full_time") == "1",
                facility_code=values.get("facility_code", ""),
            )
            if worker["position"] is None:
                del worker["position"]
        elif kind == "decrease":
            worker["reason"] = values.get("reason", "")
        else:
            worker["wage"] = _wage(values.get("wage", ""))
        body = {
            "declaration_no": values["declaration_no"],
            "kind": kind,
            "month": _month(values.get("month", "")),
            "workers": [worker],
        }
        with engine_of(request).begin() as conn:
            outcome = submit(
                conn, employer.employer_code, body, actor=employer.actor, channel="web"
            )
        if outcome.status == "applied":
            flash(
                request,
                f"{FORMS[slug][1]}: hồ sơ số {outcome.declaration_no} đã được chấp nhận.",
                "success",
            )
            return see_other("/don-vi/ho-so")
        return _form_page(request, employer, slug, values, _errors_of(outcome.errors), status=422)

    router.add_api_route(f"/{slug}", show, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"/{slug}", send, methods=["POST"])


for _slug in FORMS:
    _form_route(_slug)


@router.get("/nop-danh-sach")
def upload_form(request: Request, employer: EmployerDep) -> HTMLResponse:
    """The worker-list upload form."""
    return render(
        request,
        "don-vi/nop-danh-sach.html",
        employer=employer,
        number=_number(),
        result=None,
        errors={},
        active_nav="upload",
    )


@router.post("/nop-danh-sach")
async def upload(request: Request, employer: EmployerDep) -> HTMLResponse:
    """Declare every row of the list; show what became of each row."""
    form = await request.form()
    number = str(form.get("number") or _number())
    item = form.get("danh_sach")
    errors: dict[str, str] = {}
    result = None
    if not isinstance(item, UploadFile) or not item.filename:
        errors["danh_sach"] = "Vui lòng chọn tệp danh sách lao động (CSV)."
    else:
        data = await item.read(MAX_LIST_BYTES + 1)
        if len(data) > MAX_LIST_BYTES:
            errors["danh_sach"] = "Tệp lớn hơn 2 MB."
        else:
            try:
                result = upload_workers(
                    engine_of(request),
                    employer.employer_code,
                    number,
                    data,
                    actor=employer.actor,
                    channel="web",
                )
            except EmployerError as error:
                errors["danh_sach"] = error.message_vi[:1].upper() + error.message_vi[1:] + "."
    messages = (
        [
            (e["row"], FIELD_LABELS.get(e["field"], "Dòng"), e["value"], error_text(e))
            for e in result.errors
        ]
        if result
        else []
    )
    return render(
        request,
        "don-vi/nop-danh-sach.html",
        status=422 if errors else 200,
        employer=employer,
        number=number,
        result=result,
        messages=messages,
        errors=errors,
        active_nav="upload",
    )
