"""The importable layouts: columns, record keys, target tables and row conversion.

A layout turns the cells of one row into the values of one register row, in the order of
``Layout.targets``, or raises ``RowInvalid`` with every error of the row. Rules come from
../shared/INTERCHANGE.md (registry, records) and docs/interchange.md (the rest).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Table

from nidb.domain.catalogues import BENEFICIARY_GROUPS
from nidb.domain.dates import parse_birth_date, parse_date, parse_month
from nidb.domain.errors import DomainError
from nidb.domain.gender import parse_gender
from nidb.domain.identifiers import (
    BhxhCode,
    EnterpriseCode,
    HealthCardCode,
    InvalidPersonalId,
    OldIdNumber,
    PersonalId,
)
from nidb.domain.names import name_forms
from nidb.domain.provinces import is_province_code
from nidb.ingest.fields import (
    RowFields,
    choice,
    facility_code,
    first_of_month,
    flag,
    icd10,
    integer,
    text,
    timestamp,
    unit_code,
)
from nidb.store import models


class RowInvalid(Exception):
    """A row broke one or more rules; it goes to quarantine with every reason."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Layout:
    """How one interchange kind maps onto one register table."""

    kind: str
    table: Table
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    targets: tuple[str, ...]
    convert: Callable[[dict[str, str | None], date], tuple[Any, ...]]
    reset_on_change: dict[str, Any] = field(default_factory=dict)
    """Columns set on an existing row whenever its data changes (e.g. re-verify)."""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


# -- shared cell parsers (built once: they run on every row) ------------------------------------

SHORT_TEXT = text(40)
VISIT_ID = text(100)
LONG_TEXT = text(200)
NAME_TEXT = text(300)
ADDRESS = text(500)
COUNT = integer(0)
POSITIVE = integer(1)
LIFE_STATUS = choice({"alive", "dead"})
EMPLOYER_STATUS = choice({"active", "closed"})
SCHEME = choice({"BHXH", "BHYT", "BHTN"}, fold_case=False)


def _enterprise(raw: str, column: str) -> str:
    return EnterpriseCode.parse(raw, column).value


def _personal_id(raw: str, column: str) -> PersonalId:
    return PersonalId.parse(raw, column)


def _bhxh(raw: str, column: str) -> str:
    return BhxhCode.parse(raw, column).value


def _province3(raw: str, column: str) -> str:
    value = raw.strip()
    if len(value) != 3 or not value.isdigit() or value[0] != "0" or not is_province_code(value[1:]):
        raise DomainError(
            column,
            raw,
            "PROVINCE_UNKNOWN",
            "mã tỉnh nơi đăng ký khai sinh (3 chữ số) không tồn tại",
            "unknown 3-digit birth-registration province code",
        )
    return value


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


def _finish(fields: RowFields, values: tuple[Any, ...]) -> tuple[Any, ...]:
    if fields.errors:
        raise RowInvalid(fields.errors)
    return values


def _dob(fields: RowFields, today: date) -> tuple[str, str, int] | tuple[None, None, None]:
    dob = fields.required("date_of_birth", parse_birth_date, today)
    if dob is None:
        return None, None, None
    return dob.iso(), dob.precision.value, dob.year


# -- registry ----------------------------------------------------------------------------------


def convert_registry(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A population-registry row → ``citizens`` values."""
    f = RowFields(cells)
    pid = f.required("personal_id", _personal_id)
    forms = f.required("full_name", name_forms)
    dob_iso, precision, year = _dob(f, today)
    gender = f.required("gender", parse_gender)
    province = f.required("birth_province", _province3)
    address = f.optional("permanent_address", ADDRESS)
    household = f.optional("household_id", SHORT_TEXT)
    status = f.required("status", LIFE_STATUS)
    death = f.optional("death_date", parse_date, today, False)
    if pid is not None:
        problems = pid.inconsistencies(gender, year)
        if problems:
            what = " và ".join(
                {"GENDER": "giới tính", "BIRTH_YEAR": "năm sinh"}[p] for p in problems
            )
            f.fail(
                "personal_id",
                pid.value,
                "PERSONAL_ID_INCONSISTENT",
                f"số định danh không khớp {what}",
                f"personal ID disagrees with {', '.join(p.lower() for p in problems)}",
            )
        if province is not None and pid.value[:3] != province:
            f.fail(
                "birth_province",
                province,
                "BIRTH_PROVINCE_MISMATCH",
                "khác 3 chữ số đầu của số định danh",
                "differs from the first 3 digits of the personal ID",
            )
    if status == "dead" and cells.get("death_date") is None:
        f.fail(
            "death_date",
            "",
            "DEATH_DATE_MISSING",
            "người đã mất phải có ngày mất",
            "a dead person needs a death date",
        )
    if status == "alive" and death is not None:
        f.fail(
            "death_date",
            death.isoformat(),
            "DEATH_DATE_UNEXPECTED",
            "người còn sống không có ngày mất",
            "a living person has no death date",
        )
    if death is not None and year is not None and death.year < year:
        f.fail(
            "death_date",
            death.isoformat(),
            "DEATH_BEFORE_BIRTH",
            "ngày mất trước ngày sinh",
            "death before birth",
        )
    return _finish(
        f,
        (
            pid.value if pid else None,
            forms.exact if forms else None,
            forms.base if forms else None,
            dob_iso,
            precision,
            year,
            gender.value if gender else None,
            province,
            address,
            household,
            status,
            death,
        ),
    )


# -- records -----------------------------------------------------------------------------------


def _declared_id(raw: str, column: str) -> tuple[str, str]:
    """A declared ID as held: structurally valid 12-digit ID, a 12-digit ID that fails the
    structure check (kept: verification explains it), or an old 9-digit CMND."""
    value = "".join(raw.split())
    if len(value) == 12 and value.isdigit():
        try:
            PersonalId.parse(value, column)
        except InvalidPersonalId:
            return value, "cccd_invalid"
        return value, "cccd"
    if len(value) == 9 and value.isdigit():
        return OldIdNumber.parse(value, column).value, "cmnd"
    raise DomainError(
        column,
        raw,
        "ID_NUMBER_FORMAT",
        "phải gồm 12 chữ số (số định danh) hoặc 9 chữ số (CMND cũ)",
        "must be 12 digits (personal ID) or 9 digits (old CMND)",
    )


def convert_records(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """An insurance person record → ``persons`` values."""
    f = RowFields(cells)
    record_id = f.required("record_id", SHORT_TEXT)
    bhxh = f.required("bhxh_code", _bhxh)
    forms = f.required("full_name", name_forms)
    dob_iso, precision, year = _dob(f, today)
    gender = f.optional("gender", parse_gender)
    declared = f.optional("personal_id", _declared_id)
    province = f.optional("birth_province", _province3)
    address = f.optional("address", ADDRESS)
    employer = f.optional("employer_code", unit_code)
    return _finish(
        f,
        (
            record_id,
            bhxh,
            forms.exact if forms else None,
            forms.base if forms else None,
            dob_iso,
            precision,
            year,
            gender.value if gender else None,
            declared[0] if declared else None,
            declared[1] if declared else None,
            province,
            address,
            employer,
        ),
    )


# -- employers ---------------------------------------------------------------------------------

EMPLOYER_TYPES = {"enterprise", "state", "household_business", "cooperative", "other"}
EMPLOYER_TYPE = choice(EMPLOYER_TYPES)


def convert_employers(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """An employer row → ``employers`` values."""
    f = RowFields(cells)
    return _finish(
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
    bhxh = f.required("bhxh_code", _bhxh)
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
    return _finish(f, (bhxh, scheme, employer, group, start, end))


# -- contributions -----------------------------------------------------------------------------


def convert_contributions(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A monthly contribution → ``contributions`` values."""
    f = RowFields(cells)
    bhxh = f.required("bhxh_code", _bhxh)
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
    return _finish(
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


# -- cards -------------------------------------------------------------------------------------

CARD_STATUSES = {"active", "suspended", "revoked", "expired"}
CARD_STATUS = choice(CARD_STATUSES)


def convert_cards(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A health-insurance card → ``health_cards`` values."""
    f = RowFields(cells)
    card = f.required("card_code", HealthCardCode.parse)
    facility = f.required("facility_code", facility_code)
    valid_from = f.required("valid_from", parse_date)
    valid_to = f.required("valid_to", parse_date)
    five_years = f.optional("five_years_from", parse_date)
    status = f.required("status", CARD_STATUS)
    if valid_from and valid_to and valid_to < valid_from:
        f.fail(
            "valid_to",
            valid_to.isoformat(),
            "PERIOD_REVERSED",
            "hạn thẻ kết thúc trước khi bắt đầu",
            "validity ends before it starts",
        )
    return _finish(
        f,
        (
            card.value if card else None,
            card.bhxh_code.value if card else None,
            card.group if card else None,
            card.benefit_level if card else None,
            card.province_code if card else None,
            facility,
            valid_from,
            valid_to,
            five_years,
            status,
        ),
    )


# -- visits ------------------------------------------------------------------------------------


def convert_visits(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A hospital visit summary → ``health_visits`` values."""
    f = RowFields(cells)
    visit_id = f.required("visit_id", VISIT_ID)
    card = f.required("card_code", HealthCardCode.parse)
    facility = f.required("facility_code", facility_code)
    admitted = f.required("admitted_at", timestamp)
    discharged = f.required("discharged_at", timestamp)
    inpatient = f.required("inpatient", flag)
    diagnosis = f.required("icd10", icd10)
    total = f.required("total_cost", COUNT)
    insurer = f.required("insurer_paid", COUNT)
    patient = f.required("patient_paid", COUNT)
    if admitted and discharged and discharged < admitted:
        f.fail(
            "discharged_at",
            discharged.isoformat(),
            "PERIOD_REVERSED",
            "ra viện trước khi vào viện",
            "discharged before admitted",
        )
    if total is not None and insurer is not None and insurer > total:
        f.fail(
            "insurer_paid",
            insurer,
            "AMOUNT_ABOVE_TOTAL",
            "quỹ BHYT trả nhiều hơn tổng chi phí",
            "insurer paid more than the total cost",
        )
    return _finish(
        f,
        (
            visit_id,
            card.value if card else None,
            card.bhxh_code.value if card else None,
            facility,
            admitted,
            discharged,
            inpatient,
            diagnosis,
            total,
            insurer,
            patient,
        ),
    )


# -- benefits ----------------------------------------------------------------------------------

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
    bhxh = f.required("bhxh_code", _bhxh)
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
    return _finish(f, (bhxh, kind, start, end, monthly, lump, status, decided))


T = models.Base.metadata.tables

LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        Layout(
            "registry",
            T["citizens"],
            required=(
                "personal_id",
                "full_name",
                "date_of_birth",
                "gender",
                "birth_province",
                "status",
            ),
            optional=("permanent_address", "household_id", "death_date"),
            key=("personal_id",),
            targets=(
                "personal_id",
                "full_name",
                "name_base",
                "date_of_birth",
                "dob_precision",
                "birth_year",
                "gender",
                "birth_province",
                "permanent_address",
                "household_id",
                "status",
                "death_date",
            ),
            convert=convert_registry,
        ),
        Layout(
            "records",
            T["persons"],
            required=("record_id", "bhxh_code", "full_name", "date_of_birth"),
            optional=("gender", "personal_id", "birth_province", "address", "employer_code"),
            key=("record_id",),
            targets=(
                "record_id",
                "bhxh_code",
                "full_name",
                "name_base",
                "date_of_birth",
                "dob_precision",
                "birth_year",
                "gender",
                "declared_id",
                "declared_id_kind",
                "birth_province",
                "address",
                "employer_code",
            ),
            convert=convert_records,
            reset_on_change={
                "verification_status": "unverified",
                "verified_personal_id": None,
                "verification_reasons": None,
                "verified_at": None,
            },
        ),
        Layout(
            "employers",
            T["employers"],
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
        ),
        Layout(
            "participation",
            T["participation_periods"],
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
        ),
        Layout(
            "contributions",
            T["contributions"],
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
        ),
        Layout(
            "cards",
            T["health_cards"],
            required=("card_code", "facility_code", "valid_from", "valid_to", "status"),
            optional=("five_years_from",),
            key=("card_code", "valid_from"),
            targets=(
                "card_code",
                "bhxh_code",
                "group_code",
                "benefit_level",
                "province_code",
                "facility_code",
                "valid_from",
                "valid_to",
                "five_years_from",
                "status",
            ),
            convert=convert_cards,
        ),
        Layout(
            "visits",
            T["health_visits"],
            required=(
                "visit_id",
                "card_code",
                "facility_code",
                "admitted_at",
                "discharged_at",
                "inpatient",
                "icd10",
                "total_cost",
                "insurer_paid",
                "patient_paid",
            ),
            optional=(),
            key=("visit_id",),
            targets=(
                "visit_id",
                "card_code",
                "bhxh_code",
                "facility_code",
                "admitted_at",
                "discharged_at",
                "inpatient",
                "icd10",
                "total_cost",
                "insurer_paid",
                "patient_paid",
            ),
            convert=convert_visits,
        ),
        Layout(
            "benefits",
            T["benefits"],
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
        ),
    )
}
