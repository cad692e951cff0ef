"""Working days (ngày làm việc) for dossier deadlines, counted in Vietnam's time zone.

Monday to Friday, without the fixed-date public holidays of the Labour Code 2019 Art. 112
(1 January, 30 April, 1 May, 2 September and the day before or after it, taken here as
1 September when it falls on a weekday, else 3 September). Tết and the Hùng Kings'
day follow the lunar calendar and are announced each year; they are not modelled, so a
deadline spanning them comes out a few days early (stricter, never later than the law).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

__all__ = ["VIETNAM", "add_months", "add_working_days", "is_working_day", "today_vn"]


def _fixed_holidays(year: int) -> set[date]:
    national_day_extra = date(year, 9, 1)
    if national_day_extra.weekday() >= 5:
        national_day_extra = date(year, 9, 3)
    return {
        date(year, 1, 1),
        date(year, 4, 30),
        date(year, 5, 1),
        date(year, 9, 2),
        national_day_extra,
    }


def is_working_day(day: date) -> bool:
    """True on a weekday that is not a fixed public holiday."""
    return day.weekday() < 5 and day not in _fixed_holidays(day.year)


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
