"""The citizen portal (cổng công dân) under ``/cong-dan/``: sign-in through VNeID, own data."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from nidb.settings import get_settings
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import (
    CitizenPrincipal,
    current_citizen,
    end_session,
    load_session,
    safe_next,
)
from nidb.web.templating import render

router = web_router("/cong-dan")
CitizenDep = Annotated[CitizenPrincipal, Depends(current_citizen)]


@router.get("/dang-nhap")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    """Where a citizen starts: a button to sign in through VNeID."""
    info = load_session(request)
    if info is not None and info.kind == "citizen":
        return see_other(safe_next(next, "/cong-dan/"))
    return render(
        request,
        "cong-dan/dang-nhap.html",
        next=safe_next(next, "/cong-dan/"),
        vneid_ready=bool(get_settings().vneid_url),
        expired=request.query_params.get("het_han") == "1",
        signed_out=request.query_params.get("da_dang_xuat") == "1",
        message="",
    )


@router.post("/dang-xuat")
def sign_out(request: Request) -> Response:
    """End the citizen session."""
    response = see_other("/cong-dan/dang-nhap?da_dang_xuat=1")
    end_session(request, response)
    return response


@router.get("/")
def citizen_home(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """The citizen's start page."""
    return render(request, "cong-dan/home.html", citizen=citizen, active_nav="home")
