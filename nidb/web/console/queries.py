"""The console's scoped reads: work waiting, the review queue page, an item's province.

Every query takes a ``StaffScope`` and adds its condition in SQL, so a page never loads rows
the staff member may not see. Aggregates for the dashboards are in ``dashboard_queries``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, inspect, select

from nidb.identity.review_types import ReviewRow, item_row, select_items
from nidb.store import models, people
from nidb.store.models_web import CorrectionRequest
from nidb.web.console.cache import cached
from nidb.web.console.scope import StaffScope

PAGE_SIZE = 25

_ITEMS = models.ReviewItem.__table__
_PERSONS = models.Person.__table__
_ALERTS = models.Alert.__table__
_REQUESTS = CorrectionRequest.__table__


@dataclass(frozen=True, slots=True)
class WorkCounts:
    """Work waiting in a staff member's area, for the staff home."""

    open_review_items: int
    open_alerts: int
    open_corrections: int | None
    """None when the correction-requests table is absent."""


_TABLE_SEEN: set[int] = set()


def has_corrections(engine: Engine) -> bool:
    """Whether the register has the citizens' correction requests table (portal migration).

    Once seen it is remembered per engine (a table is not dropped under a running server);
    asking the catalogue costs a few milliseconds on every home page otherwise.
    """
    if id(engine) in _TABLE_SEEN:
        return True
    found = inspect(engine).has_table("correction_requests")
    if found:
        _TABLE_SEEN.add(id(engine))
    return found


COUNT_SECONDS = 15.0
"""How long a count of work waiting is reused (see ``cache``)."""


def work_counts(engine: Engine, scope: StaffScope) -> WorkCounts:
    """Open review items, open alerts and undecided correction requests in ``scope``."""
    return cached(
        ("work", id(engine), str(engine.url), scope),
        COUNT_SECONDS,
        lambda: _work_counts(engine, scope),
    )


def _work_counts(engine: Engine, scope: StaffScope) -> WorkCounts:
    review = (
        select(func.count())
        .select_from(
            _ITEMS.join(_PERSONS, _PERSONS.c.record_id == _ITEMS.c.record_id, isouter=True)
        )
        .where(_ITEMS.c.status == "open")
    )
    if not scope.sees_all:
        review = review.where(scope.bhxh_condition(_PERSONS.c.bhxh_code))
    alerts = (
        select(func.count())
        .select_from(_ALERTS)
        .where(_ALERTS.c.status == "open", scope.province_condition(_ALERTS.c.province))
    )
    with engine.connect() as conn:
        open_items = int(conn.execute(review).scalar_one())
        open_alerts = int(conn.execute(alerts).scalar_one())
        corrections = None
        if has_corrections(engine):
            corrections = int(
                conn.execute(
                    corrections_query(scope, ("submitted", "in_review"), count=True)
                ).scalar_one()
            )
    return WorkCounts(open_items, open_alerts, corrections)


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the review queue in a staff member's area."""

    rows: list[tuple[ReviewRow, str | None]]
    """Each item with its record's BHXH code."""
    total: int
    page: int
    pages: int


def review_page(
    engine: Engine, scope: StaffScope, status: str | None, kind: str | None, page: int
) -> QueuePage:
    """Items of ``status`` and ``kind`` (None: any) whose record is in ``scope``, oldest first."""
    query = select_items().add_columns(_PERSONS.c.bhxh_code)
    count = select(func.count()).select_from(
        _ITEMS.join(_PERSONS, _PERSONS.c.record_id == _ITEMS.c.record_id, isouter=True)
    )
    conditions = []
    if status is not None:
        conditions.append(_ITEMS.c.status == status)
    if kind is not None:
        conditions.append(_ITEMS.c.kind == kind)
    if not scope.sees_all:
        conditions.append(scope.bhxh_condition(_PERSONS.c.bhxh_code))
    count = count.where(*conditions)
    with engine.connect() as conn:
        total = cached(
            ("queue", id(engine), str(engine.url), scope, status, kind),
            COUNT_SECONDS,
            lambda: int(conn.execute(count).scalar_one()),
        )
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages)
        offset = (page - 1) * PAGE_SIZE
        if scope.sees_all:
            # page the items alone, then join the page's 25 records: a deep page would
            # otherwise look up the record of every item it skips
            ids = (
                select(_ITEMS.c.id).where(*conditions).order_by(_ITEMS.c.id)
                .limit(PAGE_SIZE).offset(offset)
            )  # fmt: skip
            query = query.where(_ITEMS.c.id.in_(ids.scalar_subquery()))
        else:
            query = query.where(*conditions).limit(PAGE_SIZE).offset(offset)
        found = conn.execute(query.order_by(_ITEMS.c.id)).all()
    rows = []
    for row in found:
        values = dict(row._mapping)
        code = values.pop("bhxh_code")
        rows.append((item_row(_Mapping(values)), code))
    return QueuePage(rows, total, page, pages)


class _Mapping:
    """Adapter: ``item_row`` reads ``row._mapping``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values


def item_bhxh_code(engine: Engine, item_id: int) -> tuple[bool, str | None]:
    """(the item exists, its record's BHXH code or None when the record is gone)."""
    query = (
        select(_ITEMS.c.id, _PERSONS.c.bhxh_code)
        .select_from(
            _ITEMS.join(_PERSONS, _PERSONS.c.record_id == _ITEMS.c.record_id, isouter=True)
        )
        .where(_ITEMS.c.id == item_id)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return (False, None) if row is None else (True, row.bhxh_code)


def corrections_query(
    scope: StaffScope, statuses: tuple[str, ...] | None, *, count: bool = False
) -> Any:
    """Correction requests (of ``statuses``; None: any) of people whose record is in ``scope``.

    A request names the citizen by personal ID; its province is that of the record verified
    with that ID (a citizen without a verified record is seen by central staff only).
    """
    visible = select(_PERSONS.c.record_id).where(
        people.verified_as(_REQUESTS.c.personal_id),
        scope.bhxh_condition(_PERSONS.c.bhxh_code),
    )
    columns: list[Any] = [func.count()] if count else list(_REQUESTS.c)
    query = select(*columns).select_from(_REQUESTS)
    if statuses is not None:
        query = query.where(_REQUESTS.c.status.in_(statuses))
    if not scope.sees_all:
        query = query.where(visible.exists())
    return query


def correction_bhxh_codes(engine: Engine, personal_id: str) -> list[str]:
    """BHXH codes of the records verified with ``personal_id`` (for the scope check)."""
    with engine.connect() as conn:
        return people.codes_of(conn, personal_id, include_open_links=False)
