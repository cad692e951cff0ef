"""Staff review of flagged claims (giám định viên xem xét hồ sơ bị giảm trừ hoặc từ chối).

A claim the automatic assessment reduced or rejected waits for a staff member, who sees its
lines beside what the rules decided and either accepts the assessment as it is or adjusts the
accepted amount of some lines, always with a reason. One transaction writes the new money, the
review (``claim_reviews``, the claim's money before and after), an audit entry and an outbox
event ``claims.reviewed``; a bad request changes nothing.

An adjusted line's fund part is its new accepted amount × the catalogue's payment ratio (100%
for an item outside the catalogue the staff member chose to pay) × the claim's share (80, 95 or
100%), rounded half up to a whole đồng, as the assessment computes it. The line's reductions
become one staff adjustment, with the reason, for the part still refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from nidb.claims.rules import day, dong
from nidb.domain.text import control_character
from nidb.store import models
from nidb.store.audit import write_audit, write_event
from nidb.store.models_claims import Claim, ClaimFacility, ClaimLine, ClaimReview

FLAGGED = ("reduced", "rejected")
REASON_MAX = 1000
ADJUSTMENT = "staff_adjustment"
VN_OFFSET = timedelta(hours=7)


class ReviewRefused(Exception):
    """A review that cannot be recorded: a stable code and the reason in both languages."""

    def __init__(self, code: str, field: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code, self.field = code, field
        self.message_vi, self.message_en = message_vi, message_en


@dataclass(frozen=True)
class ReviewLine:
    """One line of a claim as the review page shows it."""

    id: int
    line_no: int
    kind: str
    item_code: str
    name: str
    quantity_milli: int
    unit_price: int
    amount: int
    accepted_amount: int | None
    insurer_amount: int | None
    reductions: list[dict[str, Any]]

    @property
    def reduced(self) -> int:
        return self.amount - (self.accepted_amount or 0)


@dataclass(frozen=True)
class ClaimFile:
    """A claim with everything the review page puts side by side."""

    claim: Any
    facility_name: str | None
    facility_level: int | None
    card: Any
    holder_name: str | None
    lines: list[ReviewLine]
    reviews: list[Any]

    @property
    def visit_day(self) -> date:
        moment: datetime = self.claim.admitted_at + VN_OFFSET
        return moment.date()

    @property
    def reviewed(self) -> bool:
        return any(r.version == self.claim.version for r in self.reviews)


def province_of(facility_code: str) -> str:
    """A facility's province: the first two digits of its code (as the register keeps it)."""
    return facility_code[:2]


def load(conn: Connection, claim_id: int) -> ClaimFile | None:
    """The claim, its facility, card, holder, lines and reviews; None when it does not exist."""
    claim = conn.execute(select(Claim.__table__).where(Claim.id == claim_id)).first()
    if claim is None:
        return None
    facility = conn.execute(
        select(ClaimFacility.name, ClaimFacility.level)
        .where(ClaimFacility.code == claim.facility_code)
        .order_by(ClaimFacility.contract_from.desc())
    ).first()
    cards = models.HealthCard.__table__
    card = (
        conn.execute(
            select(cards)
            .where(cards.c.bhxh_code == claim.bhxh_code)
            .where(cards.c.card_code == claim.card_code)
            .order_by(cards.c.valid_from.desc())
        ).first()
        or conn.execute(
            select(cards)
            .where(cards.c.bhxh_code == claim.bhxh_code)
            .order_by(cards.c.valid_from.desc())
        ).first()
    )
    holder = conn.execute(
        select(models.Citizen.full_name)
        .join(models.Person, models.Person.verified_personal_id == models.Citizen.personal_id)
        .where(models.Person.bhxh_code == claim.bhxh_code)
    ).scalar()
    lines = [
        ReviewLine(
            r.id,
            r.line_no,
            r.kind,
            r.item_code,
            r.name,
            r.quantity_milli,
            r.unit_price,
            r.amount,
            r.accepted_amount,
            r.insurer_amount,
            list(r.reductions or []),
        )
        for r in conn.execute(
            select(ClaimLine.__table__)
            .where(ClaimLine.claim_id == claim_id)
            .order_by(ClaimLine.line_no)
        )
    ]
    reviews = list(
        conn.execute(
            select(ClaimReview.__table__)
            .where(ClaimReview.claim_id == claim_id)
            .order_by(ClaimReview.id)
        )
    )
    return ClaimFile(
        claim,
        facility.name if facility else None,
        facility.level if facility else None,
        card,
        holder,
        lines,
        reviews,
    )


def _half_up(numerator: int, denominator: int) -> int:
    return (numerator * 2 + denominator) // (2 * denominator)


def _reason_problem(reason: str) -> ReviewRefused | None:
    if not reason.strip():
        return ReviewRefused(
            "REASON_MISSING", "reason", "Vui lòng ghi lý do quyết định (bắt buộc).",
            "a reason is required",
        )  # fmt: skip
    if len(reason) > REASON_MAX:
        return ReviewRefused(
            "REASON_TOO_LONG", "reason", f"Lý do dài quá {REASON_MAX} ký tự.",
            f"the reason is longer than {REASON_MAX} characters",
        )  # fmt: skip
    if control_character(reason, multiline=True) is not None:
        return ReviewRefused(
            "REASON_CONTROL_CHARACTER", "reason", "Lý do không được chứa ký tự điều khiển.",
            "the reason contains a control character",
        )  # fmt: skip
    return None


def review_claim(
    engine: Engine,
    claim_id: int,
    actor: str,
    decision: str,
    reason: str,
    adjustments: dict[int, int] | None = None,
) -> dict[str, Any]:
    """Record a staff member's review of a flagged claim; returns the claim's money after it.

    ``adjustments`` maps a line's id to its new accepted amount (whole đồng, 0 … the amount
    claimed on the line), for ``decision == "adjust"``. Raises ReviewRefused, changing nothing.
    """
    adjustments = adjustments or {}
    if decision not in ("accept", "adjust"):
        raise ReviewRefused(
            "DECISION_INVALID", "decision", "Vui lòng chọn Chấp nhận hoặc Điều chỉnh.",
            f"decision must be accept or adjust, not {decision[:20]!r}",
        )  # fmt: skip
    problem = _reason_problem(reason)
    if problem:
        raise problem
    with engine.begin() as conn:
        claim = conn.execute(
            select(Claim.__table__).where(Claim.id == claim_id).with_for_update()
        ).first()
        if claim is None:
            raise ReviewRefused(
                "CLAIM_NOT_FOUND", "claim", f"Không có hồ sơ số {claim_id}.",
                f"no claim {claim_id}",
            )  # fmt: skip
        if claim.outcome not in FLAGGED:
            raise ReviewRefused(
                "CLAIM_NOT_FLAGGED", "claim",
                f"Hồ sơ số {claim_id} không bị giảm trừ hay từ chối (hoặc chưa giám định); "
                "không cần xem xét.",
                f"claim {claim_id} is not reduced or rejected",
            )  # fmt: skip
        done = conn.execute(
            select(ClaimReview.id).where(
                ClaimReview.claim_id == claim_id, ClaimReview.version == claim.version
            )
        ).first()
        if done is not None:
            raise ReviewRefused(
                "CLAIM_ALREADY_REVIEWED", "claim",
                f"Hồ sơ số {claim_id} (lần gửi {claim.version}) đã được xem xét.",
                f"claim {claim_id} version {claim.version} is already reviewed",
            )  # fmt: skip
        lines = {
            row.id: row
            for row in conn.execute(
                select(ClaimLine.__table__).where(ClaimLine.claim_id == claim_id)
            )
        }
        if decision == "adjust":
            _check_adjustments(lines, adjustments)
        elif adjustments:
            raise ReviewRefused(
                "ADJUSTMENT_WITH_ACCEPT", "decision",
                "Đã nhập số tiền điều chỉnh: hãy chọn Điều chỉnh thay vì Chấp nhận.",
                "amounts given with decision accept",
            )  # fmt: skip
        before = {
            "outcome": claim.outcome,
            "accepted_total": claim.accepted_total,
            "insurer_total": claim.insurer_total,
            "reasons": claim.reasons,
            "lines": {
                str(i): {
                    "accepted_amount": lines[i].accepted_amount,
                    "insurer_amount": lines[i].insurer_amount,
                    "reductions": lines[i].reductions,
                }
                for i in adjustments
            },
        }
        after = dict(before)
        if decision == "adjust":
            after = _apply(conn, claim, lines, adjustments, reason.strip(), actor)
        conn.execute(
            insert(ClaimReview).values(
                claim_id=claim_id, version=claim.version, decision=decision,
                reason=reason.strip(), actor=actor, before=before, after=after,
            )
        )  # fmt: skip
        summary = {
            "claim_id": claim_id,
            "facility_code": claim.facility_code,
            "version": claim.version,
            "decision": decision,
            "outcome": after["outcome"],
            "accepted_total": after["accepted_total"],
            "insurer_total": after["insurer_total"],
        }
        write_audit(
            conn,
            actor=actor,
            action=f"claims.review.{decision}",
            subject_type="claim",
            subject_id=str(claim_id),
            purpose="GQCD",
            detail={**summary, "reason": reason.strip(), "lines": sorted(adjustments)},
        )
        write_event(conn, "claims.reviewed", str(claim_id), summary)
    return summary


def _check_adjustments(lines: dict[int, Any], adjustments: dict[int, int]) -> None:
    if not adjustments:
        raise ReviewRefused(
            "ADJUSTMENT_MISSING", "lines",
            "Chọn Điều chỉnh thì phải sửa số tiền chấp nhận của ít nhất một dòng.",
            "decision adjust needs at least one line's new amount",
        )  # fmt: skip
    for line_id, amount in adjustments.items():
        line = lines.get(line_id)
        if line is None:
            raise ReviewRefused(
                "LINE_NOT_IN_CLAIM", f"line_{line_id}",
                f"Dòng {line_id} không thuộc hồ sơ này.", f"line {line_id} is not in this claim",
            )  # fmt: skip
        if not 0 <= amount <= line.amount:
            raise ReviewRefused(
                "AMOUNT_OUT_OF_RANGE", f"line_{line_id}",
                f"Dòng {line.line_no}: số tiền chấp nhận {dong(amount)} phải từ 0 đến số đề nghị "
                f"{dong(line.amount)}.",
                f"line {line.line_no}: {amount} is outside 0..{line.amount}",
            )  # fmt: skip


def _apply(
    conn: Connection,
    claim: Any,
    lines: dict[int, Any],
    adjustments: dict[int, int],
    reason: str,
    actor: str,
) -> dict[str, Any]:
    share = claim.share_pct or 80
    accepted_total = claim.accepted_total or 0
    insurer_total = claim.insurer_total or 0
    for line_id, amount in adjustments.items():
        line = lines[line_id]
        ratio = 100 if line.payment_ratio is None else line.payment_ratio
        fund = _half_up(amount * ratio * share, 10_000)
        refused = line.amount - amount
        reductions = (
            [
                {
                    "rule": ADJUSTMENT,
                    "amount": refused,
                    "explanation_vi": f"Cán bộ giám định điều chỉnh dòng {line.line_no}: chấp "
                    f"nhận {dong(amount)}, giảm trừ {dong(refused)}. Lý do: {reason}",
                    "explanation_en": f"Adjusted by staff: {amount} VND accepted on line "
                    f"{line.line_no}, {refused} refused.",
                    "actor": actor,
                }
            ]
            if refused
            else None
        )
        accepted_total += amount - (line.accepted_amount or 0)
        insurer_total += fund - (line.insurer_amount or 0)
        conn.execute(
            update(ClaimLine)
            .where(ClaimLine.id == line_id)
            .values(accepted_amount=amount, insurer_amount=fund, reductions=reductions)
        )
    reductions_left = any(
        (lines[i].accepted_amount or 0) < lines[i].amount for i in lines if i not in adjustments
    ) or any(adjustments[i] < lines[i].amount for i in adjustments)
    if accepted_total == 0:
        outcome = "rejected"
    elif reductions_left:
        outcome = "reduced"
    else:
        outcome = "accepted"
    reasons = claim.reasons if outcome == "rejected" else []
    conn.execute(
        update(Claim)
        .where(Claim.id == claim.id)
        .values(
            outcome=outcome,
            accepted_total=accepted_total,
            insurer_total=insurer_total,
            reasons=reasons,
        )
    )
    return {
        "outcome": outcome,
        "accepted_total": accepted_total,
        "insurer_total": insurer_total,
        "reasons": reasons,
        "lines": {str(i): {"accepted_amount": adjustments[i]} for i in sorted(adjustments)},
    }


def visit_day_text(claim: Any) -> str:
    return day((claim.admitted_at + VN_OFFSET).date())
