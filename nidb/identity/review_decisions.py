"""Deciding a review item (accept or reject) and what a decision writes.

`accept` verifies the record as the item's candidate (``review.accept`` hands a ``dedupe`` item
to ``dedupe_merge.merge`` instead): for the fields the item disagreed on the
record takes the values of nidb's registry extract, a `staff` identity link is opened and an
`identity.review_accepted` event written. `reject` marks the record `rejected` (a note is
required; a rejected ``dedupe`` item leaves its records as they are). Each decision is one transaction with its audit entry; an item is decided once.
The public names are imported from `nidb.identity.review`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, text, update

from nidb.domain.errors import DomainError
from nidb.domain.review import ReviewKind
from nidb.domain.text import check_no_control
from nidb.domain.verification import VerificationStatus
from nidb.identity.review_types import (
    PURPOSE,
    FieldChange,
    ItemAlreadyDecided,
    ItemNotFound,
    NoCandidate,
    NoteInvalid,
    NoteRequired,
    RecordNotFound,
    RegistryRowMissing,
    ReviewRow,
    item_row,
    select_items,
)
from nidb.store import models
from nidb.store.audit import write_audit, write_event

__all__ = ["accept", "audit", "changes_on_accept", "reject"]


def _checked_note(item_id: int, note: str | None) -> None:
    """The note is text from outside: the domain's control-character rule, on both engines."""
    if note is None:
        return
    try:
        check_no_control(note, "note", multiline=True)
    except DomainError as error:
        raise NoteInvalid(item_id, error.message_vi, error.message_en) from None


def _decide(conn: Connection, item_id: int, status: str, actor: str, note: str | None) -> ReviewRow:
    """Mark an open item decided (guarded, so it is decided once) and return it."""
    items = models.ReviewItem.__table__
    decided = conn.execute(
        update(models.ReviewItem)
        .where(models.ReviewItem.id == item_id, models.ReviewItem.status == "open")
        .values(status=status, decided_by=actor, decided_at=datetime.now(UTC), note=note)
    ).rowcount
    found = conn.execute(select_items().where(items.c.id == item_id)).first()
    if found is None:
        raise ItemNotFound(item_id)
    item = item_row(found)
    if decided != 1:
        raise ItemAlreadyDecided(item_id, item.status, item.decided_by, item.decided_at)
    return item


_ADOPTED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("NAME_", ("full_name", "name_base")),
    ("DOB_", ("date_of_birth", "dob_precision", "birth_year")),
    ("GENDER_", ("gender",)),
    ("BIRTH_PROVINCE_", ("birth_province",)),
)
"""Per reason prefix, the record columns that take the registry's value on acceptance."""


def _adopted_columns(reasons: tuple[str, ...]) -> tuple[str, ...]:
    """The record columns the item disagreed on, in a stable order."""
    return tuple(
        column
        for prefix, columns in _ADOPTED
        if any(r.startswith(prefix) for r in reasons)
        for column in columns
    )


def _registry_changes(
    conn: Connection, item: ReviewRow, record: Any, candidate: str
) -> tuple[FieldChange, ...]:
    """The record's values the registry (nidb's extract) holds otherwise, for the fields the
    item disagreed on. Raises RegistryRowMissing when there are such fields but the extract
    has no row for the candidate."""
    columns = _adopted_columns(item.reasons)
    if not columns:
        return ()
    citizens = models.Citizen.__table__
    registry = conn.execute(
        select(*(citizens.c[c] for c in columns)).where(citizens.c.personal_id == candidate)
    ).first()
    if registry is None:
        raise RegistryRowMissing(item.id, candidate)
    return changes_on_accept(item, dict(record._mapping), dict(registry._mapping))


def changes_on_accept(
    item: ReviewRow, record: dict[str, Any], registry: dict[str, Any]
) -> tuple[FieldChange, ...]:
    """The record columns accepting `item` would set, with the registry's values."""
    return tuple(
        FieldChange(c, record[c], registry[c])
        for c in _adopted_columns(item.reasons)
        if record[c] != registry[c]
    )


def accept(engine: Engine, item_id: int, actor: str, note: str | None = None) -> ReviewRow:
    """Accept the item's candidate: the record is verified as that registry person.

    For the fields the item disagreed on (name, birth date, gender, birth province, by its reason
    codes) the record takes the values of nidb's registry extract (`citizens`). Opens a `staff` identity
    link (BHXH code ↔ personal ID), audits the decision with every value before and after, and
    writes an `identity.review_accepted` event, all in one transaction. The returned item's
    `changes` lists what changed. Raises ItemNotFound, ItemAlreadyDecided, NoCandidate,
    RecordNotFound or RegistryRowMissing (then nothing is written).
    """
    _checked_note(item_id, note)
    persons = models.Person.__table__
    now = datetime.now(UTC)
    with engine.begin() as conn:
        item = _decide(conn, item_id, "accepted", actor, note)
        candidate = item.candidate_personal_id
        if candidate is None:
            raise NoCandidate(item_id)
        query = select(persons).where(persons.c.record_id == item.record_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        record = conn.execute(query).first()
        if record is None:
            raise RecordNotFound(item_id, item.record_id)
        changes = _registry_changes(conn, item, record, candidate)
        conn.execute(
            update(models.Person)
            .where(models.Person.record_id == item.record_id)
            .values(
                verification_status=VerificationStatus.VERIFIED.value,
                verified_personal_id=candidate,
                verified_at=now,
                **{change.column: change.after for change in changes},
            )
        )
        conn.execute(
            text(
                "INSERT INTO identity_links (bhxh_code, personal_id, source, valid_from, note) "
                "SELECT CAST(:bhxh_code AS VARCHAR(10)), CAST(:personal_id AS VARCHAR(12)), "
                "'staff', :now, CAST(:note AS VARCHAR(400)) WHERE NOT EXISTS ("
                "SELECT 1 FROM identity_links WHERE bhxh_code = :bhxh_code "
                "AND personal_id = :personal_id AND source = 'staff' AND valid_to IS NULL)"
            ),
            {
                "bhxh_code": record.bhxh_code,
                "personal_id": candidate,
                "now": now,
                "note": f"review item {item_id}",
            },
        )
        changed = {c.column: {"before": c.before, "after": c.after} for c in changes}
        detail = {
            "item_id": item_id,
            "kind": item.kind,
            "personal_id": candidate,
            "reasons": list(item.reasons),
            "previous_status": record.verification_status,
            "changes": changed,
            "note": note,
        }
        audit(conn, actor, "review.accept", item, detail)
        write_event(
            conn,
            "identity.review_accepted",
            f"person:{candidate}",
            {
                "item_id": item_id,
                "kind": item.kind,
                "record_id": item.record_id,
                "bhxh_code": record.bhxh_code,
                "personal_id": candidate,
                "changes": changed,
            },
        )
    return replace(item, changes=changes)


def reject(engine: Engine, item_id: int, actor: str, note: str) -> ReviewRow:
    """Reject the item's candidate; `note` (why) is required. The record becomes `rejected`.

    Raises NoteRequired, ItemNotFound, ItemAlreadyDecided or RecordNotFound.
    """
    _checked_note(item_id, note)
    if not (note or "").strip():
        raise NoteRequired(item_id)
    persons = models.Person.__table__
    with engine.begin() as conn:
        item = _decide(conn, item_id, "rejected", actor, note.strip())
        if item.kind == ReviewKind.DEDUPE.value:  # not one person: the records stay as they are
            audit(conn, actor, "review.reject", item,
                  {"item_id": item_id, "kind": item.kind, "note": note.strip()})  # fmt: skip
            return item
        previous = conn.execute(
            select(persons.c.verification_status).where(persons.c.record_id == item.record_id)
        ).scalar()
        if previous is None:
            raise RecordNotFound(item_id, item.record_id)
        conn.execute(
            update(models.Person)
            .where(models.Person.record_id == item.record_id)
            .values(
                verification_status=VerificationStatus.REJECTED.value, verified_personal_id=None
            )
        )
        detail = {
            "item_id": item_id,
            "kind": item.kind,
            "personal_id": item.candidate_personal_id,
            "reasons": list(item.reasons),
            "previous_status": previous,
            "note": note.strip(),
        }
        audit(conn, actor, "review.reject", item, detail)
    return item


def audit(
    conn: Connection, actor: str, action: str, item: ReviewRow, detail: dict[str, object]
) -> None:
    """Append an audit entry about the item's person record (purpose DUYET_HO_SO)."""
    write_audit(
        conn,
        actor=actor,
        action=action,
        subject_type="person_record",
        subject_id=item.record_id,
        purpose=PURPOSE,
        detail=detail,
    )
