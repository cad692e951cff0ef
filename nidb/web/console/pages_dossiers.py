"""Staff pages of the online services under ``/can-bo/ho-so/``: the dossier list scoped to the
staff member's province (central staff see every province), a dossier's detail with its checks
and history, and the decision form (reviewer: checked; approver: approve or refuse).

Every detail view is audited (``dossier.viewed``): staff reads of a person's data are
recorded. Scope is enforced on every request, not only in the list.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from nidb.domain.errors import DomainError
from nidb.domain.staff import StaffAction, can
from nidb.services import decisions, views
from nidb.services.workflow import KINDS, STATE_TITLES
from nidb.store.audit import write_audit
from nidb.web.console.scope import NotInScope, scope_of
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import Forbidden, StaffPrincipal, current_staff, engine_of, flash
from nidb.web.templating import register_staff_nav, render

router = web_router("/can-bo/ho-so")
StaffDep = Annotated[StaffPrincipal, Depends(current_staff)]
PAGE_SIZE = 50


def _scope(staff: StaffPrincipal) -> tuple[str, ...] | None:
    """The provinces whose dossiers a staff member handles (None: central, every province),
    as the console counts them: a merged province includes the old provinces merged into it."""
    scope = scope_of(staff)
    return None if scope.sees_all else scope.provinces


def _in_scope(staff: StaffPrincipal, view: views.DossierView) -> None:
    """A dossier outside the staff member's area answers 404, like one that does not exist
    (the console's rule: a page never reveals that another province's record exists)."""
    if not scope_of(staff).allows(view.summary.province):
        raise NotInScope(f"hồ sơ số {view.summary.id}")


@router.get("/")
def dossier_list(
    request: Request,
    staff: StaffDep,
    trang_thai: str | None = None,
    loai: str | None = None,
    qua_han: str | None = None,
    trang: int = 1,
) -> HTMLResponse:
    """Dossiers of my scope, soonest deadline first; filters by state, kind, overdue."""
    engine = engine_of(request)
    state = trang_thai if trang_thai in STATE_TITLES else None
    kind = loai if loai in KINDS else None
    page = max(1, min(trang, 10_000))
    if qua_han:
        rows = [r for r in views.overdue(engine, _scope(staff)) if kind is None or r.kind == kind]
    else:
        rows = views.list_for_scope(
            engine,
            _scope(staff),
            states=(state,) if state else None,
            kind=kind,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    return render(
        request,
        "workflows/staff_list.html",
        staff=staff,
        active_nav="dossiers",
        rows=rows,
        state=state or "",
        kind=kind or "",
        overdue_only=bool(qua_han),
        page=page,
        page_size=PAGE_SIZE,
        states=[("", "Mọi trạng thái"), *STATE_TITLES.items()],
        kinds=[("", "Mọi loại"), *((k, s.title_vi) for k, s in KINDS.items())],
    )


def _detail(
    request: Request,
    staff: StaffPrincipal,
    dossier_id: int,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    engine = engine_of(request)
    view = views.get_dossier(engine, dossier_id)
    _in_scope(staff, view)
    with engine.begin() as conn:
        write_audit(
            conn,
            actor=staff.actor,
            action="dossier.viewed",
            subject_type="dossier",
            subject_id=str(dossier_id),
            purpose="DVC",
            detail={"kind": view.summary.kind},
        )
    return render(
        request,
        "workflows/staff_dossier.html",
        status=status,
        staff=staff,
        active_nav="dossiers",
        view=view,
        error=error,
        can_check=can(staff.role, StaffAction.CHECK_DOSSIER) and view.summary.state == "submitted",
        can_decide=can(staff.role, StaffAction.DECIDE_DOSSIER)
        and view.summary.state
        in ("submitted", "checked", "awaiting_approval", "awaiting_residence"),
    )


@router.get("/{dossier_id}")
def dossier_detail(request: Request, dossier_id: int, staff: StaffDep) -> Response:
    """One dossier: applicant, data, checks, history, payments, and the decision form."""
    try:
        return _detail(request, staff, dossier_id)
    except DomainError as error:
        return render(
            request, "workflows/not_found.html", status=404, staff=staff, message=error.message_vi
        )


@router.post("/{dossier_id}/quyet-dinh")
async def dossier_decide(request: Request, dossier_id: int, staff: StaffDep) -> Response:
    """Record a decision made on the version of the dossier the staff member saw."""
    if not (
        can(staff.role, StaffAction.CHECK_DOSSIER) or can(staff.role, StaffAction.DECIDE_DOSSIER)
    ):
        raise Forbidden(
            "Vai trò của bạn không được quyết định hồ sơ.",
            f"role {staff.role} cannot decide dossiers",
        )
    form = await request.form()
    action = str(form.get("action", ""))
    note = str(form.get("note", ""))
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = -1
    try:
        _in_scope(staff, views.get_dossier(engine_of(request), dossier_id))
        view = decisions.decide(
            engine_of(request),
            dossier_id,
            action,
            actor=staff.actor,
            role=staff.role,
            version=version,
            note=note,
        )
    except DomainError as error:
        try:
            return _detail(
                request,
                staff,
                dossier_id,
                error=error.message_vi,
                status=409 if error.rule == "DOSSIER_CHANGED" else 422,
            )
        except DomainError as missing:
            return render(
                request,
                "workflows/not_found.html",
                status=404,
                staff=staff,
                message=missing.message_vi,
            )
    flash(request, f"Hồ sơ số {dossier_id}: {view.summary.state_title_vi}.", "success")
    return see_other(f"/can-bo/ho-so/{dossier_id}")


def mount(app: FastAPI) -> None:
    """Add the staff pages and their navigation link."""
    register_staff_nav("dossiers", "Hồ sơ dịch vụ công", "/can-bo/ho-so/")
    app.include_router(router)
