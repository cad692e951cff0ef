"""The citizen portal (cổng công dân) under ``/cong-dan/``: home, own record, e-card, access.

Every page reads only the data of the signed-in citizen (``current_citizen``: the personal ID
VNeID vouched for); nothing in the URL or form selects whose data is shown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from nidb.accesslog import access_history
from nidb.contributions.ledger import paid_through
from nidb.domain.display import BENEFIT_LEVEL_LABELS, beneficiary_group_label
from nidb.exchange.catalogue import INFO_GROUPS, PURPOSES, SERVICES
from nidb.settings import get_settings
from nidb.store import models, people
from nidb.web import citizen_data as data
from nidb.web.ecard import card_payload, qr_svg
from nidb.web.labels import STAFF_READS
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import (
    CitizenPrincipal,
    current_citizen,
    end_session,
    engine_of,
    load_session,
    safe_next,
)
from nidb.web.templating import render

router = web_router("/cong-dan")
CitizenDep = Annotated[CitizenPrincipal, Depends(current_citizen)]


def _today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


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
    """The citizen's start page: a summary and the way to each page."""
    with engine_of(request).connect() as conn:
        codes = people.codes_of(conn, citizen.personal_id, include_open_links=False)
        cards = data.health_cards(conn, codes)
    card = data.current_card(cards, _today())
    return render(
        request,
        "cong-dan/home.html",
        citizen=citizen,
        active_nav="home",
        codes=codes,
        card=card,
        status_labels=data.STATUS_LABELS,
    )


@router.get("/ho-so")
def my_record(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """Hồ sơ của tôi: identity as verified, month-by-month history, contributions, benefits."""
    today = _today()
    with engine_of(request).connect() as conn:
        who = data.identity(conn, citizen.personal_id)
        codes = sorted({r.bhxh_code for r in who.records})
        years = data.participation_history(conn, codes, today)
        benefits = data.benefits(conn, codes)
        paid = {code: paid_through(conn, code) for code in codes}
        employers = data.employer_names(
            conn, {e for y in years for m in y.months for e in m.schemes.values() if e}
        )
    return render(
        request,
        "cong-dan/ho-so.html",
        citizen=citizen,
        active_nav="record",
        who=who,
        codes=codes,
        years=years,
        paid_through={code: month for code, month in paid.items() if month is not None},
        benefits=benefits,
        employers=employers,
        schemes=data.SCHEMES,
        verification_labels=data.VERIFICATION_LABELS,
        reason_labels=data.REASON_LABELS,
        benefit_labels=data.BENEFIT_LABELS,
        status_labels=data.STATUS_LABELS,
        gender_labels=data.GENDER_LABELS,
        month_names=[f"Tháng {m}" for m in range(1, 13)],
    )


def _holder(conn: Any, citizen: CitizenPrincipal) -> tuple[str, str, str | None]:
    """Name, birth date and gender of the card holder: as the population database has them."""
    row = conn.execute(
        select(models.Citizen.full_name, models.Citizen.date_of_birth, models.Citizen.gender).where(
            models.Citizen.personal_id == citizen.personal_id
        )
    ).one_or_none()
    if row is not None:
        return row[0], row[1], row[2]
    gender = {"male": "M", "female": "F"}.get(str(citizen.session.data.get("gender")))
    return citizen.full_name, str(citizen.session.data.get("birthdate", "")), gender


@router.get("/the-bhyt")
def my_card(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """Thẻ BHYT điện tử: the card in force, with a QR code a hospital can check."""
    today = _today()
    with engine_of(request).connect() as conn:
        codes = people.codes_of(conn, citizen.personal_id, include_open_links=False)
        cards = data.health_cards(conn, codes)
        name, birth, gender = _holder(conn, citizen)
        card = data.current_card(cards, today)
        facility = data.facility_name(conn, card.facility_code, today) if card else None
    payload = card_payload(card.card_code, name, birth, gender) if card is not None else None
    qr = qr_svg(payload) if payload is not None else None
    return render(
        request,
        "cong-dan/the-bhyt.html",
        citizen=citizen,
        active_nav="card",
        card=card,
        cards=cards,
        holder_name=name,
        holder_birth=birth,
        holder_gender=data.GENDER_LABELS.get(gender or "", ""),
        valid_today=card is not None
        and card.status == "active"
        and card.valid_from <= today <= card.valid_to,
        qr_svg=qr,
        qr_payload=payload,  # an attribute of the QR's box, for tests and assistive tools
        facility=facility,
        group=beneficiary_group_label(card.group_code) if card else "",
        level=BENEFIT_LEVEL_LABELS.get(card.benefit_level, "") if card else "",
        status_labels=data.STATUS_LABELS,
        today=today,
    )


def _vi(text: str) -> str:
    """The Vietnamese part of a bilingual catalogue label "Tiếng Việt (English)"."""
    return text.split(" (", 1)[0]


def _groups(fields: str) -> str:
    """Information-group codes ("a,dd") in words."""
    codes = [c.strip() for c in fields.replace(";", ",").split(",") if c.strip()]
    return "; ".join(_vi(INFO_GROUPS.get(c, c)) for c in codes)


STAFF_ACTIONS = {
    "correction.in_review": "Tiếp nhận xử lý yêu cầu điều chỉnh của bạn",
    "correction.accepted": "Chấp thuận yêu cầu điều chỉnh của bạn",
    "correction.rejected": "Không chấp thuận yêu cầu điều chỉnh của bạn",
}
"""Staff actions in words; others show as "Thao tác nghiệp vụ (code)"."""


def _actor_label(actor: str, partners: dict[str, str]) -> str:
    if actor.startswith("staff:"):
        return f"Cán bộ cơ quan BHXH ({actor[6:]})"
    if actor.startswith("citizen:"):
        return "Chính bạn"
    return partners.get(actor, actor)


@router.get("/truy-cap")
def who_accessed(request: Request, citizen: CitizenDep) -> HTMLResponse:
    """Ai đã xem dữ liệu của tôi: partner reads (access log) and staff actions (audit log)."""
    engine = engine_of(request)
    with engine.connect() as conn:
        codes = people.codes_of(conn, citizen.personal_id, include_open_links=False)
    entries: list[dict[str, Any]] = []
    for code in codes:
        for view in access_history(engine, code, limit=200):
            entries.append(
                {
                    "at": view.occurred_at,
                    "actor": view.actor,
                    "what": SERVICES[view.service].title_vi
                    if view.service in SERVICES
                    else STAFF_READS.get(view.service, "Cán bộ xem dữ liệu"),
                    "purpose": _vi(PURPOSES.get(view.purpose or "", view.purpose or "")),
                    "fields": _groups(view.fields or ""),
                }
            )
    with engine.connect() as conn:
        staff_rows = conn.execute(
            select(
                models.AuditEntry.occurred_at,
                models.AuditEntry.actor,
                models.AuditEntry.action,
                models.AuditEntry.purpose,
            )
            .where(
                models.AuditEntry.subject_id.in_([citizen.personal_id, *codes]),
                models.AuditEntry.actor.like("staff:%"),
            )
            .order_by(models.AuditEntry.id.desc())
            .limit(200)
        ).all()
        partners = data.partner_names(conn, {e["actor"] for e in entries})
    for at, actor, action, purpose in staff_rows:
        entries.append(
            {
                "at": at.isoformat() if hasattr(at, "isoformat") else str(at),
                "actor": actor,
                "what": STAFF_ACTIONS.get(action, f"Thao tác nghiệp vụ ({action})"),
                "purpose": _vi(
                    PURPOSES.get(purpose or "", purpose or "Nghiệp vụ của cơ quan BHXH")
                ),
                "fields": "",
            }
        )
    entries.sort(key=lambda e: str(e["at"]), reverse=True)
    for entry in entries:
        entry["who"] = _actor_label(entry["actor"], partners)
        entry["when"] = _format_when(entry["at"])
    return render(
        request,
        "cong-dan/truy-cap.html",
        citizen=citizen,
        active_nav="access",
        entries=entries,
        has_record=bool(codes),
    )


def _format_when(value: str) -> str:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M")
