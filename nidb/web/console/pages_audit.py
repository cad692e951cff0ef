"""Auditor pages (``/can-bo/kiem-toan/``), read-only: who accessed a person's data (by BHXH
code), and the audit log filtered by actor, action and date.

A person's access history is scoped like every record (a code of another province answers
404, as an unknown code does) and reading it is itself written to the access log. The audit
log is the whole system's and names subjects of every province, so only central-scope
auditors (and admins) read it; province and district auditors get a 403 page saying so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from nidb.accesslog import access_history
from nidb.domain.errors import DomainError
from nidb.domain.identifiers import BhxhCode
from nidb.store import models
from nidb.web.console.common import log_staff_read, page, parse_page
from nidb.web.console.scope import Auditor, Scope
from nidb.web.routing import web_router
from nidb.web.sessions import Forbidden, engine_of

router = web_router("/can-bo/kiem-toan")

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
AUDIT_PAGE = 50
_AUDIT = models.AuditEntry.__table__


@router.get("/")
def auditor_home(request: Request, staff: Auditor, scope: Scope) -> HTMLResponse:
    """The auditor's two tools."""
    return page(request, "console/audit_home.html", staff, scope, active_nav="audit")


@router.get("/truy-cap")
def person_access(
    request: Request, staff: Auditor, scope: Scope, ma_bhxh: str | None = None
) -> HTMLResponse:
    """Who read the data of the person with BHXH code ``ma_bhxh`` (most recent first)."""
    errors: dict[str, str] = {}
    status = 200
    views = None
    code_text = (ma_bhxh or "").strip()[:20]
    if ma_bhxh is not None:
        try:
            code = BhxhCode.parse(code_text).value
        except DomainError:
            errors["ma_bhxh"] = "Mã số BHXH phải gồm đúng 10 chữ số."
            status = 400
        else:
            exists = _person_exists(request, code)
            if not exists or not scope.allows_bhxh_code(code):
                errors["ma_bhxh"] = (
                    f"Không tìm thấy người có mã số BHXH {code} trong phạm vi của bạn."
                )
                status = 404  # absent or outside the area: the same answer
            else:
                views = access_history(engine_of(request), code, 200)
                log_staff_read(request, staff, "access.history/v1", code, "access_log", {})
    return page(
        request, "console/access_history.html", staff, scope, status=status,
        errors=errors, code=code_text, views=views, active_nav="audit",
    )  # fmt: skip


def _person_exists(request: Request, code: str) -> bool:
    persons = models.Person.__table__
    with engine_of(request).connect() as conn:
        found = conn.execute(select(persons.c.record_id).where(persons.c.bhxh_code == code))
        return found.first() is not None


def _day(raw: str | None, field: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = "Ngày không hợp lệ: hãy nhập theo dạng ngày/tháng/năm."
        return None


@router.get("/nhat-ky")
def audit_log(
    request: Request,
    staff: Auditor,
    scope: Scope,
    nguoi: str | None = None,
    hanh_dong: str | None = None,
    tu_ngay: str | None = None,
    den_ngay: str | None = None,
    trang: str | None = None,
) -> HTMLResponse:
    """The audit log, newest first, filtered by actor, action and dates (Vietnam's days)."""
    if not scope.sees_all:
        raise Forbidden(
            "Nhật ký kiểm toán toàn hệ thống chỉ dành cho kiểm toán viên cấp trung ương. "
            "Kiểm toán viên cấp tỉnh xem lịch sử truy cập của từng người trong tỉnh.",
            "the system-wide audit log is for central-scope auditors only",
        )
    errors: dict[str, str] = {}
    actor = (nguoi or "").strip()
    action = (hanh_dong or "").strip()
    if len(actor) > 100:
        errors["nguoi"] = "Tên người thực hiện dài quá 100 ký tự."
    if len(action) > 60:
        errors["hanh_dong"] = "Tên hành động dài quá 60 ký tự."
    start = _day(tu_ngay, "tu_ngay", errors)
    end = _day(den_ngay, "den_ngay", errors)
    if start and end and end < start:
        errors["den_ngay"] = "Đến ngày phải sau hoặc bằng từ ngày."
    number = parse_page(trang)
    if number is None:
        errors["trang"] = "Số trang phải là số nguyên dương."
    entries: list[object] = []
    more = False
    if not errors:
        query = select(_AUDIT).order_by(_AUDIT.c.id.desc())
        if actor:
            query = query.where(_AUDIT.c.actor == actor)
        if action:
            query = query.where(_AUDIT.c.action == action)
        engine = engine_of(request)
        naive = engine.dialect.name == "sqlite"  # SQLite keeps naive UTC text
        if start:
            query = query.where(_AUDIT.c.occurred_at >= _utc_start(start, naive))
        if end:
            query = query.where(_AUDIT.c.occurred_at < _utc_start(end + timedelta(days=1), naive))
        offset = ((number or 1) - 1) * AUDIT_PAGE
        with engine.connect() as conn:
            found = conn.execute(query.limit(AUDIT_PAGE + 1).offset(offset)).all()
        entries, more = list(found[:AUDIT_PAGE]), len(found) > AUDIT_PAGE
    return page(
        request, "console/audit_log.html", staff, scope, status=400 if errors else 200,
        errors=errors, entries=entries, more=more, page_number=number or 1,
        filters={"nguoi": actor, "hanh_dong": action, "tu_ngay": tu_ngay or "",
                 "den_ngay": den_ngay or ""},
        active_nav="audit",
    )  # fmt: skip


def _utc_start(day: date, naive: bool) -> datetime:
    """Midnight of ``day`` in Vietnam, in UTC (the log stores UTC)."""
    moment = datetime.combine(day, time(0), VIETNAM).astimezone(UTC)
    return moment.replace(tzinfo=None) if naive else moment
