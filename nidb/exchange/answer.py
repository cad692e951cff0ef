"""What a service returns: the answer and what the access log must know about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Answer:
    """A service's answer with what the access log must know about it."""

    body: dict[str, Any]
    subject: str | None
    fields: tuple[str, ...]
    result: str = "ok"
    disclosed: tuple[tuple[str, str], ...] = ()
    """Further people whose data the answer discloses, as (BHXH code, fields): bulk extracts
    log one access entry per person, so each sees the read in their own history."""
