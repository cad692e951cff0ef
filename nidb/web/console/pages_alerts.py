"""Access-anomaly alerts for auditors (``/can-bo/kiem-toan/canh-bao``), read-only: the list, and
one page per alert with its explanation and the reads it is about, where an auditor or an
administrator confirms or dismisses it with a reason (audited; never an alert about oneself).

Scoped like every record: a province auditor sees the alerts of their province's staff;
partners' alerts (no province) and every other alert are for central auditors. An alert out of
scope answers 404, as one that does not exist does. Confirming or dismissing an alert is done
with `nidb alerts confirm|dismiss` (audited).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine, Row, Select, select

from nidb.detect import ACCESS_KINDS, ACCESS_RULE_TITLES, AlertError, decide, listed_reads
from nidb.domain.display import VIETNAM, vn_date
from nidb.domain.staff import StaffAction, can
from nidb.domain.text import control_character
from nidb.store import models
from nidb.web.console.common import page, parse_id, parse_page
from nidb.web.console.scope import AlertDecider, Auditor, NotInScope, Scope, StaffScope
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import StaffPrincipal, engine_of, flash
from nidb.web.templating import env

router = web_router("/can-bo/kiem-toan/canh-bao")

ALERTS_PAGE = 50
_ALERT = models.Alert.__table__
STATUS_LABELS = {"open": "Đang mở", "confirmed": "Đã xác nhận", "dismissed": "Đã bác bỏ"}
ACTOR_KINDS = {"staff": "Cán bộ", "partner": "Hệ thống đối tác"}
STAFF_SERVICES = {
    "access.history/v1": "Xem lịch sử truy cập của một người",
    "correction.evidence/v1": "Tải giấy tờ của yêu cầu điều chỉnh",
    "correction.view/v1": "Xem yêu cầu điều chỉnh",
    "review.list/v1": "Xem danh sách đối soát danh tính",
    "review.view/v1": "Xem một mục đối soát danh tính",
    "claims.view/v1": "Xem một hồ sơ giám định BHYT",
}
"""The staff console's and staff API's reads, named as the alert page lists them."""


def _iso_date(value: object) -> str:
    try:
        return vn_date(date.fromisoformat(str(value)))
    except ValueError:
        return "—"


def _count(value: object) -> str:
    """``1.234`` or ``1.234,5``: Vietnamese digit grouping."""
    if not isinstance(value, int | float):
        return "—"
    text = f"{value:,.1f}" if value != int(value) else f"{int(value):,}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _seconds(value: datetime) -> str:
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


def _actor_name(actor: str) -> str:
    return actor.removeprefix("staff:")


env.filters["vn_iso_date"] = _iso_date
env.filters["vn_count"] = _count
env.filters["vn_datetime_seconds"] = _seconds
env.filters["actor_name"] = _actor_name


def _scoped(query: Select[Any], scope: StaffScope) -> Select[Any]:
    query = query.where(_ALERT.c.kind.in_(ACCESS_KINDS))
    if not scope.sees_all:
        query = query.where(_ALERT.c.province.in_(scope.provinces))
    return query


@router.get("/")
def alert_list(
    request: Request,
    staff: Auditor,
    scope: Scope,
    trang_thai: str | None = None,
    trang: str | None = None,
) -> HTMLResponse:
    """Access-anomaly alerts of the auditor's area, newest first (open ones unless asked)."""
    status = trang_thai if trang_thai in (*STATUS_LABELS, "all") else "open"
    number = parse_page(trang) or 1
    query = _scoped(select(_ALERT), scope).order_by(_ALERT.c.id.desc())
    if status != "all":
        query = query.where(_ALERT.c.status == status)
    query = query.limit(ALERTS_PAGE + 1).offset((number - 1) * ALERTS_PAGE)
    with engine_of(request).connect() as conn:
        found = conn.execute(query).all()
    return page(
        request, "console/alerts.html", staff, scope,
        alerts=found[:ALERTS_PAGE], more=len(found) > ALERTS_PAGE, page_number=number,
        shown=status, status_labels=STATUS_LABELS, rule_titles=ACCESS_RULE_TITLES,
        actor_kinds=ACTOR_KINDS, active_nav="audit",
    )  # fmt: skip


NOTE_MAX = 1000
DECISIONS = {"confirmed": "xác nhận", "dismissed": "bác bỏ"}


def _alert_in_scope(engine: Engine, scope: StaffScope, alert_id: str) -> Row[Any]:
    number = parse_id(alert_id, "cảnh báo")
    with engine.connect() as conn:
        alert = conn.execute(_scoped(select(_ALERT), scope).where(_ALERT.c.id == number)).first()
    if alert is None:
        raise NotInScope("cảnh báo")
    return alert


def _alert_page(
    request: Request,
    staff: StaffPrincipal,
    scope: StaffScope,
    alert: Row[Any],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    decision: str = "",
    note: str = "",
) -> HTMLResponse:
    detail = alert.detail or {}
    reads = listed_reads(engine_of(request), detail.get("reads") or [])
    response = page(
        request, "console/alert.html", staff, scope,
        alert=alert, detail=detail, reads=reads, status_labels=STATUS_LABELS,
        rule_titles=ACCESS_RULE_TITLES, actor_kinds=ACTOR_KINDS, staff_services=STAFF_SERVICES,
        can_decide=can(staff.role, StaffAction.DECIDE_ALERT),
        about_self=alert.subject_id == staff.actor, errors=errors or {}, message=message,
        decision=decision, note=note, note_max=NOTE_MAX, active_nav="audit",
    )  # fmt: skip
    response.status_code = status
    return response


@router.get("/{alert_id}")
def alert_page(request: Request, alert_id: str, staff: Auditor, scope: Scope) -> HTMLResponse:
    """One alert: who, which rule, how many against what, and the reads listed."""
    return _alert_page(request, staff, scope, _alert_in_scope(engine_of(request), scope, alert_id))


@router.post("/{alert_id}/quyet-dinh")
def decide_alert(
    request: Request,
    alert_id: str,
    staff: AlertDecider,
    scope: Scope,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Confirm or dismiss the alert with a reason; a bad form or a decision already made (or
    one about oneself) changes nothing and says why."""
    engine = engine_of(request)
    alert = _alert_in_scope(engine, scope, alert_id)
    errors: dict[str, str] = {}
    if decision not in DECISIONS:
        errors["decision"] = "Vui lòng chọn Xác nhận hoặc Bác bỏ."
    if not note.strip():
        errors["note"] = "Vui lòng ghi lý do của quyết định."
    elif len(note) > NOTE_MAX:
        errors["note"] = f"Lý do dài quá {NOTE_MAX} ký tự."
    elif control_character(note, multiline=True) is not None:
        errors["note"] = "Lý do không được chứa ký tự điều khiển."
    if errors:
        return _alert_page(
            request, staff, scope, alert, status=400, errors=errors,
            decision=decision if decision in DECISIONS else "", note=note[:NOTE_MAX],
        )  # fmt: skip
    try:
        decide(engine, alert.id, decision, staff.actor, note)
    except AlertError as error:
        return _alert_page(
            request, staff, scope, alert, status=409,
            message=f"{error.message_vi}. Không có thay đổi nào được ghi.",
        )  # fmt: skip
    flash(request, f"Đã {DECISIONS[decision]} cảnh báo số {alert.id}.", "success")
    return see_other(f"/can-bo/kiem-toan/canh-bao/{alert.id}")
