"""The review queue (hàng chờ xử lý): cases a staff member decides, and what deciding does.

Verification, matching and duplicate detection queue a `ReviewItem` when a record and a
registry person disagree in a way software must not settle alone. A staff member looks at the
record and the registry person side by side (`get_item`) and either accepts the candidate
(`accept`: the record takes the registry's name, birth date and gender where the item found
them different, and is verified with that personal ID; a `staff` identity link is opened and
an `identity.review_accepted` event written) or rejects it with a note (`reject`: the record
is marked `rejected`). Each decision is one transaction with its audit entry; an item is
decided once, and deciding it again is an error naming who decided it and when.

This module reads the queue (`list_items`, `count_items`, `get_item`) and is where every public
name is imported from; the types and errors live in `review_types`, the decisions (`accept`,
`reject`) in `review_decisions`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select

from nidb.domain.review import ReviewKind
from nidb.identity import dedupe_merge, review_decisions
from nidb.identity.reasons import Reason
from nidb.identity.review_decisions import audit, changes_on_accept, reject
from nidb.identity.review_types import (
    KINDS,
    STATUSES,
    FieldChange,
    FieldComparison,
    ItemAlreadyDecided,
    ItemDetail,
    ItemNotFound,
    NoCandidate,
    NoteInvalid,
    NoteRequired,
    RecordNotFound,
    RegistryRowMissing,
    ReviewError,
    ReviewRow,
    item_row,
    select_items,
)
from nidb.identity.review_types import PURPOSE as PURPOSE  # still importable from here
from nidb.store import models

__all__ = [
    "KINDS",
    "STATUSES",
    "FieldChange",
    "FieldComparison",
    "ItemAlreadyDecided",
    "ItemDetail",
    "ItemNotFound",
    "NoCandidate",
    "NoteInvalid",
    "NoteRequired",
    "RecordNotFound",
    "RegistryRowMissing",
    "ReviewError",
    "ReviewRow",
    "accept",
    "count_items",
    "get_item",
    "list_items",
    "read_items",
    "reject",
]


def accept(engine: Engine, item_id: int, actor: str, note: str | None = None) -> ReviewRow:
    """Accept the item (``review_decisions.accept``); a ``dedupe`` item's acceptance is the
    merge it proposes (``dedupe_merge.merge``)."""
    items = models.ReviewItem.__table__
    with engine.connect() as conn:
        kind = conn.execute(select(items.c.kind).where(items.c.id == item_id)).scalar()
    if kind == ReviewKind.DEDUPE.value:
        return dedupe_merge.merge(engine, item_id, actor, note)
    return review_decisions.accept(engine, item_id, actor, note)


def _check_filters(status: str | None, kind: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")


def list_items(
    engine: Engine,
    status: str | None = "open",
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ReviewRow]:
    """Review items, oldest first; `status` or `kind` None means any."""
    _check_filters(status, kind)
    items = models.ReviewItem.__table__
    query = select_items().order_by(items.c.id).limit(limit).offset(offset)
    if status is not None:
        query = query.where(items.c.status == status)
    if kind is not None:
        query = query.where(items.c.kind == kind)
    with engine.connect() as conn:
        return [item_row(row) for row in conn.execute(query)]


def read_items(
    engine: Engine,
    *,
    actor: str,
    status: str | None = "open",
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
    area: Callable[[Any], ColumnElement[bool]] | None = None,
) -> list[tuple[ReviewRow, str | None]]:
    """A staff member's look at the queue: `list_items` inside ``area`` (a condition on the
    record's BHXH code; None: every province), each item with its record's BHXH code.

    The list shows names and personal IDs, so every item listed is audited
    (``review.list``) in the same transaction as the read; the caller writes the access log.
    """
    _check_filters(status, kind)
    items, persons = models.ReviewItem.__table__, models.Person.__table__
    query = (
        select_items()
        .add_columns(persons.c.bhxh_code)
        .order_by(items.c.id)
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(items.c.status == status)
    if kind is not None:
        query = query.where(items.c.kind == kind)
    if area is not None:
        query = query.where(area(persons.c.bhxh_code))
    listed: list[tuple[ReviewRow, str | None]] = []
    with engine.begin() as conn:
        for row in conn.execute(query).all():
            values = dict(row._mapping)
            code = values.pop("bhxh_code")
            item = item_row(_Row(values))
            audit(conn, actor, "review.list", item, {"item_id": item.id})
            listed.append((item, code))
    return listed


class _Row:
    """A mapping dressed as a result row for `item_row`."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values


def count_items(engine: Engine, status: str | None = "open", kind: str | None = None) -> int:
    """How many review items `list_items` would page through."""
    _check_filters(status, kind)
    items = models.ReviewItem.__table__
    query = select(func.count()).select_from(items)
    if status is not None:
        query = query.where(items.c.status == status)
    if kind is not None:
        query = query.where(items.c.kind == kind)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


_FIELDS = (
    ("personal_id", "Số định danh (personal ID)", ("ID_",)),
    ("full_name", "Họ và tên (full name)", ("NAME_",)),
    ("date_of_birth", "Ngày sinh (date of birth)", ("DOB_",)),
    ("gender", "Giới tính (gender)", ("GENDER_",)),
    ("birth_province", "Tỉnh đăng ký khai sinh (birth province)", ("BIRTH_PROVINCE",)),
    ("status", "Tình trạng (life status)", ("PERSON_DEAD",)),
)


def get_item(engine: Engine, item_id: int, *, actor: str | None = None) -> ItemDetail:
    """The item with its record and the registry person, field by field.

    With `actor`, the read of personal data is recorded in the audit log (a staff member
    looked at this person's data).
    """
    items = models.ReviewItem.__table__
    persons, citizens = models.Person.__table__, models.Citizen.__table__
    with engine.begin() as conn:
        found = conn.execute(select_items().where(items.c.id == item_id)).first()
        if found is None:
            raise ItemNotFound(item_id)
        item = item_row(found)
        record = conn.execute(select(persons).where(persons.c.record_id == item.record_id)).first()
        registry = None
        if item.candidate_personal_id is not None:
            registry = conn.execute(
                select(citizens).where(citizens.c.personal_id == item.candidate_personal_id)
            ).first()
        if actor is not None:
            audit(conn, actor, "review.view", item, {"item_id": item.id})
    ours = None if record is None else dict(record._mapping)
    theirs = None if registry is None else dict(registry._mapping)
    on_accept: tuple[FieldChange, ...] = ()
    if ours is not None and theirs is not None and item.status == "open":
        on_accept = changes_on_accept(item, ours, theirs)
    return ItemDetail(item, ours, theirs, _compare(item, ours, theirs), on_accept)


def _compare(
    item: ReviewRow, record: dict[str, Any] | None, registry: dict[str, Any] | None
) -> tuple[FieldComparison, ...]:
    rows = []
    for name, label, prefixes in _FIELDS:
        ours: object
        theirs: object
        if name == "personal_id":  # a 9-digit CMND is compared on the old ID's row instead
            cmnd = record is not None and record["declared_id_kind"] == "cmnd"
            ours = None if record is None or cmnd else record["declared_id"]
            theirs = item.candidate_personal_id
        elif name == "status":
            ours = None
            theirs = None if registry is None else registry["status"]
            if registry is not None and registry["death_date"] is not None:
                theirs = f"{theirs} ({registry['death_date']})"
        else:
            ours = None if record is None else record[name]
            theirs = None if registry is None else registry[name]
        reasons = tuple(r for r in item.reasons if r.startswith(prefixes))
        rows.append(
            FieldComparison(
                name,
                label,
                None if ours is None else str(ours),
                None if theirs is None else str(theirs),
                reasons,
            )
        )
    if record is not None and record["declared_id_kind"] == "cmnd":
        rows.append(_old_id_row(record["declared_id"], registry))
    return tuple(rows)


def _old_id_row(declared: str, registry: dict[str, Any] | None) -> FieldComparison:
    """The record's 9-digit CMND beside the old ID the population database keeps."""
    theirs = None if registry is None else registry["old_id"]
    reasons = () if theirs == declared else (Reason.ID_OLD_CMND.value,)
    return FieldComparison("old_id", "Số CMND cũ (old ID card number)", declared, theirs, reasons)
