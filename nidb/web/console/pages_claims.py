"""Staff review of flagged health-insurance claims (``/can-bo/giam-dinh/``).

The list holds the claims the automatic assessment reduced or rejected, at facilities of the
staff member's area (a facility's province is the first two digits of its code); a claim page
puts each line as the facility claimed it beside what the rules accepted, the rule and its
explanation, the money in whole đồng, the card and the facility by name. Reviewers accept the
assessment or adjust lines, always with a reason, through ``nidb.claims.review`` (one
transaction with its audit entry); opening a claim is written to the access log against the
patient, as every staff read of personal data is.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import and_, func, select

from nidb.claims.review import FLAGGED, REASON_MAX, ClaimFile, ReviewRefused, load, province_of
from nidb.claims.review import review_claim as record_review
from nidb.claims.rules import TITLES
from nidb.domain.display import beneficiary_group_label, vn_date
from nidb.domain.staff import StaffAction, can
from nidb.store.models_claims import Claim, ClaimFacility, ClaimReview
from nidb.web.console.common import log_staff_read, page, parse_id, parse_page
from nidb.web.console.scope import ClaimReader, ClaimReviewer, NotInScope, Scope, StaffScope
from nidb.web.routing import see_other, web_router
from nidb.web.sessions import StaffPrincipal, engine_of, flash

router = web_router("/can-bo/giam-dinh")

PAGE_SIZE = 50
OUTCOME_LABELS = {
    "accepted": "Chấp nhận toàn bộ",
    "reduced": "Chấp nhận có giảm trừ",
    "rejected": "Từ chối thanh toán",
}
STATUS_LABELS = {"cho": "Chờ xem xét", "da-xem": "Đã xem xét", "tat-ca": "Tất cả"}
DECISION_LABELS = {"accept": "Giữ kết quả giám định tự động", "adjust": "Điều chỉnh"}
KIND_LABELS = {"drug": "Thuốc", "service": "Dịch vụ"}
ROUTE_LABELS = {
    "right": "Đúng tuyến",
    "referral": "Chuyển tuyến",
    "emergency": "Cấp cứu",
    "wrong": "Trái tuyến",
}
CARD_STATUS_LABELS = {
    "active": "Đang có giá trị",
    "suspended": "Tạm khóa",
    "revoked": "Thu hồi",
    "expired": "Hết hạn",
}
LEVEL_LABELS = {1: "Tuyến trung ương", 2: "Tuyến tỉnh", 3: "Tuyến huyện", 4: "Tuyến xã"}
_AMOUNT = re.compile(r"[0-9]{1,3}(\.[0-9]{3})*|[0-9]{1,15}")


def _quantity(milli: int) -> str:
    whole, part = divmod(milli, 1000)
    text = f"{whole:,}".replace(",", ".")
    return f"{text},{part:03d}".rstrip("0").rstrip(",") if part else text


def _plain_amount(value: int) -> str:
    """``3.500``: an amount as the form shows it and reads it back."""
    return f"{value:,}".replace(",", ".")


def _rule_title(rule: str) -> str:
    return TITLES.get(rule, ("Lý do khác", ""))[0]


def _listing(
    request: Request, scope: StaffScope, status: str, number: int
) -> tuple[list[Any], int]:
    reviewed = (
        select(ClaimReview.id)
        .where(ClaimReview.claim_id == Claim.id, ClaimReview.version == Claim.version)
        .exists()
    )
    province = func.substr(Claim.facility_code, 1, 2)
    where = [Claim.outcome.in_(FLAGGED), scope.province_condition(province)]
    if status == "cho":
        where.append(~reviewed)
    elif status == "da-xem":
        where.append(reviewed)
    name = (
        select(ClaimFacility.name)
        .where(ClaimFacility.code == Claim.facility_code)
        .order_by(ClaimFacility.contract_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    with engine_of(request).connect() as conn:
        total = conn.execute(select(func.count()).select_from(Claim).where(and_(*where)))
        rows = conn.execute(
            select(
                Claim.id, Claim.facility_code, Claim.ma_lk, Claim.card_code, Claim.admitted_at,
                Claim.outcome, Claim.claimed_total, Claim.accepted_total,
                name.label("facility_name"), reviewed.label("reviewed"),
            )
            .where(*where)
            .order_by(Claim.id)
            .limit(PAGE_SIZE)
            .offset((number - 1) * PAGE_SIZE)
        ).all()  # fmt: skip
        return list(rows), int(total.scalar_one())


@router.get("/")
def claim_list(
    request: Request,
    staff: ClaimReader,
    scope: Scope,
    trang_thai: str | None = None,
    trang: str | None = None,
) -> HTMLResponse:
    """The flagged claims of the staff member's area, oldest first (those waiting by default)."""
    errors: dict[str, str] = {}
    status = trang_thai or "cho"
    if status not in STATUS_LABELS:
        errors["trang_thai"] = "Trạng thái không hợp lệ: hãy chọn trong danh sách."
    number = parse_page(trang)
    if number is None:
        errors["trang"] = "Số trang phải là số nguyên dương."
    rows: list[Any] = []
    total = 0
    if not errors:
        rows, total = _listing(request, scope, status, number or 1)
    return page(
        request, "console/claims.html", staff, scope, status=400 if errors else 200,
        errors=errors, rows=rows, total=total, page_number=number or 1,
        pages=max(1, -(-total // PAGE_SIZE)), status_filter=status if not errors else "cho",
        status_labels=STATUS_LABELS, outcome_labels=OUTCOME_LABELS, active_nav="claims",
    )  # fmt: skip


def _claim_in_scope(request: Request, scope: StaffScope, raw_id: str) -> ClaimFile:
    number = parse_id(raw_id, "hồ sơ giám định")
    with engine_of(request).connect() as conn:
        found = load(conn, number)
    if (
        found is None
        or found.claim.outcome is None
        or not scope.allows(province_of(found.claim.facility_code))
    ):
        raise NotInScope("hồ sơ giám định")
    return found


def _claim_page(
    request: Request,
    staff: StaffPrincipal,
    scope: StaffScope,
    found: ClaimFile,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    message: str = "",
) -> HTMLResponse:
    claim = found.claim
    log_staff_read(
        request, staff, "claims.view/v1", claim.bhxh_code, "h",
        {"claim": claim.id, "facility": claim.facility_code},
    )  # fmt: skip
    card = found.card
    return page(
        request, "console/claim.html", staff, scope, status=status, f=found, claim=claim,
        card=card, errors=errors or {}, form=form or {}, message=message,
        visit_day=vn_date(found.visit_day),
        group_label=beneficiary_group_label(card.group_code) if card is not None else "",
        can_review=can(staff.role, StaffAction.REVIEW_CLAIM)
        and not found.reviewed
        and claim.outcome in FLAGGED,
        outcome_labels=OUTCOME_LABELS, decision_labels=DECISION_LABELS, kind_labels=KIND_LABELS,
        route_labels=ROUTE_LABELS, card_status_labels=CARD_STATUS_LABELS,
        level_labels=LEVEL_LABELS, rule_title=_rule_title, quantity=_quantity,
        reason_max=REASON_MAX, plain_amount=_plain_amount, active_nav="claims",
    )  # fmt: skip


@router.get("/{claim_id}")
def claim_page(request: Request, claim_id: str, staff: ClaimReader, scope: Scope) -> HTMLResponse:
    """A claim's lines beside the assessment, the card and the facility; the review form."""
    return _claim_page(request, staff, scope, _claim_in_scope(request, scope, claim_id))


def _amount(raw: str) -> int | None:
    """A whole-đồng amount typed as ``1234567`` or ``1.234.567``; None when it is not one."""
    text = raw.strip().removesuffix("đồng").removesuffix("đ").strip()
    if not _AMOUNT.fullmatch(text):
        return None
    return int(text.replace(".", ""))


@router.post("/{claim_id}/xem-xet")
async def review_claim(
    request: Request,
    claim_id: str,
    staff: ClaimReviewer,
    scope: Scope,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Accept the assessment or adjust lines (fields ``line_<id>``); bad input changes nothing."""
    found = _claim_in_scope(request, scope, claim_id)
    submitted = await request.form()
    form: dict[str, str] = {"decision": decision, "reason": reason[:REASON_MAX]}
    errors: dict[str, str] = {}
    adjustments: dict[int, int] = {}
    by_id = {line.id: line for line in found.lines}
    for line in found.lines:
        raw = str(submitted.get(f"line_{line.id}", "")).strip()
        form[f"line_{line.id}"] = raw[:30]
        if not raw:
            continue
        value = _amount(raw)
        if value is None:
            errors[f"line_{line.id}"] = (
                f"Dòng {line.line_no}: số tiền phải là số nguyên đồng, ví dụ 42.100."
            )
        elif value != (line.accepted_amount or 0):
            adjustments[line.id] = value
    if decision == "accept":
        adjustments = {}
    if not errors:
        try:
            result = record_review(
                engine_of(request), found.claim.id, staff.actor, decision, reason, adjustments
            )
        except ReviewRefused as refused:
            field = refused.field
            on_line = field.startswith("line_") and field[5:].isdigit()
            if (on_line and int(field[5:]) in by_id) or field in ("decision", "reason"):
                errors[field] = refused.message_vi
            elif field == "lines":
                errors["decision"] = refused.message_vi
            else:
                with engine_of(request).connect() as conn:
                    again = load(conn, found.claim.id) or found
                return _claim_page(
                    request, staff, scope, again, status=409,
                    message=f"{refused.message_vi} Không có thay đổi nào được ghi.",
                )  # fmt: skip
        else:
            flash(
                request,
                f"Đã ghi kết quả xem xét hồ sơ số {found.claim.id}: "
                f"{OUTCOME_LABELS[result['outcome']].lower()}.",
                "success",
            )
            return see_other(f"/can-bo/giam-dinh/{found.claim.id}")
    return _claim_page(request, staff, scope, found, status=400, errors=errors, form=form)
