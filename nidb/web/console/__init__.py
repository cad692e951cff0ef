"""The staff console (trang cán bộ): work waiting, the identity review queue, dashboards,
auditor pages, citizens' correction requests and employers' enrolment, every page scoped to the staff member's
role and area (see ``scope``).

``mount(app)`` adds its routes before the foundation's bare staff home, so ``/can-bo/`` is the
console's home, registers the navigation links and the 404 page of records out of scope.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from nidb.domain.staff import StaffAction, can, roles_allowed
from nidb.web.console.scope import NotInScope
from nidb.web.templating import env, register_staff_nav, render

NAV = (
    ("review", "Đối soát", "/can-bo/doi-soat/"),
    ("dashboard", "Bảng điều khiển", "/can-bo/bang-dieu-khien/"),
    ("corrections", "Điều chỉnh", "/can-bo/dieu-chinh/"),
    ("dossiers", "Dịch vụ công", "/can-bo/ho-so/"),
    ("claims", "Giám định", "/can-bo/giam-dinh/"),
    ("debt", "Nợ đóng", "/can-bo/no-dong/"),
    ("audit", "Kiểm toán", "/can-bo/kiem-toan/"),
)
"""Short labels: an administrator sees all seven, on one line at 1280 px (the header test); each
page's own heading says in full what it is."""


NAV_ACTIONS = {
    "review": StaffAction.READ_REVIEW_QUEUE,
    "corrections": StaffAction.READ_CORRECTIONS,
    "dossiers": StaffAction.PROCESS_DOSSIERS,
    "audit": StaffAction.READ_ACCESS_LOG,
    "debt": StaffAction.READ_DEBTORS,
    "claims": StaffAction.READ_CLAIMS,
}
"""Navigation keys shown only to the roles that may do an action (a link that would answer 403
is not shown); keys not listed are shown to every role."""
NAV_ROLES = {
    key: tuple(role.value for role in roles_allowed(action)) for key, action in NAV_ACTIONS.items()
}


def mount(app: FastAPI) -> None:
    """Add the console's routes, navigation and the out-of-scope page to ``app``."""
    from nidb.web.console import (
        pages_alerts,
        pages_audit,
        pages_claims,
        pages_corrections,
        pages_dashboard,
        pages_debt,
        pages_employers,
        pages_review,
    )

    for key, label, url in NAV:
        register_staff_nav(key, label, url)
    env.globals["staff_nav_roles"] = NAV_ROLES
    env.globals["staff_can"] = can  # staff_can(staff.role, "review.decide"), in templates

    @app.exception_handler(NotInScope)
    async def not_in_scope(request: Request, error: NotInScope) -> HTMLResponse:
        return render(request, "console/not_found.html", status=404, what=error.what)

    for module in (
        pages_review,
        pages_dashboard,
        pages_alerts,
        pages_audit,
        pages_corrections,
        pages_debt,
        pages_claims,
        pages_employers,
    ):
        app.include_router(module.router)
