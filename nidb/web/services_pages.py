"""Citizen pages of the online services under ``/cong-dan/dich-vu/``: file a renewal, a one-time
claim or an unemployment claim; see one's dossiers, their states and history; pay a renewal
through the gateway; read one's notifications.

Pages only parse the form and call the service functions; every refusal comes back as a
DomainError whose Vietnamese message is shown next to its field, and nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from nidb.domain.errors import DomainError
from nidb.services import claims, decisions, payments, renewal, views
from nidb.services.errors import DossierNotFound
from nidb.services.forms import MAX_UPLOAD_BYTES, Upload, check_upload
from nidb.services.rules import vnd
from nidb.services.workflow import STATE_TITLES
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import CitizenPrincipal, current_citizen, engine_of, flash
from nidb.web.templating import env, render

router = web_router("/cong-dan/dich-vu")
CitizenDep = Annotated[CitizenPrincipal, Depends(current_citizen)]

FORM_FIELDS = {
    "renewal": ("members", "months"),
    "one_time": ("ground", "bank_account", "note", "attachment"),
    "unemployment": ("termination_date", "bank_account", "note", "attachment"),
}


def _field_of(error: DomainError, form: str) -> str:
    """The form field a service error belongs to (``members[1]`` → ``members``)."""
    name = re.sub(r"\[\d+\]$", "", error.field.split(".")[0])
    return name if name in FORM_FIELDS[form] else "form"


async def _upload(request: Request, form: Any) -> Upload | None:
    item = form.get("attachment")
    if not isinstance(item, UploadFile) or not item.filename:
        return None
    content = await item.read(MAX_UPLOAD_BYTES + 1)
    return check_upload(item.filename, content)


def _own(request: Request, citizen: CitizenPrincipal, dossier_id: int) -> views.DossierView:
    view = views.get_dossier(engine_of(request), dossier_id)
    s = view.summary
    if citizen.personal_id not in (s.applicant_personal_id, s.subject_personal_id):
        raise DossierNotFound(
            dossier_id
        )  # another person's dossier is "not found", not "forbidden"
    return view


@router.get("/")
def services_home(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """My dossiers and the services I can start."""
    engine = engine_of(request)
    return render(
        request,
        "workflows/citizen_home.html",
        citizen=citizen,
        active_nav="services",
        dossiers=views.list_for_person(engine, citizen.personal_id),
        notifications=views.notifications_for(engine, citizen.personal_id)[:5],
    )


@router.get("/thong-bao")
def notifications_page(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """All my notifications."""
    items = views.notifications_for(engine_of(request), citizen.personal_id)
    return render(
        request, "workflows/citizen_notifications.html", citizen=citizen, notifications=items
    )


def _form(
    request: Request,
    citizen: CitizenPrincipal,
    kind: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        f"workflows/form_{kind}.html",
        status=status,
        citizen=citizen,
        values=values,
        errors=errors,
        grounds=list(claims.ONE_TIME_GROUNDS.items()),
        months=[(m, f"{m} tháng") for m in renewal.ALLOWED_MONTHS],
        max_upload_mb=MAX_UPLOAD_BYTES // 1024 // 1024,
    )


@router.get("/gia-han-bhyt")
def renewal_form(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """Household health-insurance renewal form."""
    return _form(request, citizen, "renewal", {"members": citizen.personal_id, "months": "12"}, {})


@router.post("/gia-han-bhyt")
async def renewal_submit(request: Request, citizen: CitizenDep) -> Response:
    form = await request.form()
    values = {"members": str(form.get("members", "")), "months": str(form.get("months", ""))}
    members = [m for m in re.split(r"[\s,;]+", values["members"]) if m]
    try:
        view = renewal.submit_renewal(
            engine_of(request),
            citizen.personal_id,
            members,
            values["months"],
            actor=f"citizen:{citizen.personal_id}",
        )
    except DomainError as error:
        return _form(
            request,
            citizen,
            "renewal",
            values,
            {_field_of(error, "renewal"): error.message_vi},
            422,
        )
    flash(
        request,
        f"Đã tạo hồ sơ số {view.summary.id}: {vnd(view.data['total'])}, chờ thanh toán.",
        "success",
    )
    return see_other(f"/cong-dan/dich-vu/ho-so/{view.summary.id}")


@router.get("/bhxh-mot-lan")
def one_time_form(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """One-time social-insurance claim form."""
    return _form(request, citizen, "one_time", {}, {})


async def _claim(
    request: Request,
    citizen: CitizenPrincipal,
    form_key: str,
    first_field: str,
    submit: Callable[..., Any],
    done_vi: str,
) -> Response:
    """Read a claim form (its first field, bank account, note, attachment), file the claim,
    and answer: the form again with the refusal next to its field, or the new dossier."""
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in (first_field, "bank_account", "note")}
    try:
        upload = await _upload(request, form)
        view = submit(
            engine_of(request),
            citizen.personal_id,
            values[first_field],
            values["bank_account"],
            attachment=upload,
            note=values["note"],
            actor=f"citizen:{citizen.personal_id}",
        )
    except DomainError as error:
        errors = {_field_of(error, form_key): error.message_vi}
        return _form(request, citizen, form_key, values, errors, 422)
    flash(request, f"Đã nộp hồ sơ {done_vi} số {view.summary.id}.", "success")
    return see_other(f"/cong-dan/dich-vu/ho-so/{view.summary.id}")


@router.post("/bhxh-mot-lan")
async def one_time_submit(request: Request, citizen: CitizenDep) -> Response:
    return await _claim(
        request, citizen, "one_time", "ground", claims.submit_one_time_claim, "hưởng BHXH một lần"
    )


@router.get("/tro-cap-that-nghiep")
def unemployment_form(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """Unemployment-benefit claim form."""
    return _form(request, citizen, "unemployment", {}, {})


@router.post("/tro-cap-that-nghiep")
async def unemployment_submit(request: Request, citizen: CitizenDep) -> Response:
    return await _claim(
        request,
        citizen,
        "unemployment",
        "termination_date",
        claims.submit_unemployment_claim,
        "hưởng trợ cấp thất nghiệp",
    )


@router.get("/ho-so/{dossier_id}")
def dossier_page(request: Request, dossier_id: int, citizen: CitizenDep) -> HTMLResponse:
    """One of my dossiers: state, deadline, checks, history, payments."""
    try:
        view = _own(request, citizen, dossier_id)
    except DossierNotFound as error:
        return render(
            request,
            "workflows/not_found.html",
            status=404,
            citizen=citizen,
            message=error.message_vi,
        )
    return render(request, "workflows/citizen_dossier.html", citizen=citizen, view=view)


@router.post("/ho-so/{dossier_id}/thanh-toan")
def pay(request: Request, dossier_id: int, citizen: CitizenDep) -> Response:
    """Start (or resume) the payment and go to the gateway's pay page."""
    try:
        _own(request, citizen, dossier_id)
        started = payments.start_payment(engine_of(request), dossier_id, citizen.personal_id)
    except DomainError as error:
        flash(request, error.message_vi, "error")
        return see_other(f"/cong-dan/dich-vu/ho-so/{dossier_id}")
    return see_other(started.pay_url)


@router.post("/ho-so/{dossier_id}/huy")
async def cancel(request: Request, dossier_id: int, citizen: CitizenDep) -> Response:
    """Withdraw a dossier not yet decided."""
    form = await request.form()
    try:
        _own(request, citizen, dossier_id)
        decisions.decide(
            engine_of(request),
            dossier_id,
            "cancel",
            actor=f"citizen:{citizen.personal_id}",
            role="citizen",
            version=int(str(form.get("version", "0")) or 0),
        )
    except (DomainError, ValueError) as error:
        flash(request, getattr(error, "message_vi", "Dữ liệu không hợp lệ"), "error")
    return see_other(f"/cong-dan/dich-vu/ho-so/{dossier_id}")


def mount(app: FastAPI) -> None:
    """Add the citizen and staff pages of the online services."""
    from nidb.web.console import pages_dossiers as pages_staff

    env.globals["dossier_state_titles"] = STATE_TITLES
    app.include_router(router)
    pages_staff.mount(app)
