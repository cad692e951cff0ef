"""The layout of benefits (chế độ hưởng): pensions, survivor and unemployment benefits, one-off
payments. Rules come from docs/interchange.md.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from nidb.domain.dates import parse_date
from nidb.domain.errors import DomainError
from nidb.ingest.fields import RowFields, choice
from nidb.ingest.layouts.base import POSITIVE, TABLES, CellType, Layout, bhxh_code, finish

MONTHLY_BENEFITS = frozenset({"pension", "survivor", "unemployment"})
"""Paid every month until they end or stop: need ``monthly_amount``."""
LUMP_SUM_BENEFITS = frozenset({"one_time", "funeral"})
"""Paid once: need ``lump_sum`` and have no ``monthly_amount``."""
BENEFIT_KINDS = MONTHLY_BENEFITS | LUMP_SUM_BENEFITS | {"sickness", "maternity"}
BENEFIT_KIND = choice(BENEFIT_KINDS)
BENEFIT_STATUS = choice({"active", "stopped", "ended"})
VIETNAM_TIME = timezone(timedelta(hours=7))
_DECIDED_AT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?:Z|[+-]\d{2}:\d{2})?")


def _amount(raw: str, column: str) -> int:
    """Money in whole đồng, more than zero."""
    value = raw.strip()
    if value.startswith("-") and value[1:].isdigit():
        raise DomainError(
            column, raw, "AMOUNT_NEGATIVE", "số tiền không được âm", "amount must not be negative"
        )
    return POSITIVE(value, column)


def _decided_at(raw: str, column: str) -> datetime:
    """A decision date or date-time, in UTC; without an offset it is Vietnam time (UTC+7)."""
    value = raw.strip()
    if not _DECIDED_AT.fullmatch(value):
        raise DomainError(
            column,
            raw,
            "DATETIME_FORMAT",
            "phải có dạng YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM[+07:00]",
            "must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[+07:00]",
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DomainError(
            column, raw, "DATE_IMPOSSIBLE", "ngày giờ không tồn tại", "no such date or time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_TIME)
    return moment.astimezone(UTC)


def _check_benefit_amounts(f: RowFields, kind: str | None, cells: dict[str, str | None]) -> None:
    monthly, lump = cells.get("monthly_amount"), cells.get("lump_sum")
    if kind in MONTHLY_BENEFITS and monthly is None:
        f.fail(
            "monthly_amount",
            "",
            "AMOUNT_MISSING",
            "chế độ hằng tháng cần số tiền hằng tháng",
            "a monthly benefit needs monthly_amount",
        )
    elif kind in LUMP_SUM_BENEFITS and lump is None:
        f.fail(
            "lump_sum",
            "",
            "AMOUNT_MISSING",
            "khoản trả một lần cần số tiền trợ cấp một lần",
            "a one-off payment needs lump_sum",
        )
    elif monthly is None and lump is None:
        f.fail(
            "monthly_amount",
            "",
            "AMOUNT_MISSING",
            "cần số tiền hằng tháng hoặc trợ cấp một lần",
            "monthly_amount or lump_sum is needed",
        )
    if kind in LUMP_SUM_BENEFITS and monthly is not None:
        f.fail(
            "monthly_amount",
            monthly,
            "AMOUNT_UNEXPECTED",
            "khoản trả một lần không có số tiền hằng tháng",
            "a one-off payment has no monthly amount",
        )


def convert_benefits(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A benefit (chế độ hưởng) → ``benefits`` values."""
    f = RowFields(cells)
    bhxh = f.required("bhxh_code", bhxh_code)
    kind = f.required("kind", BENEFIT_KIND)
    start = f.required("start_date", parse_date)
    end = f.optional("end_date", parse_date)
    monthly = f.optional("monthly_amount", _amount)
    lump = f.optional("lump_sum", _amount)
    status = f.required("status", BENEFIT_STATUS)
    decided = f.optional("decided_at", _decided_at)
    if start is not None and end is not None and end < start:
        f.fail(
            "end_date",
            end.isoformat(),
            "PERIOD_REVERSED",
            "ngày kết thúc trước ngày bắt đầu",
            "ends before it starts",
        )
    _check_benefit_amounts(f, kind, cells)
    if status in ("stopped", "ended") and cells.get("end_date") is None:
        f.fail(
            "end_date",
            "",
            "END_DATE_MISSING",
            "chế độ đã dừng hoặc đã kết thúc phải có ngày kết thúc",
            "a stopped or ended benefit needs an end date",
        )
    if decided is not None and decided.astimezone(VIETNAM_TIME).date() > today:
        f.fail(
            "decided_at",
            cells.get("decided_at"),
            "DATE_FUTURE",
            "ngày quyết định ở tương lai",
            "decision date is in the future",
        )
    return finish(f, (bhxh, kind, start, end, monthly, lump, status, decided))


BENEFITS = Layout(
    "benefits",
    TABLES["benefits"],
    required=("bhxh_code", "kind", "start_date", "status"),
    optional=("end_date", "monthly_amount", "lump_sum", "decided_at"),
    key=("bhxh_code", "kind", "start_date"),
    targets=(
        "bhxh_code",
        "kind",
        "start_date",
        "end_date",
        "monthly_amount",
        "lump_sum",
        "status",
        "decided_at",
    ),
    convert=convert_benefits,
    cell_types={
        "start_date": CellType.DATE,
        "end_date": CellType.DATE,
        "monthly_amount": CellType.INTEGER,
        "lump_sum": CellType.INTEGER,
        "decided_at": CellType.TIMESTAMP,
    },
)
