"""The workflow engine: dossier kinds, their transition tables, deadlines, and the one way a
dossier changes state.

Every state change goes through ``move`` (or ``open_dossier`` for the first state): the
transition is checked against the kind's table and the actor's role, the row is updated only
if its ``version`` is still the one the decider saw (optimistic concurrency), and the same
transaction writes a ``dossier_events`` row, an audit entry and an outbox event. Deadlines
(working days, see ``workdays``) are per state; a terminal state has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from nidb.services.errors import ConcurrentDecision, DossierNotFound, TransitionRefused
from nidb.services.workdays import add_working_days
from nidb.store.audit import write_audit, write_event
from nidb.store.models_services import Dossier, DossierEvent, Notification
from nidb.store.tables import table_of

DOSSIERS = table_of(Dossier)

__all__ = [
    "DOSSIERS",
    "KINDS",
    "STATE_TITLES",
    "TERMINAL",
    "KindSpec",
    "load",
    "move",
    "notify",
    "open_dossier",
]

# Roles: the citizen; staff roles of the console (reviewer checks, approver decides); the
# system (nidb itself: checks run at submission, the payment callback, registry feeds).
CITIZEN, REVIEWER, APPROVER, SYSTEM = "citizen", "reviewer", "approver", "system"

TERMINAL = frozenset({"completed", "approved", "refused", "cancelled"})

STATE_TITLES: Mapping[str, str] = {
    "submitted": "Đã tiếp nhận",
    "checked": "Đã thẩm định, chờ phê duyệt",
    "awaiting_payment": "Chờ thanh toán",
    "awaiting_residence": "Chờ đăng ký thường trú",
    "awaiting_approval": "Chờ phê duyệt",
    "approved": "Đã phê duyệt",
    "refused": "Từ chối",
    "completed": "Hoàn thành",
    "cancelled": "Đã hủy",
}


@dataclass(frozen=True, slots=True)
class KindSpec:
    """A dossier kind: its name, states' deadlines and who may make which transition."""

    code: str
    title_vi: str
    legal_basis: str
    transitions: Mapping[tuple[str, str], frozenset[str]]
    deadline_days: Mapping[str, int] = field(default_factory=dict)
    """Working days allowed in a state (the legal time limit split over its steps)."""

    def allows(self, from_state: str, to_state: str, role: str) -> bool:
        return role in self.transitions.get((from_state, to_state), frozenset())


_STAFF = frozenset({REVIEWER, APPROVER})

KINDS: Mapping[str, KindSpec] = {
    spec.code: spec
    for spec in (
        KindSpec(
            "household_renewal",
            "Gia hạn thẻ BHYT hộ gia đình",
            "Luật BHYT 2008 (sửa đổi 2014) Điều 12, 16; Nghị định 146/2018/NĐ-CP Điều 7",
            {
                ("awaiting_payment", "completed"): frozenset({SYSTEM}),
                ("awaiting_payment", "cancelled"): frozenset({CITIZEN, APPROVER, SYSTEM}),
            },
            {"awaiting_payment": 5},  # our choice: the price is that of the submission day
        ),
        KindSpec(
            "one_time_si",
            "Hưởng BHXH một lần",
            "Luật BHXH 2014 Điều 60, 110; Nghị quyết 93/2015/QH13; Nghị định 115/2015/NĐ-CP",
            {
                ("submitted", "checked"): frozenset({REVIEWER}),
                ("submitted", "refused"): frozenset({APPROVER}),
                ("checked", "approved"): frozenset({APPROVER}),
                ("checked", "refused"): frozenset({APPROVER}),
                ("submitted", "cancelled"): frozenset({CITIZEN}),
            },
            {"submitted": 2, "checked": 3},  # Art. 110.4: 5 working days in all
        ),
        KindSpec(
            "unemployment",
            "Hưởng trợ cấp thất nghiệp",
            "Luật Việc làm 2013 Điều 46, 49, 50; Nghị định 28/2015/NĐ-CP",
            {
                ("submitted", "checked"): frozenset({REVIEWER}),
                ("submitted", "refused"): frozenset({APPROVER}),
                ("checked", "approved"): frozenset({APPROVER}),
                ("checked", "refused"): frozenset({APPROVER}),
                ("submitted", "cancelled"): frozenset({CITIZEN}),
            },
            {"submitted": 10, "checked": 10},  # Art. 46.3: 20 days from a complete dossier
        ),
        KindSpec(
            "child_card",
            "Liên thông khai sinh – thường trú – cấp thẻ BHYT trẻ dưới 6 tuổi",
            "Nghị định 63/2024/NĐ-CP; Luật BHYT Điều 12 (nhóm TE)",
            {
                ("awaiting_residence", "completed"): frozenset({SYSTEM, APPROVER}),
                ("awaiting_residence", "refused"): frozenset({APPROVER}),
            },
            {"awaiting_residence": 3},  # our choice: residence follows birth within days
        ),
        KindSpec(
            "death_benefits",
            "Liên thông khai tử – xóa thường trú – mai táng phí, tử tuất",
            "Nghị định 63/2024/NĐ-CP; Luật BHXH 2014 Điều 66–71, 112",
            {
                ("awaiting_approval", "approved"): frozenset({APPROVER}),
                ("awaiting_approval", "refused"): frozenset({APPROVER}),
            },
            {"awaiting_approval": 8},  # our reading of Art. 112: 8 working days (verify)
        ),
    )
}


def _due(spec: KindSpec, state: str, now: datetime) -> datetime | None:
    days = spec.deadline_days.get(state)
    return None if days is None or state in TERMINAL else add_working_days(now, days)


def open_dossier(
    conn: Connection,
    *,
    kind: str,
    state: str,
    actor: str,
    applicant_personal_id: str | None,
    applicant_bhxh_code: str | None = None,
    subject_personal_id: str | None = None,
    province: str | None,
    data: Mapping[str, Any],
    checks: list[dict[str, Any]],
    source_ref: str | None = None,
    note: str | None = None,
) -> int:
    """Insert a dossier in its first state, with its event, audit entry and outbox event."""
    spec = KINDS[kind]
    now = datetime.now(UTC)
    dossier_id = conn.execute(
        insert(Dossier)
        .values(
            kind=kind,
            state=state,
            applicant_personal_id=applicant_personal_id,
            applicant_bhxh_code=applicant_bhxh_code,
            subject_personal_id=subject_personal_id,
            province=province,
            data=dict(data),
            checks=checks,
            source_ref=source_ref,
            state_due_at=_due(spec, state, now),
            closed_at=now if state in TERMINAL else None,
        )
        .returning(Dossier.id)
    ).scalar_one()
    conn.execute(
        insert(DossierEvent).values(
            dossier_id=dossier_id, actor=actor, from_state=None, to_state=state, note=note
        )
    )
    detail = {"kind": kind, "state": state, "source_ref": source_ref, "note": note}
    write_audit(
        conn,
        actor=actor,
        action="dossier.opened",
        subject_type="dossier",
        subject_id=str(dossier_id),
        purpose="DVC",
        detail=detail,
    )
    write_event(conn, "dossier.opened", f"dossier:{dossier_id}", {"id": dossier_id, **detail})
    return int(dossier_id)


def move(
    conn: Connection,
    dossier_id: int,
    to_state: str,
    *,
    actor: str,
    role: str,
    note: str | None = None,
    expected_version: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> Row[Any]:
    """Move a dossier to ``to_state`` if its table lets ``role`` do so; returns the new row.

    ``expected_version``: the version the decider saw; when the row has moved on since,
    ConcurrentDecision (nothing written). None means "the version read now" (system steps,
    which hold the row by other means: the payment's own state guard).
    """
    dossier = load(conn, dossier_id)
    spec = KINDS[dossier.kind]
    seen = dossier.version if expected_version is None else expected_version
    if seen != dossier.version:
        raise ConcurrentDecision(dossier_id, seen)
    if not spec.allows(dossier.state, to_state, role):
        raise TransitionRefused(
            "state",
            dossier.state,
            "TRANSITION_NOT_ALLOWED",
            f"hồ sơ số {dossier_id} đang ở trạng thái “{STATE_TITLES.get(dossier.state, dossier.state)}”: "
            f"vai trò {role} không thể chuyển sang “{STATE_TITLES.get(to_state, to_state)}”",
            f"dossier {dossier_id} is {dossier.state}: role {role} cannot move it to {to_state}",
        )
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "state": to_state,
        "version": seen + 1,
        "updated_at": now,
        "state_due_at": _due(spec, to_state, now),
        "closed_at": now if to_state in TERMINAL else None,
    }
    if data is not None:
        values["data"] = {**dossier.data, **data}
    moved = conn.execute(
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.version == seen, Dossier.state == dossier.state)
        .values(**values)
    ).rowcount
    if moved != 1:
        raise ConcurrentDecision(dossier_id, seen)
    conn.execute(
        insert(DossierEvent).values(
            dossier_id=dossier_id,
            actor=actor,
            from_state=dossier.state,
            to_state=to_state,
            note=note,
        )
    )
    detail = {"kind": dossier.kind, "from": dossier.state, "to": to_state, "note": note}
    write_audit(
        conn,
        actor=actor,
        action=f"dossier.{to_state}",
        subject_type="dossier",
        subject_id=str(dossier_id),
        purpose="DVC",
        detail=detail,
    )
    write_event(conn, f"dossier.{to_state}", f"dossier:{dossier_id}", {"id": dossier_id, **detail})
    return load(conn, dossier_id)


def load(conn: Connection, dossier_id: int, *, for_update: bool = False) -> Row[Any]:
    """The dossier's row (attribute access by column name); DossierNotFound if none."""
    query = select(DOSSIERS).where(DOSSIERS.c.id == dossier_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise DossierNotFound(dossier_id)
    return row


def notify(
    conn: Connection,
    personal_id: str,
    text_vi: str,
    dossier_id: int | None,
    channel: str = "portal",
) -> None:
    """Queue a notification to a citizen (the portal shows it; ``sent_at`` is its delivery)."""
    conn.execute(
        insert(Notification).values(
            personal_id=personal_id,
            channel=channel,
            text_vi=text_vi,
            dossier_id=dossier_id,
            sent_at=datetime.now(UTC) if channel == "portal" else None,
        )
    )
