"""What an access-log entry says: who, which service, why, whose data, which fields, what result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EntryRefused(Exception):
    """The database refused this one entry for its content (too long for a column, a NUL, ...).

    Raised to that entry's caller alone: a batch that fails for its content is written again one
    entry at a time, so the entries beside it are written and their callers answered.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"access-log entry refused by the database: {reason}")


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """What happened: who, which service, why, whose data, which fields, with what result."""

    actor: str
    service: str
    result: str
    purpose: str | None = None
    subject: str | None = None
    fields: str | None = None
    message_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def staff_read(
    actor: str,
    role: str,
    service: str,
    subject: str | None,
    fields: str,
    detail: dict[str, Any],
) -> AccessRecord:
    """The access record of a staff member's read of a person's data (purpose GQCD: handling
    the person's case), as the staff API and the console both write it."""
    return AccessRecord(
        actor=actor,
        service=service,
        result="ok",
        purpose="GQCD",
        subject=subject,
        fields=fields,
        detail={"role": role, **detail},
    )
