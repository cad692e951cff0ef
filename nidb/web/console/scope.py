"""Who may see what in the staff console: roles, and the area (phạm vi) a staff member covers.

Written once, used by every console page as a dependency:

- **role** — what each role may do is the one rule table of ``nidb.domain.staff`` (``can``),
  shared with the staff API: reviewer (decides identity review items and correction requests,
  checks dossiers), approver (decides dossiers, on the services pages), auditor (read-only:
  access history, audit log, the queue, dashboards), admin (what reviewers and auditors do).
  A page the role may not use answers a 403 page in Vietnamese.
- **area** — central staff see all provinces; province staff their province; district staff
  their district where a record carries one, else their province (person records, alerts and
  correction requests carry only a province, so district staff see their province's). A record
  outside the area answers 404, exactly as a record that does not exist: the page must not
  reveal that it exists.

A record's province is the province of issue in its BHXH code (the first two digits), the one
whose insurance agency keeps the record. Since 1 July 2025 provinces were merged (34 instead of
63), but codes issued earlier keep their old province: a province staff member of a merged
province sees the records of every old province merged into it (``predecessors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends
from sqlalchemy import ColumnElement, and_, false, or_, true

from nidb.domain.errors import DomainError
from nidb.domain.provinces import PROVINCES_34, predecessors, province
from nidb.domain.staff import StaffAction, can, roles_allowed
from nidb.web.sessions import Forbidden, StaffPrincipal, current_staff


class NotInScope(Exception):
    """A record that does not exist or lies outside the staff member's area: a 404 page."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True, slots=True)
class StaffScope:
    """The area a staff member covers, and the SQL conditions that keep queries inside it."""

    level: str
    provinces: tuple[str, ...]
    """2-digit codes of the provinces whose records are visible; empty for central staff."""
    district: str | None = None

    @property
    def sees_all(self) -> bool:
        """Central staff: no filter."""
        return self.level == "central"

    def allows(self, province_code: str | None, district_code: str | None = None) -> bool:
        """Whether a record in ``province_code`` (and ``district_code``, if it has one) is visible."""
        if self.sees_all:
            return True
        if province_code is None or province_code not in self.provinces:
            return False
        if self.level == "district" and district_code is not None:
            return district_code == self.district
        return True

    def allows_bhxh_code(self, bhxh_code: str | None) -> bool:
        """Whether the record of ``bhxh_code`` (province = its first two digits) is visible."""
        return bhxh_code is not None and self.allows(bhxh_code[:2])

    def bhxh_condition(self, column: Any) -> ColumnElement[bool]:
        """``column`` (a BHXH code) starts with one of the visible provinces.

        Written as ranges (``'01' <= code < '02'``) rather than ``LIKE '01%'`` so PostgreSQL uses
        the plain b-tree index on ``bhxh_code`` whatever the database collation.
        """
        if self.sees_all:
            return true()
        if not self.provinces:
            return false()
        return or_(*(and_(column >= code, column < _next_code(code)) for code in self.provinces))

    def province_condition(self, column: Any) -> ColumnElement[bool]:
        """``column`` (a 2-digit province code) is one of the visible provinces."""
        if self.sees_all:
            return true()
        return column.in_(self.provinces) if self.provinces else false()

    def describe(self) -> str:
        """The area in words, for the page header."""
        if self.sees_all:
            return "Toàn quốc (trung ương)"
        if not self.provinces:
            return "Chưa được giao tỉnh nào"
        seat, *merged = self.provinces
        words = f"Tỉnh/thành phố mã {seat} ({_name(seat)})"
        if merged:
            words += f", gồm cả mã cũ {', '.join(merged)} đã sáp nhập"
        if self.level == "district":
            area = words[0].lower() + words[1:]
            return f"Quận/huyện {self.district} — hồ sơ không ghi quận/huyện: cả {area}"
        return words


def _next_code(code: str) -> str:
    return f"{int(code) + 1:02d}"


def _name(code: str) -> str:
    try:
        return province(code).name
    except DomainError:
        return code


class HasArea(Protocol):
    """Anyone who covers an area: a signed-in staff member, or a staff API token's holder."""

    @property
    def scope_level(self) -> str: ...
    @property
    def province_code(self) -> str | None: ...
    @property
    def district_code(self) -> str | None: ...


def scope_of(staff: HasArea) -> StaffScope:
    """The area of ``staff`` (a console session or an API token: one rule for both); a merged
    (34-list) province covers the old codes merged into it."""
    if staff.scope_level == "central":
        return StaffScope("central", ())
    code = staff.province_code or ""
    codes = predecessors(code) if code in PROVINCES_34 else (code,) if code else ()
    return StaffScope(staff.scope_level, tuple(codes), staff.district_code)


def _allowed_to(action: StaffAction) -> Any:
    """A dependency: the signed-in staff member, if their role may do ``action``; else 403."""

    def dependency(staff: StaffPrincipal = Depends(current_staff)) -> StaffPrincipal:  # noqa: B008
        if not can(staff.role, action):
            needs = " or ".join(roles_allowed(action))
            raise Forbidden(
                "Vai trò của bạn không được dùng chức năng này. "
                "Nếu cần, hãy liên hệ quản trị hệ thống để được phân quyền.",
                f"role {staff.role} may not use this page (needs {needs})",
            )
        return staff

    return dependency


def staff_scope(staff: StaffPrincipal = Depends(current_staff)) -> StaffScope:  # noqa: B008
    """FastAPI dependency: the signed-in staff member's area."""
    return scope_of(staff)


AnyStaff = Annotated[StaffPrincipal, Depends(current_staff)]
Reviewer = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.DECIDE_REVIEW_ITEM))]
"""May decide identity review items."""
QueueReader = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.READ_REVIEW_QUEUE))]
"""May look at the review queue (auditors read only)."""
CorrectionDecider = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.DECIDE_CORRECTION))]
"""May decide citizens' correction requests."""
CorrectionReader = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.READ_CORRECTIONS))]
"""May look at citizens' correction requests (auditors read only)."""
Auditor = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.READ_ACCESS_LOG))]
"""May read access histories and the audit log."""
AlertDecider = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.DECIDE_ALERT))]
"""May confirm or dismiss access-anomaly alerts."""
DebtReader = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.READ_DEBTORS))]
"""May list employers in debt."""
ClaimReader = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.READ_CLAIMS))]
"""May look at the flagged health-insurance claims (auditors read only)."""
ClaimReviewer = Annotated[StaffPrincipal, Depends(_allowed_to(StaffAction.REVIEW_CLAIM))]
"""May accept or adjust a flagged claim's assessment."""
EmployerAccountReader = Annotated[
    StaffPrincipal, Depends(_allowed_to(StaffAction.READ_EMPLOYER_ACCOUNTS))
]
"""May find an employer and see its enrolment, keys and sign-in state."""
EmployerAccountManager = Annotated[
    StaffPrincipal, Depends(_allowed_to(StaffAction.MANAGE_EMPLOYER_ACCOUNTS))
]
"""May enrol an employer, add or revoke its keys, set its password, lift its lock."""
Scope = Annotated[StaffScope, Depends(staff_scope)]
