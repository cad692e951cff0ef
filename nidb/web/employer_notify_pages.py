"""An employer's notification settings (``/don-vi/cai-dat-thong-bao``): where debt reminders go (e-mail,
mobile; empty: the register's) and by which channel (opt-out per channel). Bad input
re-renders the form with the message next to the field (HTTP 400) and stores nothing."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from nidb.notify.contacts import (
    employer_contact,
    save_employer_contact,
)
from nidb.store.models_notify import NotifyContact
from nidb.web.employer_pages import EmployerDep
from nidb.web.notify_pages import contact_fields
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import EmployerPrincipal, engine_of, flash
from nidb.web.templating import render

router = web_router("/don-vi")
PATH = "/don-vi/cai-dat-thong-bao"


def _page(
    request: Request,
    employer: EmployerPrincipal,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    chosen: dict[str, bool] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    with engine_of(request).connect() as conn:
        contact = employer_contact(conn, employer.employer_code)
        own = conn.execute(
            select(NotifyContact.email, NotifyContact.phone).where(
                NotifyContact.party_kind == "employer",
                NotifyContact.party_id == employer.employer_code,
            )
        ).first()
    return render(
        request,
        "don-vi/cai-dat-thong-bao.html",
        status=status,
        employer=employer,
        active_nav="notify",
        contact=contact,
        form=form
        if form is not None
        else {"email": (own[0] or "") if own else "", "phone": (own[1] or "") if own else ""},
        chosen=chosen
        if chosen is not None
        else {"email_on": contact.email_on, "sms_on": contact.sms_on},
        errors=errors or {},
    )


@router.get("/cai-dat-thong-bao")
def settings_form(request: Request, employer: EmployerDep) -> HTMLResponse:
    """Where reminders go and by which channel."""
    return _page(request, employer)


@router.post("/cai-dat-thong-bao")
async def save_settings(request: Request, employer: EmployerDep) -> Response:
    """Check, then store the addresses and channels (audited)."""
    form = await request.form()
    values, email, phone, errors = contact_fields(form)
    chosen = {k: form.get(k) == "1" for k in ("email_on", "sms_on")}
    if errors:
        return await run_in_threadpool(
            _page, request, employer, status=400, form=values, chosen=chosen, errors=errors
        )
    await run_in_threadpool(
        lambda: save_employer_contact(
            engine_of(request),
            employer.employer_code,
            email=email,
            phone=phone,
            email_on=chosen["email_on"],
            sms_on=chosen["sms_on"],
            actor=employer.actor,
        )
    )
    await run_in_threadpool(flash, request, "Đã lưu cài đặt nhận thông báo.", "success")
    return see_other(PATH)
