"""The change feed (luồng thay đổi): deaths, name changes, ID corrections, births and
residence registrations, in order.

Each change gets the next sequence number; a cursor is the sequence number of the last change
a reader has seen, as a decimal string, so reading after it never skips or repeats a change.
The feed lives in memory: a restarted service starts a new feed, and a cursor from the old
one is refused rather than silently misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal

__all__ = ["ChangeEntry", "ChangeFeed", "ChangeKind", "InvalidCursor"]

ChangeKind = Literal["death", "name_change", "id_correction", "birth", "residence"]


class InvalidCursor(ValueError):
    """A cursor that is not one this feed handed out."""

    def __init__(self, cursor: str, message_vi: str, message_en: str) -> None:
        super().__init__(cursor, message_vi, message_en)
        self.cursor = cursor
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    """One change as the feed delivers it."""

    seq: int
    kind: ChangeKind
    personal_id: str
    data: MappingProxyType[str, str]
    at: datetime


class ChangeFeed:
    """An append-only, in-memory list of changes with cursor-based reading."""

    def __init__(self) -> None:
        self._entries: list[ChangeEntry] = []

    def __len__(self) -> int:
        return len(self._entries)

    def append(
        self, kind: ChangeKind, personal_id: str, data: dict[str, str], at: datetime
    ) -> ChangeEntry:
        """Record a change under the next sequence number and return it."""
        entry = ChangeEntry(len(self._entries) + 1, kind, personal_id, MappingProxyType(data), at)
        self._entries.append(entry)
        return entry

    def read(self, after: str | None, limit: int) -> tuple[list[ChangeEntry], str]:
        """Up to `limit` changes after the cursor (from the start when None), and the next one.

        The next cursor is the last returned change's, or `after` itself when there is none
        yet, so a reader can keep polling with it. Raises InvalidCursor.
        """
        seen = self._position(after)
        entries = self._entries[seen : seen + limit]
        return entries, str(entries[-1].seq if entries else seen)

    def _position(self, cursor: str | None) -> int:
        if cursor is None or cursor == "":
            return 0
        if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
            raise InvalidCursor(cursor, "con trỏ không hợp lệ", "malformed cursor")
        seq = int(cursor)
        if seq > len(self._entries):
            raise InvalidCursor(
                cursor,
                "con trỏ vượt quá thay đổi cuối cùng (luồng đã được khởi tạo lại?)",
                "cursor is past the last change (was the feed restarted?)",
            )
        return seq
