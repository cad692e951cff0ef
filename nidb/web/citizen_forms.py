"""The citizen's forms: correction requests with evidence (``/cong-dan/dieu-chinh``) and
consent choices (``/cong-dan/dong-y``). Bad input re-renders the form with the message next to
the field (HTTP 400) and stores nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from nidb.web import citizen_data as data
from nidb.web import consents, corrections
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import CitizenPrincipal, current_citizen, engine_of, flash
from nidb.web.templating import render
from nidb.web.uploads import MAX_EVIDENCE_BYTES, EvidenceRefused, accept_evidence

router = web_router("/cong-dan")
CitizenDep = Annotated[CitizenPrincipal, Depends(current_citizen)]
FIELD_OPTIONS = [(f.key, f.label_vi) for f in corrections.FIELDS.values()]


def _current_value(request: Request, personal_id: str, field: str) -> str | None:
    """The value the register holds now (from the server, never from the form)."""
    with engine_of(request).connect() as conn:
        who = data.identity(conn, personal_id)
    if field == "personal_id":
        return personal_id
    if who.citizen is not None and field in ("full_name", "date_of_birth", "gender"):
        return str(getattr(who.citizen, field) or "") or None
    # the value the records verified as the person hold (the first that holds one): a contact
    # address lives on the participant record, not in the population database
    for record in who.records:
        value = str(getattr(record, field, "") or "")
        if value:
            return value
    return None


def _correction_page(
    request: Request,
    citizen: CitizenPrincipal,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    requests = corrections.requests_of(engine_of(request), citizen.personal_id)
    return render(
        request,
        "cong-dan/dieu-chinh.html",
        status=status,
        citizen=citizen,
        active_nav="correction",
        form=form or {},
        errors=errors or {},
        field_options=FIELD_OPTIONS,
        field_labels={f.key: f.label_vi for f in corrections.FIELDS.values()},
        field_hints={f.key: f.hint_vi for f in corrections.FIELDS.values()},
        requests=requests,
        status_labels=corrections.STATUS_LABELS,
        max_mb=MAX_EVIDENCE_BYTES // 2**20,
    )


@router.get("/dieu-chinh")
def correction_form(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """The request form and the citizen's earlier requests with their status."""
    return _correction_page(request, citizen)


@router.post("/dieu-chinh")
async def submit_correction(request: Request, citizen: CitizenDep) -> Response:
    """Validate every field and the evidence file; store all or nothing."""
    form = await request.form()
    values = {
        key: str(form.get(key, "")) if not isinstance(form.get(key), UploadFile) else ""
        for key in ("field", "new_value", "reason")
    }
    clean, errors = corrections.validate(values["field"], values["new_value"], values["reason"])
    upload = form.get("evidence")
    evidence = None
    try:
        if isinstance(upload, UploadFile):
            content = await upload.read(MAX_EVIDENCE_BYTES + 1)
            evidence = accept_evidence(upload.filename, content)
        else:
            evidence = accept_evidence(None, b"")
    except EvidenceRefused as refused:
        errors["evidence"] = refused.message_vi
    shown = {k: v[:1000] for k, v in values.items()}
    if errors or evidence is None:
        return await run_in_threadpool(
            _correction_page, request, citizen, status=400, form=shown, errors=errors
        )

    def store() -> int:
        current = _current_value(request, citizen.personal_id, values["field"])
        return corrections.submit(
            engine_of(request),
            citizen.personal_id,
            values["field"],
            current,
            clean["new_value"],
            clean["reason"],
            evidence,
        )

    request_id = await run_in_threadpool(store)
    await run_in_threadpool(
        flash,
        request,
        f"Đã gửi yêu cầu điều chỉnh số {request_id}. Cơ quan BHXH sẽ xem xét và trả lời trên cổng.",
        "success",
    )
    return see_other("/cong-dan/dieu-chinh")


def _consent_page(
    request: Request, citizen: CitizenPrincipal, *, status: int = 200, error: str = ""
) -> HTMLResponse:
    engine = engine_of(request)
    return render(
        request,
        "cong-dan/dong-y.html",
        status=status,
        citizen=citizen,
        active_nav="consent",
        topics=consents.TOPICS,
        choices=consents.current_choices(engine, citizen.personal_id),
        history=consents.history(engine, citizen.personal_id),
        topic_labels={t.key: t.label_vi for t in consents.TOPICS},
        error=error,
    )


@router.get("/dong-y")
def consent_form(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """The citizen's consent choices and their history."""
    return _consent_page(request, citizen)


@router.post("/dong-y")
async def save_consent(request: Request, citizen: CitizenDep) -> Response:
    """Record changed choices (a ticked box is "1"; anything else is refused)."""
    form = await request.form()
    wanted: dict[str, bool] = {}
    bad: list[Any] = []
    for key, value in form.multi_items():
        if key == "csrf_token":
            continue
        if key not in consents.TOPIC_KEYS or value != "1":
            bad.append(key)
        else:
            wanted[key] = True
    if bad:
        return await run_in_threadpool(
            _consent_page,
            request,
            citizen,
            status=400,
            error="Lựa chọn gửi lên không hợp lệ; không có thay đổi nào được lưu.",
        )
    choices = {t.key: wanted.get(t.key, False) for t in consents.TOPICS}
    changed = await run_in_threadpool(
        consents.save_choices, engine_of(request), citizen.personal_id, choices
    )
    message = "Đã lưu lựa chọn đồng ý chia sẻ của bạn." if changed else "Không có thay đổi nào."
    await run_in_threadpool(flash, request, message, "success" if changed else "info")
    return see_other("/cong-dan/dong-y")
