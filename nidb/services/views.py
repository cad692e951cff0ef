"""Reading dossiers for pages and commands: typed views, lists by person and by scope, overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, select, true

from nidb.services.workflow import DOSSIERS, KINDS, STATE_TITLES, TERMINAL, load
from nidb.store.models_services import DossierEvent, DossierFile, Notification, Payment

__all__ = [
    "DossierEventView",
    "DossierSummary",
    "DossierView",
    "NotificationView",
    "get_dossier",
    "list_for_person",
    "list_for_scope",
    "notifications_for",
    "overdue",
]


# the list columns: a list never loads the JSON data and checks of its dossiers
SUMMARY = [
    DOSSIERS.c[name]
    for name in (
        "id",
        "kind",
        "state",
        "applicant_personal_id",
        "subject_personal_id",
        "province",
        "version",
        "submitted_at",
        "state_due_at",
    )
]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes for timezone-aware columns; they are UTC
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DossierSummary:
    """One line of a dossier list."""

    id: int
    kind: str
    kind_title_vi: str
    state: str
    state_title_vi: str
    applicant_personal_id: str | None
    subject_personal_id: str | None
    province: str | None
    version: int
    submitted_at: datetime
    state_due_at: datetime | None
    overdue: bool

    @classmethod
    def from_row(cls, row: Row[Any], now: datetime | None = None) -> DossierSummary:
        due = _aware(row.state_due_at)
        now = now or datetime.now(UTC)
        return cls(
            id=int(row.id),
            kind=row.kind,
            kind_title_vi=KINDS[row.kind].title_vi,
            state=row.state,
            state_title_vi=STATE_TITLES.get(row.state, row.state),
            applicant_personal_id=row.applicant_personal_id,
            subject_personal_id=row.subject_personal_id,
            province=row.province,
            version=int(row.version),
            submitted_at=_aware(row.submitted_at) or now,
            state_due_at=due,
            overdue=due is not None and row.state not in TERMINAL and due < now,
        )


@dataclass(frozen=True, slots=True)
class DossierEventView:
    """One step of a dossier's history."""

    actor: str
    from_state: str | None
    to_state: str
    occurred_at: datetime
    note: str | None


@dataclass(frozen=True, slots=True)
class DossierView:
    """A dossier with its data, checks, history, payments and attachment names."""

    summary: DossierSummary
    data: dict[str, Any]
    checks: list[dict[str, Any]]
    events: list[DossierEventView]
    payments: list[dict[str, Any]]
    files: list[str]

    @property
    def checks_passed(self) -> bool:
        return all(bool(check.get("ok")) for check in self.checks)


@dataclass(frozen=True, slots=True)
class NotificationView:
    """A message to a citizen."""

    id: int
    text_vi: str
    dossier_id: int | None
    created_at: datetime
    read: bool


def read_dossier(conn: Connection, dossier_id: int) -> DossierView:
    """The full view of one dossier (DossierNotFound if none)."""
    row = load(conn, dossier_id)
    events = [
        DossierEventView(
            e.actor, e.from_state, e.to_state, _aware(e.occurred_at) or e.occurred_at, e.note
        )
        for e in conn.execute(
            select(DossierEvent.__table__)
            .where(DossierEvent.dossier_id == dossier_id)
            .order_by(DossierEvent.id)
        )
    ]
    payments = [
        {
            "reference": p.reference,
            "amount": int(p.amount),
            "status": p.status,
            "pay_url": p.pay_url,
            "paid_at": _aware(p.paid_at),
        }
        for p in conn.execute(
            select(Payment.__table__).where(Payment.dossier_id == dossier_id).order_by(Payment.id)
        )
    ]
    files = list(
        conn.execute(
            select(DossierFile.filename).where(DossierFile.dossier_id == dossier_id)
        ).scalars()
    )
    return DossierView(
        DossierSummary.from_row(row),
        dict(row.data or {}),
        list(row.checks or []),
        events,
        payments,
        files,
    )


def get_dossier(engine: Engine, dossier_id: int) -> DossierView:
    """The full view of one dossier."""
    with engine.connect() as conn:
        return read_dossier(conn, dossier_id)


def list_for_person(engine: Engine, personal_id: str) -> list[DossierSummary]:
    """Dossiers a citizen filed or that are about them, newest first."""
    query = (
        select(*SUMMARY)
        .where(
            (DOSSIERS.c.applicant_personal_id == personal_id)
            | (DOSSIERS.c.subject_personal_id == personal_id)
        )
        .order_by(DOSSIERS.c.id.desc())
    )
    with engine.connect() as conn:
        return [DossierSummary.from_row(row) for row in conn.execute(query)]


def _in_provinces(province: str | tuple[str, ...] | None) -> Any:
    """The condition keeping dossiers to a province or provinces (None: no condition)."""
    if province is None:
        return true()
    return DOSSIERS.c.province.in_((province,) if isinstance(province, str) else province)


def list_for_scope(
    engine: Engine,
    province: str | tuple[str, ...] | None,
    *,
    states: tuple[str, ...] | None = None,
    kind: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[DossierSummary]:
    """Dossiers of a province or provinces (None: every province, for central staff), oldest
    due first."""
    query = select(*SUMMARY).where(_in_provinces(province))
    if states:
        query = query.where(DOSSIERS.c.state.in_(states))
    if kind:
        query = query.where(DOSSIERS.c.kind == kind)
    query = query.order_by(
        DOSSIERS.c.state_due_at.is_(None), DOSSIERS.c.state_due_at, DOSSIERS.c.id
    )
    with engine.connect() as conn:
        rows = conn.execute(query.limit(limit).offset(offset)).all()
    return [DossierSummary.from_row(row) for row in rows]


def overdue(
    engine: Engine,
    province: str | tuple[str, ...] | None = None,
    now: datetime | None = None,
    limit: int = 1000,
) -> list[DossierSummary]:
    """Open dossiers past their state's deadline, most overdue first, at most ``limit``
    (uses ix_dossiers_state_due)."""
    now = now or datetime.now(UTC)
    open_states = tuple(s for s in STATE_TITLES if s not in TERMINAL)
    query = select(DOSSIERS).where(
        DOSSIERS.c.state.in_(open_states), DOSSIERS.c.state_due_at < now, _in_provinces(province)
    )
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(DOSSIERS.c.state_due_at).limit(limit)).all()
    return [DossierSummary.from_row(row, now) for row in rows]


def notifications_for(engine: Engine, personal_id: str) -> list[NotificationView]:
    """A citizen's notifications, newest first."""
    n = Notification
    with engine.connect() as conn:
        rows = conn.execute(
            select(n.id, n.text_vi, n.dossier_id, n.created_at, n.read_at)
            .where(n.personal_id == personal_id)
            .order_by(n.id.desc())
        ).all()
    return [
        NotificationView(
            int(r.id),
            r.text_vi,
            r.dossier_id,
            _aware(r.created_at) or r.created_at,
            r.read_at is not None,
        )
        for r in rows
    ]
