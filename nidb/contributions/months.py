"""Months as the assessment counts them: the first day of a calendar month."""

from __future__ import annotations

import calendar
import re
from datetime import date

from nidb.domain.errors import InvalidDate, Rule

__all__ = ["add_months", "last_day", "parse_month", "vn_month"]

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> date:
    """'2026-11' -> date(2026, 11, 1); raises InvalidDate (DATE_FORMAT) otherwise."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise InvalidDate(
            "month",
            text,
            Rule.DATE_FORMAT,
            "tháng phải có dạng NNNN-TT (ví dụ 2026-11)",
            "a month must read YYYY-MM (e.g. 2026-11)",
        )
    return date(int(found.group(1)), int(found.group(2)), 1)


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month`` (before it if ``n`` < 0)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def last_day(month: date) -> date:
    """The last day of ``month``."""
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def vn_month(month: date) -> str:
    """A month as Vietnamese screens show it: 'tháng 11/2026'."""
    return f"tháng {month.month:02d}/{month.year}"
