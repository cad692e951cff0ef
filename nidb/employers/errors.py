"""Errors of the employer channel, bilingual, with stable rule codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class EmployerError(Exception):
    """A command or request about an employer account that cannot be done (names field and rule)."""

    def __init__(self, field: str, value: object, rule: str, message_vi: str, message_en: str):
        super().__init__(f"{field}={value!r}: {message_en} [{rule}]")
        self.field, self.value, self.rule = field, value, rule
        self.message_vi, self.message_en = message_vi, message_en


@dataclass(frozen=True, slots=True)
class RowError:
    """One error of a declaration: which worker row, field, value and rule, in both languages.

    ``row`` is 1-based (the first worker of the declaration, or the first data line of a file);
    0 is the declaration itself.
    """

    row: int
    field: str
    value: str
    rule: str
    message_vi: str
    message_en: str

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "field": self.field,
            "value": self.value,
            "rule": self.rule,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }
