"""The review queue's vocabulary: item kinds and statuses, the errors a decision raises, the
row types staff see, and the query that reads review items with their record's name.

Shared by the reading side (`review`) and the deciding side (`review_decisions`); the public
names are imported from `nidb.identity.review`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from nidb.domain.review import ReviewKind
from nidb.store import models

__all__ = [
    "KINDS",
    "PURPOSE",
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
    "item_row",
    "select_items",
]

KINDS = tuple(kind.value for kind in ReviewKind)
"""The stored kinds of review item (``nidb.domain.review.ReviewKind``, with their labels)."""
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


class NoteInvalid(ReviewError):
    """The note holds a character no stored text may hold (``nidb.domain.text``)."""

    def __init__(self, item_id: int, message_vi: str, message_en: str) -> None:
        super().__init__(item_id, f"ghi chú {message_vi}", f"the note {message_en}")


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


# --- rows -------------------------------------------------------------------------------------


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

    @property
    def one_side_only(self) -> bool:
        """No reason, but one side has no value: nothing was compared (the life status is
        the registry's alone, so it is always compared)."""
        return (
            not self.reasons
            and self.field != "status"
            and (self.record is None or self.registry is None)
        )


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


def item_row(row: Any) -> ReviewRow:
    """A `select_items` row as a ReviewRow (reason codes split)."""
    values = dict(row._mapping)
    values["reasons"] = _split(values["reasons"])
    return ReviewRow(**values)


def select_items() -> Any:
    """Review items joined with their record's name (None if the record is gone)."""
    items, persons = models.ReviewItem.__table__, models.Person.__table__
    return select(*items.c, persons.c.full_name).join_from(
        items, persons, persons.c.record_id == items.c.record_id, isouter=True
    )
