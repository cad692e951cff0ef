"""Tải dữ liệu của tôi (``/cong-dan/du-lieu-cua-toi``): the signed-in citizen's export of
everything nidb holds about them (``nidb.web.subject_export``), audited, streamed as a ZIP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, StreamingResponse

from nidb.store.audit import write_audit
from nidb.web import subject_export
from nidb.web.routing import web_router
from nidb.web.sessions import CitizenPrincipal, current_citizen, engine_of
from nidb.web.templating import render

router = web_router("/cong-dan")
CitizenDep = Annotated[CitizenPrincipal, Depends(current_citizen)]
PATH = "/du-lieu-cua-toi"


@router.get(PATH)
def export_page(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """What the export holds, and the button that downloads it."""
    with engine_of(request).connect() as conn:
        subject = subject_export.subject_of(conn, citizen.personal_id)
    return render(
        request,
        "cong-dan/du-lieu.html",
        citizen=citizen,
        active_nav="export",
        sections=subject_export.SECTIONS,
        has_record=bool(subject.codes),
    )


def _start(request: Request, citizen: CitizenPrincipal, now: datetime) -> subject_export.Subject:
    """Whose export, with the audit entry of the request committed before a byte is sent."""
    with engine_of(request).begin() as conn:
        subject = subject_export.subject_of(conn, citizen.personal_id)
        write_audit(
            conn,
            actor=f"citizen:{citizen.personal_id}",
            action="citizen.data_export",
            subject_type="citizen",
            subject_id=citizen.personal_id,
            purpose=None,
            detail={"codes": len(subject.codes), "files": len(subject_export.SECTIONS) + 2},
        )
    return subject


@router.post(PATH)
async def download_export(request: Request, citizen: CitizenDep) -> StreamingResponse:
    """The ZIP, streamed as it is read (a long history never sits whole in memory)."""
    now = datetime.now(UTC)
    subject = await run_in_threadpool(_start, request, citizen, now)
    engine = engine_of(request)
    stream = subject_export.stream_export(engine.connect, subject, now)
    filename = f"du-lieu-cua-toi-{now:%Y%m%d}.zip"
    return StreamingResponse(
        stream,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
