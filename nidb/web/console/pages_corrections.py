"""Citizens' correction requests (``/can-bo/dieu-chinh/``): list, look, decide.

The portal stores a request (``correction_requests``) with its evidence files; here a reviewer
of the citizen's province accepts or rejects it with a note. The decision, its audit entry and
a ``correction.decided`` outbox event are one transaction, guarded so a request is decided
once. Accepting records the decision; changing the register's record is the work of whoever
handles that event (the record's own correction process), not of this page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from nidb.domain.staff import StaffAction, can
from nidb.domain.text import control_character
from nidb.store.models_web import CorrectionEvidence, CorrectionRequest
from nidb.web import corrections as requests_of_citizens
from nidb.web.console import cache, queries
from nidb.web.console.common import log_staff_read, page, parse_id, parse_page
from nidb.web.console.scope import (
    CorrectionDecider,
    CorrectionReader,
    NotInScope,
    Scope,
    StaffScope,
)
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import StaffPrincipal, engine_of, flash

router = web_router("/can-bo/dieu-chinh")

STATUS_LABELS = {
    "submitted": "Mới gửi",
    "in_review": "Đang xem xét",
    "accepted": "Đã chấp nhận",
    "rejected": "Đã từ chối",
}
OPEN = ("submitted", "in_review")
FIELD_LABELS = {
    "full_name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "gender": "Giới tính",
    "address": "Địa chỉ",
    "personal_id": "Số định danh cá nhân",
}
NOTE_MAX = 1000
PAGE = 25
_REQUESTS = CorrectionRequest.__table__
_EVIDENCE = CorrectionEvidence.__table__


def _absent_page(request: Request, staff: StaffPrincipal, scope: StaffScope) -> HTMLResponse:
    return page(request, "console/corrections_absent.html", staff, scope, active_nav="corrections")


@router.get("/")
def corrections(
    request: Request,
    staff: CorrectionReader,
    scope: Scope,
    trang_thai: str | None = None,
    trang: str | None = None,
) -> HTMLResponse:
    """Requests in the staff member's area, oldest first (undecided ones by default)."""
    engine = engine_of(request)
    if not queries.has_corrections(engine):
        return _absent_page(request, staff, scope)
    errors: dict[str, str] = {}
    status = trang_thai or "open"
    if status not in (*STATUS_LABELS, "open", "all"):
        errors["trang_thai"] = "Trạng thái không hợp lệ: hãy chọn trong danh sách."
    number = parse_page(trang)
    if number is None:
        errors["trang"] = "Số trang phải là số nguyên dương."
    rows: list[Any] = []
    total = 0
    if not errors:
        statuses = None if status == "all" else OPEN if status == "open" else (status,)
        with engine.connect() as conn:
            total = int(
                conn.execute(queries.corrections_query(scope, statuses, count=True)).scalar_one()
            )
            listing = queries.corrections_query(scope, statuses).order_by(_REQUESTS.c.id)
            rows = list(conn.execute(listing.limit(PAGE).offset(((number or 1) - 1) * PAGE)))
    return page(
        request, "console/corrections.html", staff, scope, status=400 if errors else 200,
        errors=errors, rows=rows, total=total, page_number=number or 1,
        pages=max(1, -(-total // PAGE)), status_filter=status, status_labels=STATUS_LABELS,
        field_labels=FIELD_LABELS, active_nav="corrections",
    )  # fmt: skip


def _request_in_scope(request: Request, scope: StaffScope, raw_id: str) -> Any:
    """The request row, or NotInScope when absent or of a citizen outside the area."""
    if not queries.has_corrections(engine_of(request)):
        raise NotInScope("yêu cầu điều chỉnh")
    number = parse_id(raw_id, "yêu cầu điều chỉnh")
    with engine_of(request).connect() as conn:
        row = conn.execute(select(_REQUESTS).where(_REQUESTS.c.id == number)).first()
    if row is None:
        raise NotInScope("yêu cầu điều chỉnh")
    codes = queries.correction_bhxh_codes(engine_of(request), row.personal_id)
    if not scope.sees_all and not any(scope.allows_bhxh_code(code) for code in codes):
        raise NotInScope("yêu cầu điều chỉnh")
    return row


def _subject(request: Request, row: Any) -> str | None:
    """The citizen's BHXH code, the subject of the access-log entry, so that the read is in the
    citizen's "who read my data" (docs/console.md); None for a citizen without one."""
    codes = sorted(queries.correction_bhxh_codes(engine_of(request), row.personal_id))
    return codes[0] if codes else None


def _detail(
    request: Request,
    staff: StaffPrincipal,
    scope: StaffScope,
    row: Any,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    note: str = "",
    message: str = "",
) -> HTMLResponse:
    with engine_of(request).connect() as conn:
        evidence = conn.execute(
            select(_EVIDENCE.c.id, _EVIDENCE.c.filename, _EVIDENCE.c.content_type,
                   _EVIDENCE.c.size_bytes, _EVIDENCE.c.sha256)
            .where(_EVIDENCE.c.request_id == row.id).order_by(_EVIDENCE.c.id)
        ).all()  # fmt: skip
    log_staff_read(
        request, staff, "correction.view/v1", _subject(request, row), "correction",
        {"request": row.id},
    )  # fmt: skip
    return page(
        request, "console/correction_item.html", staff, scope, status=status, row=row,
        evidence=evidence, errors=errors or {}, note=note, message=message,
        status_labels=STATUS_LABELS, field_labels=FIELD_LABELS,
        can_decide=can(staff.role, StaffAction.DECIDE_CORRECTION) and row.status in OPEN,
        active_nav="corrections",
    )  # fmt: skip


@router.get("/{request_id}")
def correction(
    request: Request, request_id: str, staff: CorrectionReader, scope: Scope
) -> HTMLResponse:
    """One request: the field, its current and asked-for values, the reason, the evidence."""
    return _detail(request, staff, scope, _request_in_scope(request, scope, request_id))


@router.get("/{request_id}/minh-chung/{evidence_id}")
def evidence_file(
    request: Request, request_id: str, evidence_id: str, staff: CorrectionReader, scope: Scope
) -> Response:
    """One evidence file, as an attachment (never rendered inline: it came from outside)."""
    row = _request_in_scope(request, scope, request_id)
    number = parse_id(evidence_id, "tệp minh chứng")
    with engine_of(request).connect() as conn:
        found = conn.execute(
            select(_EVIDENCE).where(_EVIDENCE.c.id == number, _EVIDENCE.c.request_id == row.id)
        ).first()
    if found is None:
        raise NotInScope("tệp minh chứng")
    log_staff_read(
        request, staff, "correction.evidence/v1", _subject(request, row), "correction",
        {"request": row.id, "evidence": number},
    )  # fmt: skip
    return Response(
        found.content,
        media_type="application/octet-stream",
        headers={
            "content-disposition": f'attachment; filename="minh-chung-{row.id}-{number}"',
            "x-content-type-options": "nosniff",
            "cache-control": "no-store",
        },
    )


@router.post("/{request_id}/quyet-dinh")
def decide(
    request: Request,
    request_id: str,
    staff: CorrectionDecider,
    scope: Scope,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Accept or reject; a bad form, or a request decided meanwhile, stores nothing."""
    row = _request_in_scope(request, scope, request_id)
    errors: dict[str, str] = {}
    if decision not in ("accepted", "rejected"):
        errors["decision"] = "Vui lòng chọn Chấp nhận hoặc Từ chối."
    if decision == "rejected" and not note.strip():
        errors["note"] = "Vui lòng ghi lý do từ chối (bắt buộc khi từ chối)."
    if len(note) > NOTE_MAX:
        errors["note"] = f"Ghi chú dài quá {NOTE_MAX} ký tự."
    elif control_character(note, multiline=True) is not None:
        errors["note"] = "Ghi chú không được chứa ký tự điều khiển."
    if errors:
        return _detail(request, staff, scope, row, status=400, errors=errors, note=note[:NOTE_MAX])
    try:
        decided = requests_of_citizens.decide(
            engine_of(request), row.id, decision, actor=staff.actor, note=note
        )
    except requests_of_citizens.AlreadyDecided as error:
        with engine_of(request).connect() as conn:
            fresh = conn.execute(select(_REQUESTS).where(_REQUESTS.c.id == row.id)).first()
        return _detail(request, staff, scope, fresh or row, status=409, message=error.message_vi)
    except requests_of_citizens.DecisionError as error:
        return _detail(
            request, staff, scope, row, status=400, errors={"note": error.message_vi},
            note=note[:NOTE_MAX],
        )  # fmt: skip
    cache.clear()  # the counts of work waiting changed
    word = "chấp nhận" if decision == "accepted" else "từ chối"
    records = len({change["record_id"] for change in decided.applied})
    written = f"; đã cập nhật {records} hồ sơ" if records else ""
    flash(request, f"Đã {word} yêu cầu điều chỉnh số {row.id}{written}.", "success")
    return see_other("/can-bo/dieu-chinh/")
