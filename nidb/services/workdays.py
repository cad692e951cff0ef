"""Working days (ngày làm việc) for dossier deadlines, counted in Vietnam's time zone.

Monday to Friday, without Vietnam's public holidays (Labour Code 2019 Art. 112: 1 January,
Tết (5 days, lunar calendar), Hùng Kings' day (10/3 lunar), 30 April, 1 May, 2 September and the
day beside it) and their substitute days off, as the `holidays` package computes them (it follows
the Government's yearly announcements of days off). Working Saturdays the Government swaps in
for a bridged day off are not counted (a deadline is never later than the law's).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

__all__ = [
    "VIETNAM",
    "add_months",
    "add_working_days",
    "is_public_holiday",
    "is_working_day",
    "today_vn",
]


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("VN", years=year))


def is_public_holiday(day: date) -> bool:
    """True on a public holiday or a day off in lieu (whatever the day of the week)."""
    return day in _holidays(day.year)


def is_working_day(day: date) -> bool:
    """True on a weekday that is not a public holiday or a day off in lieu."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def today_vn(now: datetime | None = None) -> date:
    """Today's date in Vietnam (business rules run on Vietnamese days)."""
    return (now or datetime.now(UTC)).astimezone(VIETNAM).date()


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59 Vietnam time, as UTC) of the ``days``-th working day after ``start``.

    The day of ``start`` itself does not count, as a legal time limit starts the day after the
    dossier is received; ``days=0`` gives the end of the start day.
    """
    day = start.astimezone(VIETNAM).date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return datetime.combine(day, time(23, 59, 59), VIETNAM).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    import calendar as _calendar  # stdlib; local so this module's name never shadows it

    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
