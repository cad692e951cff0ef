"""Employers in debt (``/can-bo/no-dong/``): per province, how many owe, how much and since
when, and the employers themselves, largest debt first; an employer whose enterprise closed in
the business registry (``employers.status`` 'closed', kept by the business feed) is flagged,
its debt being for staff to pursue rather than for a reminder alone.

"In debt" follows ``nidb.contributions.debt.debtors``: at an assessed month M, charges raised by
months before M not settled in full. The month shown is the latest assessed unless one is
chosen. Scoped by the employer's province (``employers.province``); the role rule is
``StaffAction.READ_DEBTORS``. Employer data is not personal data: no access-log entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from nidb.contributions.debt import Debtor, debtors
from nidb.web.console.common import page, parse_page
from nidb.web.console.dashboard_queries import province_name
from nidb.web.console.scope import DebtReader, NotInScope, Scope
from nidb.web.routing import web_router
from nidb.web.sessions import engine_of

router = web_router("/can-bo/no-dong")

DEBTORS_PAGE = 100
_MONTH = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])")
_PROVINCE = re.compile(r"\d\d")


@dataclass(frozen=True, slots=True)
class ProvinceDebt:
    """One province's debtors: how many, how much, and of those whose enterprise closed."""

    code: str | None
    name: str
    employers: int
    debt: int
    closed: int
    closed_debt: int


def _by_province(rows: list[Debtor]) -> list[ProvinceDebt]:
    totals: dict[str | None, list[int]] = {}
    for d in rows:
        t = totals.setdefault(d.province, [0, 0, 0, 0])
        t[0] += 1
        t[1] += d.debt
        if d.closed:
            t[2] += 1
            t[3] += d.debt
    found = [
        ProvinceDebt(code, province_name(code), n, debt, k, kd)
        for code, (n, debt, k, kd) in totals.items()
    ]
    return sorted(found, key=lambda p: (-p.debt, p.code or ""))


@router.get("/")
def debtors_page(
    request: Request,
    staff: DebtReader,
    scope: Scope,
    thang: str | None = None,
    tinh: str | None = None,
    da_dong: str | None = None,
    trang: str | None = None,
) -> HTMLResponse:
    """Debtors of the staff member's area at an assessed month, per province and one by one."""
    with engine_of(request).connect() as conn:
        months = [
            m if isinstance(m, date) else date.fromisoformat(str(m)[:10])
            for (m,) in conn.execute(
                text("SELECT month FROM contribution_runs ORDER BY month DESC LIMIT 36")
            )
        ]
        chosen = _MONTH.fullmatch(thang or "")
        month = date(int(chosen[1]), int(chosen[2]), 1) if chosen else None
        if month not in months:
            month = months[0] if months else None
        rows = [d for d in debtors(conn, month) if scope.allows(d.province)] if month else []
    province = tinh if tinh and _PROVINCE.fullmatch(tinh) else None
    if province is not None and not scope.allows(province):
        raise NotInScope("tỉnh")
    provinces = _by_province(rows)
    closed_only = da_dong == "1"
    listed = [
        d
        for d in rows
        if (province is None or d.province == province) and (d.closed or not closed_only)
    ]
    number = parse_page(trang) or 1
    shown = listed[(number - 1) * DEBTORS_PAGE : number * DEBTORS_PAGE]
    return page(
        request, "console/debtors.html", staff, scope,
        month=month, months=months, provinces=provinces, debtors=shown,
        listed=len(listed), total=sum(d.debt for d in listed), province=province,
        closed_only=closed_only, page_number=number,
        more=len(listed) > number * DEBTORS_PAGE, province_name=province_name,
        active_nav="debt",
    )  # fmt: skip
