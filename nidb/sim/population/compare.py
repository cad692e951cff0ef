"""How the population database compares what it is asked with what it holds: strictly.

The real service answers "match" only for the same spelling (Unicode form, case and spacing
aside) and the same date; it does no fuzzy reasoning, which is nidb's job. Only the demographic
search (tra cứu) is diacritic-insensitive, so that records typed without accents can be found.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Literal

from nidb.domain.errors import DomainError, InvalidDate, Rule
from nidb.domain.names import name_forms, strip_diacritics

__all__ = [
    "MATCH",
    "MISMATCH",
    "PARTIAL",
    "FieldResult",
    "clean_name",
    "compare_dates",
    "compare_names",
    "fold_name",
    "parse_wire_date",
    "search_base",
    "search_key",
]

FieldResult = Literal["match", "mismatch", "partial"]
MATCH: FieldResult = "match"
MISMATCH: FieldResult = "mismatch"
PARTIAL: FieldResult = "partial"

_WIRE_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_MIN_YEAR = 1800


def parse_wire_date(value: str, field: str = "date_of_birth", *, full: bool = False) -> str:
    """Check a date as the service exchanges it: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.

    Returns the value unchanged. With `full`, only `YYYY-MM-DD` is accepted. Raises InvalidDate
    (DATE_FORMAT for another shape, DATE_IMPOSSIBLE for a month or day that does not exist).
    This is the wire format, not nidb's lenient reader of typed dates (DD/MM/YYYY and so on).
    """
    found = _WIRE_DATE.fullmatch(value)
    if found is None or (full and found.group(3) is None):
        shape_vi = "YYYY-MM-DD" if full else "YYYY-MM-DD, YYYY-MM hoặc YYYY"
        shape_en = "YYYY-MM-DD" if full else "YYYY-MM-DD, YYYY-MM or YYYY"
        raise InvalidDate(
            field,
            value,
            Rule.DATE_FORMAT,
            f"ngày phải có dạng {shape_vi}",
            f"date must be {shape_en}",
        )
    year, month, day = found.groups()
    try:
        if int(year) < _MIN_YEAR:
            raise ValueError(year)
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise InvalidDate(
            field, value, Rule.DATE_IMPOSSIBLE, "ngày không tồn tại", "no such date"
        ) from None
    return value


def clean_name(name: str) -> str:
    """A name as the registry keeps it: NFC, single spaces, case as given."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def fold_name(name: str) -> str:
    """The form two names are compared in: NFC, case-folded, single spaces."""
    folded = unicodedata.normalize("NFC", name).casefold()
    return unicodedata.normalize("NFC", " ".join(folded.split()))


def compare_names(held: str, asked: str) -> FieldResult:
    """Match when the names are the same up to Unicode form, case and spacing; else mismatch.

    Tone placement (Hòa/Hoà), missing diacritics and missing middle names are mismatches here.
    """
    if held == asked:
        return MATCH  # the common case, without normalising anything
    return MATCH if fold_name(held) == fold_name(asked) else MISMATCH


def compare_dates(held: str, asked: str) -> FieldResult:
    """Match for the same date; partial when the less precise one is a prefix of the other.

    So `1950` against `1950-03-07` (either way round) is partial, as is `1950-03` against
    `1950-03-07`; different years, or different months when both have one, are mismatches.
    """
    if held == asked:
        return MATCH
    shorter, longer = (held, asked) if len(held) < len(asked) else (asked, held)
    return PARTIAL if longer.startswith(shorter) else MISMATCH


def search_base(name: str) -> str:
    """The diacritic-insensitive form of a name the search looks up: `nguyen van an`."""
    try:
        return name_forms(name).base
    except DomainError:
        # Registries hold the odd name the normaliser refuses; search them by a plainer form.
        return " ".join(strip_diacritics(unicodedata.normalize("NFC", name)).lower().split())


def search_key(base: str, birth_year: str) -> int:
    """The in-memory index key of a search base name and a 4-digit birth year.

    A process-local hash: collisions are harmless because candidates are re-checked.
    """
    return hash(f"{base}\x1f{birth_year}")
