"""Layouts of people: the population registry (``registry``) and insurance person records
(``records``). Rules come from ../shared/INTERCHANGE.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from nidb.domain.dates import parse_birth_date, parse_date
from nidb.domain.errors import DomainError, InvalidPersonalId
from nidb.domain.gender import parse_gender
from nidb.domain.identifiers import OldIdNumber, PersonalId
from nidb.domain.names import NameForms, name_forms
from nidb.domain.provinces import is_province_code
from nidb.ingest.fields import RowFields, choice, too_long, unit_code
from nidb.ingest.layouts.base import (
    ADDRESS,
    PERSON_NAME_LENGTH,
    SHORT_TEXT,
    TABLES,
    CellType,
    Layout,
    bhxh_code,
    finish,
)

LIFE_STATUS = choice({"alive", "dead"})


def _full_name(raw: str, column: str) -> NameForms:
    """A person's name and the forms matching compares, each fitting its register column."""
    if len(raw) > PERSON_NAME_LENGTH and len(" ".join(raw.split())) > PERSON_NAME_LENGTH:
        raise too_long(column, raw, PERSON_NAME_LENGTH)
    forms = name_forms(raw, column)
    if max(len(forms.exact), len(forms.base)) > PERSON_NAME_LENGTH:
        raise too_long(column, raw, PERSON_NAME_LENGTH)
    return forms


def _personal_id(raw: str, column: str) -> PersonalId:
    return PersonalId.parse(raw, column)


def _old_id(raw: str, column: str) -> str:
    """An old 9-digit ID card number (số CMND), as the population database keeps it."""
    return OldIdNumber.parse(raw, column).value


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
    forms = f.required("full_name", _full_name)
    dob_iso, precision, year = _dob(f, today)
    gender = f.required("gender", parse_gender)
    province = f.required("birth_province", _province3)
    address = f.optional("permanent_address", ADDRESS)
    household = f.optional("household_id", SHORT_TEXT)
    status = f.required("status", LIFE_STATUS)
    death = f.optional("death_date", parse_date, today, False)
    old_id = f.optional("old_id", _old_id)
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
    return finish(
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
            old_id,
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
    bhxh = f.required("bhxh_code", bhxh_code)
    forms = f.required("full_name", _full_name)
    dob_iso, precision, year = _dob(f, today)
    gender = f.optional("gender", parse_gender)
    declared = f.optional("personal_id", _declared_id)
    province = f.optional("birth_province", _province3)
    address = f.optional("address", ADDRESS)
    employer = f.optional("employer_code", unit_code)
    return finish(
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


REGISTRY = Layout(
    "registry",
    TABLES["citizens"],
    required=(
        "personal_id",
        "full_name",
        "date_of_birth",
        "gender",
        "birth_province",
        "status",
    ),
    optional=("permanent_address", "household_id", "death_date", "old_id"),
    key=("personal_id",),
    unique=("old_id",),
    kept_if_absent=("old_id",),
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
        "old_id",
    ),
    convert=convert_registry,
    cell_types={"date_of_birth": CellType.DATE, "death_date": CellType.DATE},
)

RECORDS = Layout(
    "records",
    TABLES["persons"],
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
    cell_types={"date_of_birth": CellType.DATE},
    reset_on_change={
        "verification_status": "unverified",
        "verified_personal_id": None,
        "verification_reasons": None,
        "verified_at": None,
    },
)
