"""Reading and checking one worker row of a declaration against the register and the
population data nidb holds (the ``citizens`` extract of the national population database).

Every error is a `RowError` naming the row, the field, the value and the rule, in Vietnamese
and English; a row gathers all its errors, not only the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from nidb.domain.dates import parse_birth_date, parse_month
from nidb.domain.errors import DomainError
from nidb.domain.identifiers import PersonalId
from nidb.domain.names import has_diacritics, name_forms
from nidb.employers.errors import RowError
from nidb.store import people
from nidb.store.models_employment import CONTRACT_TYPES

__all__ = ["DECREASE_REASONS", "SCHEMES", "WorkerRow", "read_row"]

DECREASE_REASONS = {
    "contract_end": "Chấm dứt hợp đồng lao động",
    "maternity": "Nghỉ thai sản",
    "unpaid_leave": "Nghỉ không hưởng lương",
    "death": "Chết",
}
SCHEMES = ("BHXH", "BHYT", "BHTN")
_FIELDS = {
    "increase": {
        "personal_id",
        "full_name",
        "date_of_birth",
        "wage",
        "position",
        "contract_type",
        "full_time",
        "facility_code",
        "month",
        "schemes",
        "bhxh_code",
    },
    "decrease": {"personal_id", "reason", "month"},
    "salary_change": {"personal_id", "wage", "month", "position"},
    "correction": {"personal_id", "full_name", "date_of_birth"},
}


@dataclass
class WorkerRow:
    """One worker row, read; ``errors`` empty when it may be applied."""

    row: int
    kind: str
    personal_id: str = ""
    full_name: str | None = None
    date_of_birth: str | None = None
    wage: int | None = None
    position: str | None = None
    contract_type: str = "indefinite"
    full_time: bool = True
    facility_code: str | None = None
    month: date | None = None
    schemes: tuple[str, ...] = SCHEMES
    reason: str | None = None
    errors: list[RowError] = field(default_factory=list)
    citizen: Any = field(default=None, repr=False, compare=False)  # the population's record

    def error(self, field_name: str, value: object, rule: str, vi: str, en: str) -> None:
        self.errors.append(RowError(self.row, field_name, _text(value), rule, vi, en))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _domain(row: WorkerRow, error: DomainError) -> None:
    row.error(error.field, error.value, str(error.rule), error.message_vi, error.message_en)


def read_row(
    conn: Connection,
    kind: str,
    number: int,
    raw: Any,
    default_month: str | None,
    citizens: Mapping[str, Any] | None = None,
) -> WorkerRow:
    """Read one worker of a ``kind`` declaration and check it against the population data;
    ``citizens``: the declaration's citizens by personal ID, read together (one not there is
    read alone)."""
    row = WorkerRow(number, kind)
    if not isinstance(raw, dict):
        row.error(
            "worker",
            raw,
            "ROW_NOT_OBJECT",
            "dòng lao động phải là một đối tượng",
            "a worker row must be an object",
        )
        return row
    unknown = sorted(set(raw) - _FIELDS[kind])
    for name in unknown:
        row.error(
            name,
            raw[name],
            "FIELD_UNKNOWN",
            "trường không thuộc loại khai báo này",
            "field does not belong to this kind of declaration",
        )
    raw_id = _text(raw.get("personal_id")).strip()
    try:
        row.personal_id = str(PersonalId.parse(raw_id))
    except DomainError as error:
        _domain(row, error)
    month_text = _text(raw.get("month") or default_month).strip()
    if kind != "correction":
        try:
            year, month = parse_month(month_text, "month")
            row.month = date(year, month, 1)
        except DomainError as error:
            _domain(row, error)
    if kind in ("increase", "salary_change"):
        _read_wage(row, raw.get("wage"))
        position = raw.get("position")
        if position is not None and (not isinstance(position, str) or len(position) > 200):
            row.error(
                "position",
                position,
                "POSITION_FORMAT",
                "chức danh tối đa 200 ký tự",
                "position is text of at most 200 characters",
            )
        row.position = position if isinstance(position, str) else None
    if kind == "increase":
        _read_increase(row, raw)
    if kind == "decrease":
        reason = _text(raw.get("reason"))
        if reason not in DECREASE_REASONS:
            row.error(
                "reason",
                reason,
                "DECREASE_REASON",
                "lý do giảm phải là contract_end, maternity, unpaid_leave hoặc death",
                "reason must be contract_end, maternity, unpaid_leave or death",
            )
        row.reason = reason
    if kind in ("increase", "correction"):
        row.full_name = _text(raw.get("full_name")) or None
        row.date_of_birth = _text(raw.get("date_of_birth")) or None
        if kind == "increase" or row.full_name or row.date_of_birth:
            _check_identity(conn, row, citizens or {}, required=kind == "increase")
        else:
            row.error(
                "full_name",
                "",
                "CORRECTION_EMPTY",
                "điều chỉnh phải có họ tên hoặc ngày sinh",
                "a correction must give a name or a birth date",
            )
    return row


def _read_wage(row: WorkerRow, wage: object) -> None:
    if isinstance(wage, str) and wage.strip().isdigit():
        wage = int(wage.strip())
    if not isinstance(wage, int) or isinstance(wage, bool) or wage <= 0:
        row.error(
            "wage",
            wage,
            "WAGE_INVALID",
            "tiền lương đóng BHXH phải là số nguyên đồng lớn hơn 0",
            "contribution salary must be a whole number of đồng above 0",
        )
        return
    row.wage = wage


def _read_increase(row: WorkerRow, raw: dict[str, Any]) -> None:
    contract = _text(raw.get("contract_type") or "indefinite")
    if contract not in CONTRACT_TYPES:
        row.error(
            "contract_type",
            contract,
            "CONTRACT_TYPE",
            "loại hợp đồng phải là " + ", ".join(CONTRACT_TYPES),
            "contract type must be one of " + ", ".join(CONTRACT_TYPES),
        )
    row.contract_type = contract
    full_time = raw.get("full_time", True)
    if isinstance(full_time, str) and full_time.lower() in (
        "true",
        "false",
        "1",
        "0",
        "co",
        "khong",
    ):
        full_time = full_time.lower() in ("true", "1", "co")
    if not isinstance(full_time, bool):
        row.error(
            "full_time",
            full_time,
            "FULL_TIME_FORMAT",
            "toàn thời gian phải là true/false",
            "full_time must be true or false",
        )
    else:
        row.full_time = full_time
    facility = _text(raw.get("facility_code")).strip()
    if len(facility) != 5 or not facility.isalnum():
        row.error(
            "facility_code",
            facility,
            "FACILITY_CODE",
            "mã nơi đăng ký khám chữa bệnh ban đầu phải gồm 5 ký tự",
            "initial registration facility code must be 5 characters",
        )
    row.facility_code = facility
    schemes = raw.get("schemes", list(SCHEMES))
    if isinstance(schemes, str):
        schemes = [s.strip() for s in schemes.replace(";", ",").split(",") if s.strip()]
    if not isinstance(schemes, list) or not schemes or set(schemes) - set(SCHEMES):
        row.error(
            "schemes",
            schemes,
            "SCHEMES",
            "chế độ tham gia chỉ gồm BHXH, BHYT, BHTN",
            "schemes are BHXH, BHYT, BHTN only",
        )
    else:
        row.schemes = tuple(s for s in SCHEMES if s in schemes)


def _check_identity(
    conn: Connection, row: WorkerRow, citizens: Mapping[str, Any], *, required: bool
) -> None:
    """The personal ID exists in the population data, the person is alive, and the declared
    name and birth date are theirs (name compared without tones and spacing differences; a
    birth date agrees when it is the same at the precision both have)."""
    if required and not row.full_name:
        row.error("full_name", "", "NAME_EMPTY", "họ tên không được để trống", "name is empty")
    if required and not row.date_of_birth:
        row.error(
            "date_of_birth",
            "",
            "DATE_FORMAT",
            "ngày sinh không được để trống",
            "birth date is empty",
        )
    if not row.personal_id:
        return
    citizen = row.citizen = citizens.get(row.personal_id) or people.citizen(conn, row.personal_id)
    if citizen is None:
        row.error(
            "personal_id",
            row.personal_id,
            "PERSON_NOT_IN_POPULATION",
            "số định danh cá nhân không có trong CSDL quốc gia về dân cư",
            "personal ID is not in the national population database",
        )
        return
    if citizen.status == "dead":
        row.error(
            "personal_id",
            row.personal_id,
            "PERSON_DEAD",
            "người có số định danh này đã chết theo CSDL dân cư",
            "the population database records this person as dead",
        )
    if row.full_name:
        try:
            declared = name_forms(row.full_name)
            # written with tones, it must be the same name with the same tones; written
            # without (older payroll software), the same letters
            same = (
                declared.lower == name_forms(citizen.full_name).lower
                if has_diacritics(row.full_name)
                else declared.base == citizen.name_base
            )
            if not same:
                row.error(
                    "full_name",
                    row.full_name,
                    "NAME_MISMATCH",
                    "họ tên không khớp với CSDL quốc gia về dân cư",
                    "name does not match the national population database",
                )
            else:
                row.full_name = declared.exact
        except DomainError as error:
            _domain(row, error)
    if row.date_of_birth:
        try:
            declared_dob = parse_birth_date(row.date_of_birth)
            if not declared_dob.agrees_with(parse_birth_date(citizen.date_of_birth)):
                row.error(
                    "date_of_birth",
                    row.date_of_birth,
                    "BIRTH_DATE_MISMATCH",
                    "ngày sinh không khớp với CSDL quốc gia về dân cư",
                    "birth date does not match the national population database",
                )
            else:
                row.date_of_birth = declared_dob.iso()
        except DomainError as error:
            _domain(row, error)
