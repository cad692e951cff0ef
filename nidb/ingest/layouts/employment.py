"""Layouts of employment: employers, participation periods and monthly contributions.

Rules come from docs/interchange.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from nidb.domain.catalogues import BENEFICIARY_GROUPS
from nidb.domain.dates import parse_month
from nidb.domain.errors import DomainError
from nidb.domain.identifiers import EnterpriseCode
from nidb.domain.provinces import is_province_code
from nidb.ingest.fields import RowFields, choice, first_of_month, unit_code
from nidb.ingest.layouts.base import (
    ADDRESS,
    COUNT,
    LONG_TEXT,
    NAME_TEXT,
    POSITIVE,
    SHORT_TEXT,
    TABLES,
    CellType,
    Layout,
    bhxh_code,
    finish,
)

EMPLOYER_STATUS = choice({"active", "closed"})
SCHEME = choice({"BHXH", "BHYT", "BHTN"}, fold_case=False)


def _enterprise(raw: str, column: str) -> str:
    return EnterpriseCode.parse(raw, column).value


def _province2(raw: str, column: str) -> str:
    value = raw.strip()
    if len(value) != 2 or not is_province_code(value):
        raise DomainError(
            column,
            raw,
            "PROVINCE_UNKNOWN",
            "mã tỉnh (2 chữ số) không tồn tại",
            "unknown 2-digit province code",
        )
    return value


# -- employers ---------------------------------------------------------------------------------

EMPLOYER_TYPES = {"enterprise", "state", "household_business", "cooperative", "other"}
EMPLOYER_TYPE = choice(EMPLOYER_TYPES)


def convert_employers(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """An employer row → ``employers`` values."""
    f = RowFields(cells)
    return finish(
        f,
        (
            f.required("employer_code", unit_code),
            f.optional("enterprise_code", _enterprise),
            f.required("name", NAME_TEXT),
            f.required("province", _province2),
            f.optional("address", ADDRESS),
            f.optional("business_line", LONG_TEXT),
            f.required("employer_type", EMPLOYER_TYPE),
            f.optional("registered_workers", COUNT),
            f.required("status", EMPLOYER_STATUS),
            f.optional("phone", SHORT_TEXT),
            f.optional("email", LONG_TEXT),
        ),
    )


# -- participation -----------------------------------------------------------------------------


def _group(raw: str, column: str) -> str:
    value = raw.strip().upper()
    if value not in BENEFICIARY_GROUPS:
        raise DomainError(
            column,
            raw,
            "GROUP_UNKNOWN",
            "mã đối tượng tham gia không tồn tại",
            "unknown participant group code",
        )
    return value


def _month(raw: str, column: str) -> date:
    return first_of_month(parse_month(raw, column))


def convert_participation(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A participation period → ``participation_periods`` values."""
    f = RowFields(cells)
    bhxh = f.required("bhxh_code", bhxh_code)
    scheme = f.required("scheme", SCHEME)
    employer = f.optional("employer_code", unit_code)
    group = f.required("participant_type", _group)
    start = f.required("start_month", _month)
    end = f.optional("end_month", _month)
    if start is not None and end is not None and end < start:
        f.fail(
            "end_month",
            end.isoformat()[:7],
            "PERIOD_REVERSED",
            "tháng kết thúc trước tháng bắt đầu",
            "ends before it starts",
        )
    return finish(f, (bhxh, scheme, employer, group, start, end))


# -- contributions -----------------------------------------------------------------------------


def convert_contributions(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A monthly contribution → ``contributions`` values."""
    f = RowFields(cells)
    bhxh = f.required("bhxh_code", bhxh_code)
    employer = f.required("employer_code", unit_code)
    period = f.required("period", _month)
    if period is not None and period > today:
        f.fail(
            "period",
            period.isoformat()[:7],
            "DATE_FUTURE",
            "kỳ đóng ở tương lai",
            "period is in the future",
        )
    return finish(
        f,
        (
            bhxh,
            employer,
            period,
            f.required("wage", POSITIVE),
            f.required("bhxh_amount", COUNT),
            f.required("bhyt_amount", COUNT),
            f.required("bhtn_amount", COUNT),
        ),
    )


EMPLOYERS = Layout(
    "employers",
    TABLES["employers"],
    required=("employer_code", "name", "province", "employer_type", "status"),
    optional=(
        "enterprise_code",
        "address",
        "business_line",
        "registered_workers",
        "phone",
        "email",
    ),
    key=("employer_code",),
    targets=(
        "employer_code",
        "enterprise_code",
        "name",
        "province",
        "address",
        "business_line",
        "employer_type",
        "registered_workers",
        "status",
        "phone",
        "email",
    ),
    convert=convert_employers,
    cell_types={"registered_workers": CellType.INTEGER},
)

PARTICIPATION = Layout(
    "participation",
    TABLES["participation_periods"],
    required=("bhxh_code", "scheme", "participant_type", "start_month"),
    optional=("employer_code", "end_month"),
    key=("bhxh_code", "scheme", "start_month"),
    targets=(
        "bhxh_code",
        "scheme",
        "employer_code",
        "participant_type",
        "start_month",
        "end_month",
    ),
    convert=convert_participation,
)

CONTRIBUTIONS = Layout(
    "contributions",
    TABLES["contributions"],
    required=(
        "bhxh_code",
        "employer_code",
        "period",
        "wage",
        "bhxh_amount",
        "bhyt_amount",
        "bhtn_amount",
    ),
    optional=(),
    key=("bhxh_code", "employer_code", "period"),
    targets=(
        "bhxh_code",
        "employer_code",
        "period",
        "wage",
        "bhxh_amount",
        "bhyt_amount",
        "bhtn_amount",
    ),
    convert=convert_contributions,
    cell_types=dict.fromkeys(
        ("wage", "bhxh_amount", "bhyt_amount", "bhtn_amount"), CellType.INTEGER
    ),
)
