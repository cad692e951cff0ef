"""Dashboards (``/can-bo/bang-dieu-khien/``): verification progress per province as a bar chart
with a sortable table beside it, open alerts by rule and province, review backlog by province.

Every role sees the dashboards of its own area. Sorting is a link per column header (no
script), so the table works with the keyboard and without JavaScript.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from nidb.web.console.charts import stacked_bars
from nidb.web.console.common import page
from nidb.web.console.dashboard_queries import (
    STATUS_LABELS,
    VERIFICATION_STATUSES,
    ProvinceProgress,
    backlog_by_province,
    dashboard,
    province_name,
)
from nidb.web.console.pages_review import KIND_LABELS
from nidb.web.console.scope import AnyStaff, Scope
from nidb.web.routing import web_router
from nidb.web.sessions import engine_of

router = web_router("/can-bo")

SORTS = {
    "ma": ("mã tỉnh", lambda p: p.code, False),
    "ten": ("tên tỉnh", lambda p: p.name, False),
    "tong": ("tổng số hồ sơ", lambda p: p.total, True),
    "da_xac_thuc": ("số đã xác thực", lambda p: p.verified, True),
    "ty_le": ("tỷ lệ đã xác thực", lambda p: p.share, True),
}
STATUS_CSS = {
    "verified": "seg-verified",
    "review": "seg-review",
    "unmatched": "seg-unmatched",
    "rejected": "seg-rejected",
    "unverified": "seg-unverified",
}


def number(value: int) -> str:
    """1.234.567, as Vietnamese writes thousands."""
    return f"{value:,}".replace(",", ".")


def _percent(share: float) -> str:
    return f"{share * 100:.1f}".replace(".", ",") + " %"


def _chart(progress: list[ProvinceProgress]):  # type: ignore[no-untyped-def]
    """Stacked bars, one per province: the share of records in each verification status."""
    rows = []
    for entry in progress:
        parts = [
            (
                STATUS_CSS.get(status, "seg-unverified"),
                entry.by_status.get(status, 0) / entry.total if entry.total else 0,
                f"{STATUS_LABELS.get(status, status)}: {number(entry.by_status.get(status, 0))}",
            )
            for status in VERIFICATION_STATUSES
        ]
        rows.append((f"{entry.name} ({entry.code})", parts, _percent(entry.share)))
    verified = sum(p.verified for p in progress)
    total = sum(p.total for p in progress)
    summary = (
        f"Tỷ lệ hồ sơ đã xác thực theo tỉnh: {len(progress)} tỉnh, {number(verified)} trên "
        f"{number(total)} hồ sơ đã xác thực ({_percent(verified / total if total else 0)}). "
        "Số liệu chi tiết ở bảng bên cạnh."
    )
    return stacked_bars(rows, summary, scale_max=1.0)


@router.get("/bang-dieu-khien/")
def dashboard_page(
    request: Request, staff: AnyStaff, scope: Scope, sap_xep: str | None = None
) -> HTMLResponse:
    """Progress, alerts and backlog of the staff member's area (counted at most a minute ago)."""
    errors: dict[str, str] = {}
    sort = sap_xep or "ma"
    if sort not in SORTS:
        errors["sap_xep"] = "Cách sắp xếp không hợp lệ; bảng được sắp theo mã tỉnh."
        sort = "ma"
    board = dashboard(engine_of(request), scope)
    _, key, descending = SORTS[sort]
    table = sorted(board.progress, key=key, reverse=descending)
    total = sum(p.total for p in board.progress)
    verified = sum(p.verified for p in board.progress)
    alert_provinces = sorted({code for _, code in board.alerts})
    return page(
        request, "console/dashboard.html", staff, scope, status=400 if errors else 200,
        errors=errors, board=board, table=table, sort=sort, sorts=SORTS,
        chart=_chart(table), statuses=VERIFICATION_STATUSES,
        status_labels=STATUS_LABELS, percent=_percent, total=total, verified=verified,
        alert_provinces=alert_provinces, province_name=province_name,
        number=number, backlog=backlog_by_province(board), kind_labels=KIND_LABELS, active_nav="dashboard",
    )  # fmt: skip
