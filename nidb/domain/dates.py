"""Dates: partial birth dates (year only, year and month, full), strict dates and months.

Older people often have only a birth year, recorded as `YYYY` or typed as `01/01/YYYY`, and
day and month get swapped. PartialDate keeps what is known and no more, and answers the
questions matching asks. Parsers use a regex and int(), not strptime, because importers call
them millions of times.
"""

from __future__ import annotations

import re
from calendar import isleap
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from nidb.domain.errors import InvalidDate, Rule

__all__ = [
    "EARLIEST_BIRTH_YEAR",
    "PartialDate",
    "Precision",
    "parse_birth_date",
    "parse_date",
    "parse_month",
]

EARLIEST_BIRTH_YEAR = 1880  # no living person or open insurance record is older

# Time only moves forward, so a date on or before the day this module was loaded is never in
# the future; checking that first spares a date.today() call per parsed date.
_LOADED_ON = date.today()

# [0-9], not \d: \d also matches other scripts' digits, which int() would silently accept.
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ISO_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_BIRTH_DATE = re.compile(
    r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?"
    r"|(?P<dmy_day>[0-9]{1,2})(?P<sep>[/-])(?P<dmy_month>[0-9]{1,2})(?P=sep)(?P<dmy_year>[0-9]{4})"
)


class Precision(StrEnum):
    """How much of a date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


def _impossible(field_name: str, raw: object) -> InvalidDate:
    return InvalidDate(
        field_name,
        raw,
        Rule.DATE_IMPOSSIBLE,
        "ngày không tồn tại trong lịch",
        "no such day in the calendar",
    )


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and isleap(year):
        return 29
    return _DAYS_IN_MONTH[month]


def _is_possible(year: int, month: int | None, day: int | None) -> bool:
    if not 1 <= year <= 9999:
        return False
    if month is None:
        return day is None
    if not 1 <= month <= 12:
        return False
    return day is None or 1 <= day <= _days_in_month(year, month)


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date known to the day, the month or only the year.

    Ordering is chronological by (year, month, day), an unknown part sorting before every
    known one: 1980 < 1980-01 < 1980-01-01. Raises InvalidDate (DATE_IMPOSSIBLE) for a day
    without a month or a component out of range.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not _is_possible(self.year, self.month, self.day):
            raise _impossible("date", f"{self.year}-{self.month}-{self.day}")

    # Written out rather than order=True: the generated methods would compare None with int
    # and raise TypeError for dates of different precision.
    def _key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() >= other._key()

    @property
    def precision(self) -> Precision:
        """Whether the day, only the month, or only the year is known."""
        if self.day is not None:
            return Precision.DAY
        return Precision.YEAR if self.month is None else Precision.MONTH

    def iso(self) -> str:
        """ISO 8601 text at this precision: "YYYY-MM-DD", "YYYY-MM" or "YYYY"."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def earliest(self) -> date:
        """The first day this date can be."""
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        """The last day this date can be."""
        month = self.month or 12
        return date(self.year, month, self.day or _days_in_month(self.year, month))

    def agrees_with(self, other: PartialDate) -> bool:
        """Whether both are equal on every component both know (1980 agrees with 1980-05-17)."""
        return (
            self.year == other.year
            and (self.month is None or other.month is None or self.month == other.month)
            and (self.day is None or other.day is None or self.day == other.day)
        )

    def is_day_month_swap_of(self, other: PartialDate) -> bool:
        """Whether this full date is `other` with day and month exchanged (DD/MM vs MM/DD)."""
        return (
            self.day is not None
            and other.day is not None
            and self.year == other.year
            and self.day == other.month
            and self.month == other.day
            and self != other
        )

    def looks_like_year_placeholder(self) -> bool:
        """Whether this is a full date on 1 January, how year-only births are often typed."""
        return self.day == 1 and self.month == 1


# Birth dates repeat a lot (a century holds only ~36,500 days), so parsed text is cached.
@lru_cache(maxsize=1 << 16)
def _birth_date_from_text(text: str) -> tuple[PartialDate, date]:
    """Parse stripped text into a birth date and its earliest day; raises InvalidDate."""
    match = _BIRTH_DATE.fullmatch(text)
    if match is None:
        raise InvalidDate(
            "date_of_birth",
            text,
            Rule.DATE_FORMAT,
            "ngày sinh phải có dạng YYYY-MM-DD, YYYY-MM, YYYY hoặc DD/MM/YYYY",
            "birth date must be YYYY-MM-DD, YYYY-MM, YYYY or DD/MM/YYYY",
        )
    year_text, month_text, day_text = match.group("year", "month", "day")
    if year_text is None:
        year_text, month_text, day_text = match.group("dmy_year", "dmy_month", "dmy_day")
    year = int(year_text)
    month = None if month_text is None else int(month_text)
    day = None if day_text is None else int(day_text)
    if not _is_possible(year, month, day):
        raise _impossible("date_of_birth", text)
    if year < EARLIEST_BIRTH_YEAR:
        raise InvalidDate(
            "date_of_birth",
            text,
            Rule.DATE_TOO_OLD,
            f"ngày sinh trước năm {EARLIEST_BIRTH_YEAR}",
            f"birth date before {EARLIEST_BIRTH_YEAR}",
        )
    result = PartialDate(year, month, day)
    return result, result.earliest()


def parse_birth_date(
    raw: str, field: str = "date_of_birth", today: date | None = None
) -> PartialDate:
    """Read a birth date that may be partial.

    Accepted forms (surrounding whitespace ignored): YYYY-MM-DD, YYYY-MM, YYYY, and
    DD/MM/YYYY also as D/M/YYYY or DD-MM-YYYY. Raises InvalidDate with rule DATE_FORMAT for
    any other form, DATE_IMPOSSIBLE (2023-02-30, month 13), DATE_TOO_OLD (before 1880) or
    DATE_FUTURE (after `today`, by default the current date; a partial date is in the future
    only if its earliest day is).
    """
    try:
        result, earliest = _birth_date_from_text(raw.strip())
    except InvalidDate as error:
        raise error.with_field(field, raw) from None
    if (today is not None or earliest > _LOADED_ON) and earliest > (today or date.today()):
        raise InvalidDate(
            field, raw, Rule.DATE_FUTURE, "ngày sinh ở tương lai", "birth date is in the future"
        )
    return result


@lru_cache(maxsize=1 << 16)
def _date_from_text(text: str) -> date:
    """Parse stripped YYYY-MM-DD text; raises InvalidDate under a placeholder field."""
    match = _ISO_DAY.fullmatch(text)
    if match is None:
        raise InvalidDate(
            "date",
            text,
            Rule.DATE_FORMAT,
            "ngày phải có dạng YYYY-MM-DD",
            "date must be YYYY-MM-DD",
        )
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _impossible("date", text) from None


def parse_date(raw: str, field: str, today: date | None = None, allow_future: bool = True) -> date:
    """Read a strict ISO date, YYYY-MM-DD (surrounding whitespace ignored).

    Raises InvalidDate: DATE_FORMAT, DATE_IMPOSSIBLE, or DATE_FUTURE when `allow_future` is
    false and the date is after `today` (by default the current date).
    """
    try:
        result = _date_from_text(raw.strip())
    except InvalidDate as error:
        raise error.with_field(field, raw) from None
    if allow_future or (today is None and result <= _LOADED_ON):
        return result
    if result > (today or date.today()):
        raise InvalidDate(field, raw, Rule.DATE_FUTURE, "ngày ở tương lai", "date is in the future")
    return result


def parse_month(raw: str, field: str) -> tuple[int, int]:
    """Read a month, YYYY-MM (surrounding whitespace ignored), as (year, month).

    Raises InvalidDate with rule MONTH_FORMAT for any other form or a month outside 01..12.
    """
    match = _ISO_MONTH.fullmatch(raw.strip())
    if match is not None:
        year, month = int(match[1]), int(match[2])
        if year >= 1 and 1 <= month <= 12:
            return year, month
    raise InvalidDate(
        field,
        raw,
        Rule.MONTH_FORMAT,
        "tháng phải có dạng YYYY-MM với tháng từ 01 đến 12",
        "month must be YYYY-MM with a month from 01 to 12",
    )
