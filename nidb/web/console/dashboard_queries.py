"""Aggregates behind the dashboards: verification progress, alerts and review backlog by province.

Each is one ``GROUP BY`` in the database, scoped in SQL. Verification progress reads every
person record of the area (on PostgreSQL an index-only scan of ``ix_persons_bhxh_code_status``),
which on a one-million-person register costs a few hundred milliseconds: the results are kept
for ``CACHE_SECONDS`` per (engine, area), and the page says when they were counted. Progress by
province is a figure for managers, not a live counter; the work lists stay live.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from nidb.domain.errors import DomainError
from nidb.domain.provinces import province, successor_or
from nidb.domain.verification import VerificationStatus
from nidb.store import models
from nidb.web.console.cache import cached, clear
from nidb.web.console.scope import StaffScope

CACHE_SECONDS = 60.0
VERIFICATION_STATUSES = tuple(status.value for status in VerificationStatus)
STATUS_LABELS = {status.value: status.label for status in VerificationStatus}

_PERSONS = models.Person.__table__
_ALERTS = models.Alert.__table__
_ITEMS = models.ReviewItem.__table__


@dataclass
class ProvinceProgress:
    """Verification of one province's records: counts by status."""

    code: str
    name: str
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def verified(self) -> int:
        return self.by_status.get("verified", 0)

    @property
    def share(self) -> float:
        """Verified / total, 0 when the province has no records."""
        return self.verified / self.total if self.total else 0.0


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows, for one area, counted at ``counted_at``."""

    progress: list[ProvinceProgress]
    alerts: dict[tuple[str, str], int]
    """(rule, province) → open alerts."""
    alert_rules: list[str]
    backlog: dict[tuple[str, str], int]
    """(province, kind) → open review items."""
    counted_at: datetime


def province_name(code: str | None) -> str:
    """A province's name (its code if unknown; "—" for none)."""
    if not code:
        return "—"
    try:
        return province(code).name
    except DomainError:
        return code


def province_of_today(code: str | None) -> str:
    """The province of the 34-province list (1 July 2025) an old code was merged into: BHXH
    codes carry the 63-list code of the office that issued them, and the dashboard counts by
    today's provinces, as the reports do (so "Lào Cai" is one row, not "10" and "15")."""
    return successor_or(code, code or "")


def _progress(engine: Engine, scope: StaffScope) -> list[ProvinceProgress]:
    prefix = func.substr(_PERSONS.c.bhxh_code, 1, 2).label("province")
    query = select(prefix, _PERSONS.c.verification_status, func.count()).group_by(
        prefix, _PERSONS.c.verification_status
    )
    if not scope.sees_all:
        query = query.where(scope.bhxh_condition(_PERSONS.c.bhxh_code))
    found: dict[str, ProvinceProgress] = {}
    with engine.connect() as conn:
        for old_code, status, count in conn.execute(query):
            code = province_of_today(old_code)
            entry = found.setdefault(code, ProvinceProgress(code, province_name(code)))
            entry.by_status[status] = entry.by_status.get(status, 0) + int(count)
    return sorted(found.values(), key=lambda p: p.code)


def _alerts(engine: Engine, scope: StaffScope) -> dict[tuple[str, str], int]:
    query = (
        select(_ALERTS.c.kind, _ALERTS.c.province, func.count())
        .where(_ALERTS.c.status == "open", scope.province_condition(_ALERTS.c.province))
        .group_by(_ALERTS.c.kind, _ALERTS.c.province)
    )
    found: dict[tuple[str, str], int] = defaultdict(int)
    with engine.connect() as conn:
        for kind, code, n in conn.execute(query):
            found[(kind, province_of_today(code))] += int(n)
    return dict(found)


def _backlog(engine: Engine, scope: StaffScope) -> dict[tuple[str, str], int]:
    prefix = func.substr(_PERSONS.c.bhxh_code, 1, 2).label("province")
    query = (
        select(prefix, _ITEMS.c.kind, func.count())
        .select_from(
            _ITEMS.join(_PERSONS, _PERSONS.c.record_id == _ITEMS.c.record_id, isouter=True)
        )
        .where(_ITEMS.c.status == "open")
        .group_by(prefix, _ITEMS.c.kind)
    )
    if not scope.sees_all:
        query = query.where(scope.bhxh_condition(_PERSONS.c.bhxh_code))
    found: dict[tuple[str, str], int] = defaultdict(int)
    with engine.connect() as conn:
        for code, kind, n in conn.execute(query):
            found[(province_of_today(code), kind)] += int(n)
    return dict(found)


def dashboard(engine: Engine, scope: StaffScope) -> Dashboard:
    """The dashboard of ``scope`` (from the cache if counted less than CACHE_SECONDS ago)."""

    def count() -> Dashboard:
        alerts = _alerts(engine, scope)
        return Dashboard(
            progress=_progress(engine, scope),
            alerts=alerts,
            alert_rules=sorted({rule for rule, _ in alerts}),
            backlog=_backlog(engine, scope),
            counted_at=datetime.now(UTC),
        )

    return cached(("dashboard", id(engine), str(engine.url), scope), CACHE_SECONDS, count)


def clear_cache() -> None:
    """Forget every counted dashboard and count (tests, and after a decision)."""
    clear()


def backlog_by_province(board: Dashboard) -> list[dict[str, Any]]:
    """Rows of the backlog table: province, open items by kind, total; largest first."""
    rows: dict[str, dict[str, int]] = defaultdict(dict)
    for (code, kind), count in board.backlog.items():
        rows[code][kind] = count
    table = [
        {"code": code, "name": province_name(code), "kinds": kinds, "total": sum(kinds.values())}
        for code, kinds in rows.items()
    ]
    return sorted(table, key=lambda r: (-r["total"], r["code"]))
