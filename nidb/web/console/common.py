"""Small pieces every console page uses: reading ids and page numbers from outside, logging a
staff read of personal data, and rendering with the staff member and their area."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from nidb.accesslog import AccessLog, staff_read
from nidb.web.console.scope import NotInScope, StaffScope
from nidb.web.sessions import StaffPrincipal
from nidb.web.templating import render

_ID = re.compile(r"[1-9][0-9]{0,17}")


def parse_id(raw: str, what: str) -> int:
    """A record number from a URL; anything else is a record that does not exist (404)."""
    if not _ID.fullmatch(raw):
        raise NotInScope(what)
    return int(raw)


def parse_page(raw: str | None) -> int | None:
    """A page number (1…100000), None when it is not one."""
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        return None
    return int(raw)


def log_staff_read(
    request: Request,
    staff: StaffPrincipal,
    service: str,
    subject: str | None,
    fields: str,
    detail: dict[str, Any],
) -> None:
    """Put a staff member's read of a person's data in the access log before the page leaves,
    as the staff JSON API does (the person sees it in their access history)."""
    record = staff_read(
        staff.actor, staff.role, service, subject, fields, {"via": "console", **detail}
    )
    log: AccessLog = request.app.state.access_log
    log.record(record, timeout=30.0)


def page(
    request: Request,
    template: str,
    staff: StaffPrincipal,
    scope: StaffScope,
    *,
    status: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    """Render a console page with the staff member, their area and the console stylesheet."""
    return render(
        request,
        template,
        status=status,
        staff=staff,
        scope=scope,
        **ctx,
    )
