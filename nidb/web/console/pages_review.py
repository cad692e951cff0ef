"""The staff home (``/can-bo/``) and the identity review queue (``/can-bo/doi-soat/``).

The queue lists items whose record lies in the staff member's area; an item shows the record
and the population-registry person side by side, field by field, with the reasons the software
could not settle it alone. Deciding goes through ``nidb.identity.review`` (one transaction
with its audit entry); looking at an item is written to the audit log and the access log, as
the staff JSON API does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from nidb.domain.review import ReviewKind
from nidb.domain.staff import StaffAction, can
from nidb.domain.text import control_character
from nidb.identity import dedupe_merge, review
from nidb.identity.reasons import REASON_LABELS
from nidb.identity.review_types import KINDS
from nidb.web.console import cache, queries
from nidb.web.console.common import log_staff_read, page, parse_id, parse_page
from nidb.web.console.scope import AnyStaff, NotInScope, QueueReader, Reviewer, Scope, StaffScope
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import StaffPrincipal, engine_of, flash, idle_timeout
from nidb.web.staff_pages import ROLE_LABELS

router = web_router("/can-bo")

KIND_LABELS = {kind.value: kind.label for kind in ReviewKind}
STATUS_LABELS = {"open": "Đang chờ", "accepted": "Đã chấp nhận", "rejected": "Đã từ chối"}
NOTE_MAX = 1000


@router.get("/")
def staff_home(request: Request, staff: AnyStaff, scope: Scope) -> HTMLResponse:
    """Who you are, your area, and the work waiting in it."""
    counts = queries.work_counts(engine_of(request), scope)
    return page(
        request,
        "console/home.html",
        staff,
        scope,
        active_nav="home",
        counts=counts,
        role_labels=ROLE_LABELS,
        scope_label=scope.describe(),
        idle_minutes=int(idle_timeout("staff").total_seconds() // 60),
    )


@router.get("/doi-soat/")
def review_queue(
    request: Request,
    staff: QueueReader,
    scope: Scope,
    trang: str | None = None,
    loai: str | None = None,
    trang_thai: str | None = None,
) -> HTMLResponse:
    """One page of the review queue in the staff member's area (open items by default)."""
    errors: dict[str, str] = {}
    number = parse_page(trang)
    if number is None:
        errors["trang"] = "Số trang phải là số nguyên dương."
    kind = loai or None
    if kind is not None and kind not in KINDS:
        errors["loai"] = "Loại mục không hợp lệ: hãy chọn trong danh sách."
    status = trang_thai or "open"
    if status not in (*review.STATUSES, "all"):
        errors["trang_thai"] = "Trạng thái không hợp lệ: hãy chọn trong danh sách."
    if errors:
        return page(
            request, "console/review_list.html", staff, scope, status=400, errors=errors,
            listing=None, kind=loai or "", status_filter=trang_thai or "open",
            kind_labels=KIND_LABELS, status_labels=STATUS_LABELS, active_nav="review",
        )  # fmt: skip
    listing = queries.review_page(
        engine_of(request), scope, None if status == "all" else status, kind, number or 1
    )
    return page(
        request, "console/review_list.html", staff, scope, errors={}, listing=listing,
        kind=kind or "", status_filter=status, kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS, active_nav="review",
    )  # fmt: skip


def _item_in_scope(request: Request, scope: StaffScope, raw_id: str) -> tuple[int, str | None]:
    """The item's id and its record's BHXH code, or NotInScope (absent or outside the area)."""
    item_id = parse_id(raw_id, "mục đối soát")
    exists, bhxh_code = queries.item_bhxh_code(engine_of(request), item_id)
    if not exists or not (scope.sees_all or scope.allows_bhxh_code(bhxh_code)):
        raise NotInScope("mục đối soát")
    if not scope.sees_all:  # a proposed merge shows every record: all must lie in the area
        codes = dedupe_merge.member_codes(engine_of(request), item_id)
        if not all(scope.allows_bhxh_code(code) for code in codes):
            raise NotInScope("mục đối soát")
    return item_id, bhxh_code


def _detail_page(
    request: Request,
    staff: StaffPrincipal,
    scope: StaffScope,
    item_id: int,
    bhxh_code: str | None,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    note: str = "",
    message: str = "",
) -> HTMLResponse:
    engine = engine_of(request)
    detail = review.get_item(engine, item_id, actor=staff.actor)
    log_staff_read(request, staff, "review.view/v1", bhxh_code, "identity", {"item": item_id})
    proposal = None
    if detail.item.kind == ReviewKind.DEDUPE.value:
        proposal = dedupe_merge.get_proposal(engine, item_id)
    return page(
        request, "console/review_item.html", staff, scope, status=status, detail=detail,
        bhxh_code=bhxh_code, errors=errors or {}, note=note, message=message,
        kind_labels=KIND_LABELS, status_labels=STATUS_LABELS, reason_labels=REASON_LABELS,
        can_decide=can(staff.role, StaffAction.DECIDE_REVIEW_ITEM), active_nav="review",
        proposal=proposal, history_tables=dedupe_merge.HISTORY_TABLES,
    )  # fmt: skip


@router.get("/doi-soat/{item_id}")
def review_item(request: Request, item_id: str, staff: QueueReader, scope: Scope) -> HTMLResponse:
    """The record and the registry person side by side; the decision form for reviewers."""
    number, bhxh_code = _item_in_scope(request, scope, item_id)
    return _detail_page(request, staff, scope, number, bhxh_code)


def _note_problem(note: str, required: bool) -> str | None:
    if required and not note.strip():
        return "Vui lòng ghi lý do từ chối (bắt buộc khi từ chối)."
    if len(note) > NOTE_MAX:
        return f"Ghi chú dài quá {NOTE_MAX} ký tự."
    if control_character(note, multiline=True) is not None:
        return "Ghi chú không được chứa ký tự điều khiển."
    return None


@router.post("/doi-soat/{item_id}/quyet-dinh")
def decide_item(
    request: Request,
    item_id: str,
    staff: Reviewer,
    scope: Scope,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Accept or reject the item; a bad form or a decision already made changes nothing."""
    number, bhxh_code = _item_in_scope(request, scope, item_id)
    errors: dict[str, str] = {}
    if decision not in ("accept", "reject"):
        errors["decision"] = "Vui lòng chọn Chấp nhận hoặc Từ chối."
    problem = _note_problem(note, required=decision == "reject")
    if problem:
        errors["note"] = problem
    if errors:
        return _detail_page(
            request,
            staff,
            scope,
            number,
            bhxh_code,
            status=400,
            errors=errors,
            note=note[:NOTE_MAX],
        )
    engine = engine_of(request)
    try:
        if decision == "accept":
            review.accept(engine, number, staff.actor, note.strip() or None)
        else:
            review.reject(engine, number, staff.actor, note.strip())
    except review.ItemAlreadyDecided as error:
        return _detail_page(
            request, staff, scope, number, bhxh_code, status=409,
            message=f"Mục {number} {error.message_vi}. Không có thay đổi nào được ghi.",
        )  # fmt: skip
    except review.ReviewError as error:
        return _detail_page(
            request, staff, scope, number, bhxh_code, status=409,
            message=f"Không thể quyết định mục {number}: {error.message_vi}.", note=note,
        )  # fmt: skip
    cache.clear()  # the counts of work waiting changed
    word = "chấp nhận" if decision == "accept" else "từ chối"
    if decision == "accept" and _is_dedupe(engine, number):
        flash(request, f"Đã gộp các hồ sơ trùng theo mục đối soát số {number}.", "success")
        return see_other(f"/can-bo/doi-soat/{number}")
    flash(request, f"Đã {word} mục đối soát số {number}.", "success")
    return see_other("/can-bo/doi-soat/")


def _is_dedupe(engine: Engine, item_id: int) -> bool:
    return review.get_item(engine, item_id).item.kind == ReviewKind.DEDUPE.value


@router.post("/doi-soat/{item_id}/hoan-tac")
def undo_merge(
    request: Request,
    item_id: str,
    staff: Reviewer,
    scope: Scope,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Reverse the merge a dedupe item made (``dedupe_merge.undo``); the item is open again."""
    number, bhxh_code = _item_in_scope(request, scope, item_id)
    problem = _note_problem(note, required=False)
    if not note.strip():
        problem = "Vui lòng ghi lý do hoàn tác (bắt buộc)."
    if problem:
        return _detail_page(
            request, staff, scope, number, bhxh_code, status=400,
            errors={"note": problem}, note=note[:NOTE_MAX],
        )  # fmt: skip
    try:
        dedupe_merge.undo(engine_of(request), number, staff.actor, note.strip())
    except review.ReviewError as error:
        return _detail_page(
            request, staff, scope, number, bhxh_code, status=409,
            message=f"Không thể hoàn tác mục {number}: {error.message_vi}.",
        )  # fmt: skip
    cache.clear()
    flash(request, f"Đã hoàn tác lần gộp của mục {number}; mục đang chờ quyết định lại.", "success")
    return see_other(f"/can-bo/doi-soat/{number}")
