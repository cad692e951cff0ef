"""Alerts staff work on: list them, confirm or dismiss each (audited), and each rule's precision.

A decision is final (a decided alert cannot be decided again) and is what measures a rule:
precision = confirmed / (confirmed + dismissed) among the alerts staff decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, case, func, select, update

from nidb.store import models
from nidb.store.audit import write_audit

_ALERT = models.Alert


class AlertError(ValueError):
    """A decision that cannot be made, in Vietnamese and English."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        self.message_vi, self.message_en = message_vi, message_en
        super().__init__(f"{message_vi} ({message_en})")


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    kind: str
    province: str | None
    subject_type: str
    subject_id: str
    status: str
    created_at: datetime
    explanation_vi: str
    decided_by: str | None
    note: str | None


def _row(row: Any) -> AlertRow:
    detail = row.detail or {}
    return AlertRow(
        row.id,
        row.kind,
        row.province,
        row.subject_type,
        row.subject_id,
        row.status,
        row.created_at,
        str(detail.get("explanation_vi") or detail.get("message_vi") or ""),
        row.decided_by,
        row.note,
    )


def list_alerts(
    engine: Engine,
    status: str | None = "open",
    kind: str | None = None,
    province: str | None = None,
    limit: int = 50,
) -> list[AlertRow]:
    """Alerts, oldest first; None means any."""
    query = select(_ALERT.__table__).order_by(_ALERT.id).limit(limit)
    if status is not None:
        query = query.where(_ALERT.status == status)
    if kind is not None:
        query = query.where(_ALERT.kind == kind)
    if province is not None:
        query = query.where(_ALERT.province == province)
    with engine.connect() as conn:
        return [_row(row) for row in conn.execute(query)]


DECIDED_LABELS = {"confirmed": "đã được xác nhận", "dismissed": "đã bị bác bỏ"}


def decide(engine: Engine, alert_id: int, status: str, actor: str, note: str) -> AlertRow:
    """Confirm or dismiss an open alert, with why; audited in the same transaction.

    Nobody decides an alert about themselves (an access-anomaly alert's subject is the staff
    member who read); a decision is final.
    """
    if status not in ("confirmed", "dismissed"):
        raise AlertError("Quyết định phải là xác nhận hoặc bác bỏ", "confirmed or dismissed")
    if not note.strip():
        raise AlertError("Cần ghi lý do", "a note saying why is required")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(select(_ALERT.__table__).where(_ALERT.id == alert_id)).first()
        if row is None:
            raise AlertError(f"Không có cảnh báo số {alert_id}", f"no alert {alert_id}")
        if row.subject_id == actor:
            raise AlertError(
                f"Cảnh báo số {alert_id} là về chính bạn: người khác phải quyết định",
                f"alert {alert_id} is about you: someone else must decide it",
            )
        decided = conn.execute(
            update(_ALERT)
            .where(_ALERT.id == alert_id, _ALERT.status == "open")
            .values(status=status, decided_by=actor, decided_at=now, note=note.strip())
            .returning(_ALERT.id)
        ).first()
        if decided is None:
            raise AlertError(
                f"Cảnh báo số {alert_id} {DECIDED_LABELS.get(row.status, 'đã được xử lý')} "
                f"bởi {row.decided_by}",
                f"alert {alert_id} was already {row.status} by {row.decided_by}",
            )
        row = conn.execute(select(_ALERT.__table__).where(_ALERT.id == alert_id)).one()
        write_audit(
            conn,
            actor=actor,
            action=f"alert.{status}",
            subject_type="alert",
            subject_id=str(alert_id),
            purpose="THANHTRA",
            detail={"kind": row.kind, "subject": row.subject_id, "note": note.strip()},
        )
    return _row(row)


@dataclass(frozen=True, slots=True)
class RuleStats:
    kind: str
    open: int
    confirmed: int
    dismissed: int

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.dismissed
        return self.confirmed / decided if decided else None


def rule_stats(engine: Engine) -> list[RuleStats]:
    """Per alert kind: how many are open, confirmed and dismissed."""

    def count(status: str) -> Any:
        return func.sum(case((_ALERT.status == status, 1), else_=0))

    with engine.connect() as conn:
        rows = conn.execute(
            select(_ALERT.kind, count("open"), count("confirmed"), count("dismissed"))
            .group_by(_ALERT.kind)
            .order_by(_ALERT.kind)
        ).all()
    return [RuleStats(kind, int(o or 0), int(c or 0), int(d or 0)) for kind, o, c, d in rows]
