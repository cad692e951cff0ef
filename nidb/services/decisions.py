"""Staff (and citizen) decisions on a dossier: check, approve, refuse, cancel.

``decide`` is one transaction: the state move (guarded by the version the decider saw, so of
two people deciding at once one wins and the other gets ConcurrentDecision), the effects of
an approval (the benefit row, the child's card), the notification, the audit entry and the
outbox event. Approving needs every check passed; refusing needs a reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row

from nidb.services.benefits import record_benefit
from nidb.services.deaths import grant_survivors
from nidb.services.errors import FormInvalid, NotEligible, TransitionRefused
from nidb.services.forms import check_text
from nidb.services.rules import vnd
from nidb.services.triggers import issue_child_card
from nidb.services.views import DossierView, read_dossier
from nidb.services.workdays import add_months, today_vn
from nidb.services.workflow import APPROVER, CITIZEN, DOSSIERS, REVIEWER, load, move, notify

__all__ = ["ACTIONS", "decide"]

ACTIONS = ("check", "approve", "refuse", "cancel")
_TARGET = {"check": "checked", "refuse": "refused", "cancel": "cancelled"}


def _approve_effects(
    conn: Connection, dossier: Row[Any], today: date
) -> tuple[str, dict[str, Any]]:
    """Write what an approval grants; returns the citizen's message and data to keep."""
    data = dossier.data
    if dossier.kind == "one_time_si":
        benefit = record_benefit(
            conn,
            dossier.applicant_bhxh_code,
            "one_time",
            today,
            lump_sum=int(data["amount"]),
            status="ended",
        )
        return (
            f"Hồ sơ số {dossier.id} được duyệt: hưởng BHXH một lần {vnd(int(data['amount']))}, chuyển vào tài khoản {data['bank_account']}.",
            {"benefit_id": benefit},
        )
    if dossier.kind == "unemployment":
        start = date.fromisoformat(data["start_date"])
        end = add_months(start, int(data["duration_months"])) - timedelta(days=1)
        benefit = record_benefit(
            conn,
            dossier.applicant_bhxh_code,
            "unemployment",
            start,
            end_date=end,
            monthly_amount=int(data["monthly_amount"]),
            status="active",
        )
        return (
            f"Hồ sơ số {dossier.id} được duyệt: trợ cấp thất nghiệp {vnd(int(data['monthly_amount']))}/tháng "
            f"từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}.",
            {"benefit_id": benefit},
        )
    if dossier.kind == "death_benefits":
        return grant_survivors(conn, dossier)
    if dossier.kind == "child_card":
        card = issue_child_card(conn, dossier)
        if card is None:
            raise NotEligible(
                "residence",
                dossier.subject_personal_id,
                "RESIDENCE_MISSING",
                "trẻ chưa có đăng ký thường trú: chưa cấp được thẻ",
                "the child has no registered residence yet: no card can be issued",
            )
        return (f"Thẻ BHYT trẻ em {card['card_code']} đã được cấp.", card)
    raise TransitionRefused(
        "kind",
        dossier.kind,
        "NO_APPROVAL",
        "loại hồ sơ này không phê duyệt",
        "this kind has no approval",
    )


def _to_state(kind: str, action: str) -> str:
    if action != "approve":
        return _TARGET[action]
    return "completed" if kind == "child_card" else "approved"


def decide(
    engine: Engine,
    dossier_id: int,
    action: str,
    *,
    actor: str,
    role: str,
    version: int,
    note: str | None = None,
    today: date | None = None,
) -> DossierView:
    """Apply a decision to a dossier seen at ``version``; returns the dossier after it."""
    if action not in ACTIONS:
        raise FormInvalid(
            "action", action, "ACTION_UNKNOWN", "thao tác không hợp lệ", "unknown action"
        )
    if role not in (REVIEWER, APPROVER, CITIZEN):
        raise FormInvalid(
            "role",
            role,
            "ROLE_UNKNOWN",
            "vai trò không được quyết định hồ sơ",
            "this role cannot decide",
        )
    text = check_text(note, "note", max_length=1000, required=action == "refuse")
    today = today or today_vn()
    with engine.begin() as conn:
        dossier = load(conn, dossier_id)
        if role == CITIZEN and dossier.applicant_personal_id != actor.removeprefix("citizen:"):
            raise TransitionRefused(
                "actor",
                actor,
                "NOT_APPLICANT",
                "chỉ người nộp được hủy hồ sơ",
                "only the applicant may cancel",
            )
        if action == "approve" and not all(check.get("ok") for check in dossier.checks or []):
            failed = [c["code"] for c in dossier.checks if not c.get("ok")]
            raise NotEligible(
                "checks",
                ",".join(failed),
                "CHECKS_FAILED",
                f"không thể phê duyệt: chưa đạt điều kiện {', '.join(failed)}",
                f"cannot approve: checks failed: {', '.join(failed)}",
            )
        moved = move(
            conn,
            dossier_id,
            _to_state(dossier.kind, action),
            actor=actor,
            role=role,
            note=text or None,
            expected_version=version,
        )
        message = None
        if action == "approve":
            message, extra = _approve_effects(conn, moved, today)
            moved = move_data(conn, dossier_id, {"decision": extra})
        elif action == "refuse":
            message = f"Hồ sơ số {dossier_id} bị từ chối. Lý do: {text}"
        elif action == "cancel":
            message = f"Hồ sơ số {dossier_id} đã được hủy."
        recipient = moved.applicant_personal_id or (moved.data or {}).get("next_of_kin")
        if message and recipient:
            notify(conn, recipient, message, dossier_id)
        return read_dossier(conn, dossier_id)


def move_data(conn: Connection, dossier_id: int, values: dict[str, Any]) -> Row[Any]:
    """Merge ``values`` into a dossier's data (in the transaction that just moved it)."""
    row = load(conn, dossier_id)
    conn.execute(
        DOSSIERS.update()
        .where(DOSSIERS.c.id == dossier_id)
        .values(data={**(row.data or {}), **values})
    )
    return load(conn, dossier_id)
