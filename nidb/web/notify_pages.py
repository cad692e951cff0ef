"""The citizen's notification settings (``/cong-dan/cai-dat-thong-bao``): where to receive
notices (e-mail, mobile) and by which channel, and whether to be told each time a partner or a
staff member reads their data. The channel choices are consents (``nidb.web.consents``, history
kept); the addresses are ``notify_contacts``. Bad input re-renders the form with the message
next to the field (HTTP 400) and stores nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from nidb.notify.contacts import (
    CITIZEN_TOPICS,
    InvalidContact,
    citizen_contact,
    clean_email,
    clean_phone,
    save_citizen_contact,
)
from nidb.web import consents
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import CitizenPrincipal, current_citizen, engine_of, flash
from nidb.web.templating import render

router = web_router("/cong-dan")
CitizenDep = Annotated[CitizenPrincipal, Depends(current_citizen)]
PATH = "/cong-dan/cai-dat-thong-bao"
LABELS = {
    "notify_email": "Nhận thông báo qua thư điện tử",
    "notify_sms": "Nhận thông báo qua tin nhắn SMS",
    "notify_access": "Báo cho tôi mỗi khi cơ quan, tổ chức hoặc cán bộ xem dữ liệu của tôi",
}
HINTS = {
    "notify_access": "Thông báo cho biết ai đã xem, xem gì và vì sao; các lần xem trong cùng một "
    "giờ được gộp vào một thông báo.",
}


def _page(
    request: Request,
    citizen: CitizenPrincipal,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    chosen: dict[str, bool] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    engine = engine_of(request)
    with engine.connect() as conn:
        contact = citizen_contact(conn, citizen.personal_id)
    choices = consents.current_choices(engine, citizen.personal_id)
    return render(
        request,
        "cong-dan/cai-dat-thong-bao.html",
        status=status,
        citizen=citizen,
        active_nav="consent",
        form=form
        if form is not None
        else {"email": contact.email or "", "phone": contact.phone or ""},
        chosen=chosen if chosen is not None else {t: choices.get(t, False) for t in CITIZEN_TOPICS},
        topics=[(t, LABELS[t], HINTS.get(t, "")) for t in CITIZEN_TOPICS],
        errors=errors or {},
    )


def contact_fields(
    form: Mapping[str, Any],
) -> tuple[dict[str, str], str | None, str | None, dict[str, str]]:
    """The e-mail address and mobile number of a settings form (citizen's or employer's): the
    values as typed (cut to 300 characters), each in its checked form or None, and each
    field's error in Vietnamese."""
    values = {k: str(form.get(k, "") or "")[:300] for k in ("email", "phone")}
    errors: dict[str, str] = {}
    email = phone = None
    try:
        email = clean_email(values["email"])
    except InvalidContact as error:
        errors["email"] = error.message_vi
    try:
        phone = clean_phone(values["phone"])
    except InvalidContact as error:
        errors["phone"] = error.message_vi
    return values, email, phone, errors


@router.get("/cai-dat-thong-bao")
def settings_form(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """The citizen's addresses and channels."""
    return _page(request, citizen)


@router.post("/cai-dat-thong-bao")
async def save_settings(request: Request, citizen: CitizenDep) -> Response:
    """Check the addresses, then store them and the choices (nothing stored on an error)."""
    form = await request.form()
    values, email, phone, errors = contact_fields(form)
    chosen = {t: form.get(t) == "1" for t in CITIZEN_TOPICS}
    if chosen["notify_email"] and not email and "email" not in errors:
        errors["email"] = "Nhập địa chỉ thư điện tử để nhận thông báo qua thư"
    if chosen["notify_sms"] and not phone and "phone" not in errors:
        errors["phone"] = "Nhập số điện thoại di động để nhận thông báo qua SMS"
    if chosen["notify_access"] and not (chosen["notify_email"] or chosen["notify_sms"]):
        errors["notify_access"] = (
            "Chọn ít nhất một kênh (thư điện tử hoặc SMS) để nhận thông báo này"
        )
    if errors:
        return await run_in_threadpool(
            _page, request, citizen, status=400, form=values, chosen=chosen, errors=errors
        )
    engine = engine_of(request)
    await run_in_threadpool(save_citizen_contact, engine, citizen.personal_id, email, phone)
    await run_in_threadpool(consents.save_choices, engine, citizen.personal_id, chosen)
    await run_in_threadpool(flash, request, "Đã lưu cài đặt thông báo của bạn.", "success")
    return see_other(PATH)
