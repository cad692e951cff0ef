"""The review queue (hàng chờ xử lý): cases a staff member decides, and what deciding does.

Verification, matching and duplicate detection queue a `ReviewItem` when a record and a
registry person disagree in a way software must not settle alone. A staff member looks at the
record and the registry person side by side (`get_item`) and either accepts the candidate
(`accept`: the record takes the registry's name, birth date and gender where the item found
them different, and is verified with that personal ID; a `staff` identity link is opened and
an `identity.review_accepted` event written) or rejects it with a note (`reject`: the record
is marked `rejected`). Each decision is one transaction with its audit entry; an item is
decided once, and deciding it again is an error naming who decided it and when.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text, update

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
    "NoteRequired",
    "RecordNotFound",
    "RegistryRowMissing",
    "ReviewError",
    "ReviewRow",
    "accept",
    "count_items",
    "get_item",
    "list_items",
    "reject",
]

KINDS = ("verification", "match", "dedupe")
STATUSES = ("open", "accepted", "rejected")
PURPOSE = "DUYET_HO_SO"
"""Audit purpose code: staff review of a person record."""


class ReviewError(Exception):
    """A review decision that cannot be made; says why in Vietnamese, then English."""

    def __init__(self, item_id: int, message_vi: str, message_en: str) -> None:
        super().__init__(f"mục {item_id}: {message_vi} (item {item_id}: {message_en})")
        self.item_id = item_id
        self.message_vi = message_vi
        self.message_en = message_en


class ItemNotFound(ReviewError):
    """No review item has this id."""

    def __init__(self, item_id: int) -> None:
        super().__init__(item_id, "không có mục này trong hàng chờ", "no such review item")


class ItemAlreadyDecided(ReviewError):
    """The item was decided before; `status`, `decided_by` and `decided_at` say how."""

    def __init__(
        self, item_id: int, status: str, decided_by: str | None, decided_at: datetime | None
    ) -> None:
        when = "" if decided_at is None else f" {decided_at:%Y-%m-%d %H:%M} UTC"
        word = {"accepted": "chấp nhận", "rejected": "từ chối"}.get(status, status)
        super().__init__(
            item_id,
            f"đã được {word} bởi {decided_by}{when}",
            f"already {status} by {decided_by}{when}",
        )
        self.status = status
        self.decided_by = decided_by
        self.decided_at = decided_at


class NoteRequired(ReviewError):
    """Rejecting needs a note saying why."""

    def __init__(self, item_id: int) -> None:
        super().__init__(
            item_id, "từ chối phải ghi rõ lý do (--note)", "a rejection needs a note (--note)"
        )


class NoCandidate(ReviewError):
    """The item proposes no registry person, so there is nothing to accept."""

    def __init__(self, item_id: int) -> None:
        super().__init__(
            item_id, "không có người được đề xuất để chấp nhận", "no candidate to accept"
        )


class RecordNotFound(ReviewError):
    """The item's person record is no longer in the register."""

    def __init__(self, item_id: int, record_id: str) -> None:
        super().__init__(
            item_id, f"không còn hồ sơ {record_id}", f"person record {record_id} is gone"
        )


class RegistryRowMissing(ReviewError):
    """Accepting would take registry values nidb's extract does not hold for the candidate."""

    def __init__(self, item_id: int, personal_id: str) -> None:
        super().__init__(
            item_id,
            f"trích xuất CSDL dân cư của nidb không có {personal_id}, không lấy được giá trị "
            "để sửa hồ sơ; hãy nạp lại trích xuất (nạp registry) rồi chấp nhận",
            f"nidb's registry extract holds no {personal_id}, so the record cannot take its "
            "values; import the registry extract, then accept",
        )
        self.personal_id = personal_id


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One review item, with the record's name for listing."""

    id: int
    record_id: str
    kind: str
    candidate_personal_id: str | None
    score: float | None
    reasons: tuple[str, ...]
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None
    full_name: str | None
    """The record's name (None if the record is gone)."""
    changes: tuple[FieldChange, ...] = ()
    """What `accept` changed in the record (empty otherwise)."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A record column that accepting an item set to the registry's value."""

    column: str
    before: object
    after: object


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """One field of the record beside the same field of the registry person."""

    field: str
    label: str
    """Vietnamese, then English in brackets."""
    record: str | None
    registry: str | None
    reasons: tuple[str, ...]
    """The item's reason codes about this field."""

    @property
    def agrees(self) -> bool:
        """Whether no reason concerns this field."""
        return not self.reasons


@dataclass(frozen=True, slots=True)
class ItemDetail:
    """A review item with the record and the registry person side by side."""

    item: ReviewRow
    record: dict[str, Any] | None
    registry: dict[str, Any] | None
    """nidb's extract of the candidate's registry row; None if it holds none."""
    fields: tuple[FieldComparison, ...]
    on_accept: tuple[FieldChange, ...] = ()
    """What `accept` would change in the record now (the registry's values it would take)."""


def _split(reasons: str | None) -> tuple[str, ...]:
    return tuple(code for code in (reasons or "").split(";") if code)


def _row(row: Any) -> ReviewRow:
    values = dict(row._mapping)
    values["reasons"] = _split(values["reasons"])
    return ReviewRow(**values)


def _listing() -> Any:
    items, persons = models.ReviewItem.__table__, models.Person.__table__
    return select(*items.c, persons.c.full_name).join_from(
        items, persons, persons.c.record_id == items.c.record_id, isouter=True
    )


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
    query = _listing().order_by(items.c.id).limit(limit).offset(offset)
    if status is not None:
        query = query.where(items.c.status == status)
    if kind is not None:
        query = query.where(items.c.kind == kind)
    with engine.connect() as conn:
        return [_row(row) for row in conn.execute(query)]


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
        found = conn.execute(_listing().where(items.c.id == item_id)).first()
        if found is None:
            raise ItemNotFound(item_id)
        item = _row(found)
        record = conn.execute(select(persons).where(persons.c.record_id == item.record_id)).first()
        registry = None
        if item.candidate_personal_id is not None:
            registry = conn.execute(
                select(citizens).where(citizens.c.personal_id == item.candidate_personal_id)
            ).first()
        if actor is not None:
            _audit(conn, actor, "review.view", item, {"item_id": item.id})
    ours = None if record is None else dict(record._mapping)
    theirs = None if registry is None else dict(registry._mapping)
    on_accept: tuple[FieldChange, ...] = ()
    if ours is not None and theirs is not None and item.status == "open":
        on_accept = _changes(item, ours, theirs)
    return ItemDetail(item, ours, theirs, _compare(item, ours, theirs), on_accept)


def _compare(
    item: ReviewRow, record: dict[str, Any] | None, registry: dict[str, Any] | None
) -> tuple[FieldComparison, ...]:
    rows = []
    for name, label, prefixes in _FIELDS:
        ours: object
        theirs: object
        if name == "personal_id":
            ours = None if record is None else record["declared_id"]
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
    return tuple(rows)


# --- deciding ---------------------------------------------------------------------------------


def _decide(conn: Connection, item_id: int, status: str, actor: str, note: str | None) -> ReviewRow:
    """Mark an open item decided (guarded, so it is decided once) and return it."""
    items = models.ReviewItem.__table__
    decided = conn.execute(
        update(models.ReviewItem)
        .where(models.ReviewItem.id == item_id, models.ReviewItem.status == "open")
        .values(status=status, decided_by=actor, decided_at=datetime.now(UTC), note=note)
    ).rowcount
    found = conn.execute(_listing().where(items.c.id == item_id)).first()
    if found is None:
        raise ItemNotFound(item_id)
    item = _row(found)
    if decided != 1:
        raise ItemAlreadyDecided(item_id, item.status, item.decided_by, item.decided_at)
    return item


_ADOPTED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("NAME_", ("full_name", "name_base")),
    ("DOB_", ("date_of_birth", "dob_precision", "birth_year")),
    ("GENDER_", ("gender",)),
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
    return _changes(item, dict(record._mapping), dict(registry._mapping))


def _changes(
    item: ReviewRow, record: dict[str, Any], registry: dict[str, Any]
) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(c, record[c], registry[c])
        for c in _adopted_columns(item.reasons)
        if record[c] != registry[c]
    )


def accept(engine: Engine, item_id: int, actor: str, note: str | None = None) -> ReviewRow:
    """Accept the item's candidate: the record is verified as that registry person.

    For the fields the item disagreed on (name, birth date, gender, by its reason codes) the
    record takes the values of nidb's registry extract (`citizens`). Opens a `staff` identity
    link (BHXH code ↔ personal ID), audits the decision with every value before and after, and
    writes an `identity.review_accepted` event, all in one transaction. The returned item's
    `changes` lists what changed. Raises ItemNotFound, ItemAlreadyDecided, NoCandidate,
    RecordNotFound or RegistryRowMissing (then nothing is written).
    """
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
                verification_status="verified",
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
        _audit(conn, actor, "review.accept", item, detail)
        conn.execute(
            insert(models.OutboxEvent).values(
                topic="identity.review_accepted",
                subject_key=f"person:{candidate}",
                payload={
                    "item_id": item_id,
                    "kind": item.kind,
                    "record_id": item.record_id,
                    "bhxh_code": record.bhxh_code,
                    "personal_id": candidate,
                    "changes": changed,
                },
            )
        )
    return replace(item, changes=changes)


def reject(engine: Engine, item_id: int, actor: str, note: str) -> ReviewRow:
    """Reject the item's candidate; `note` (why) is required. The record becomes `rejected`.

    Raises NoteRequired, ItemNotFound, ItemAlreadyDecided or RecordNotFound.
    """
    if not (note or "").strip():
        raise NoteRequired(item_id)
    persons = models.Person.__table__
    with engine.begin() as conn:
        item = _decide(conn, item_id, "rejected", actor, note.strip())
        previous = conn.execute(
            select(persons.c.verification_status).where(persons.c.record_id == item.record_id)
        ).scalar()
        if previous is None:
            raise RecordNotFound(item_id, item.record_id)
        conn.execute(
            update(models.Person)
            .where(models.Person.record_id == item.record_id)
            .values(verification_status="rejected", verified_personal_id=None)
        )
        detail = {
            "item_id": item_id,
            "kind": item.kind,
            "personal_id": item.candidate_personal_id,
            "reasons": list(item.reasons),
            "previous_status": previous,
            "note": note.strip(),
        }
        _audit(conn, actor, "review.reject", item, detail)
    return item


def _audit(
    conn: Connection, actor: str, action: str, item: ReviewRow, detail: dict[str, object]
) -> None:
    conn.execute(
        insert(models.AuditEntry).values(
            actor=actor,
            action=action,
            subject_type="person_record",
            subject_id=item.record_id,
            purpose=PURPOSE,
            detail=detail,
        )
    )
