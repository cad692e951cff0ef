"""Identifiers: personal ID, old ID card number, BHXH code, BHYT card code, enterprise code.

Each is a frozen value type whose constructor enforces the format and whose `parse` accepts
what people type: surrounding whitespace and the spaces or dots used to group digits
("001 090 012345", "001.090.012345"). Errors name the field, the raw value and the rule:
constructors validate under the default field name, and `parse` relabels their errors with
the caller's field and the value as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from nidb.domain.catalogues import BENEFICIARY_GROUPS
from nidb.domain.errors import (
    DomainError,
    InvalidBhxhCode,
    InvalidEnterpriseCode,
    InvalidHealthCardCode,
    InvalidOldIdNumber,
    InvalidPersonalId,
    Rule,
)
from nidb.domain.gender import Gender
from nidb.domain.provinces import is_province_code

__all__ = [
    "BhxhCode",
    "EnterpriseCode",
    "HealthCardCode",
    "OldIdNumber",
    "PersonalId",
    "parse_id_number",
]

# Deleted before validation: every kind of space people paste, and the dot used to group digits.
_SEPARATORS = str.maketrans(dict.fromkeys(" .\t\n\r\v\f\u00a0\u2007\u202f\u3000"))
# [0-9], not \d: \d also matches Arabic-Indic and other digits that int() would accept.
_DIGITS_9 = re.compile(r"[0-9]{9}")
_DIGITS_10 = re.compile(r"[0-9]{10}")
_DIGITS_12 = re.compile(r"[0-9]{12}")
_CARD_SHAPE = re.compile(r"[A-Z]{2}[0-9]{13}")
_ENTERPRISE = re.compile(r"[0-9]{10}(?:-[0-9]{3})?")

# Century of birth for each century/sex digit of a personal ID (Decree 137/2015 Art. 13):
# even digits are men, odd digits women.
_CENTURY_START = (1900, 1900, 2000, 2000, 2100, 2100, 2200, 2200, 2300, 2300)
_CARD_SPECIAL_PROVINCES = frozenset({"97", "98"})  # BHXH of Defence (97), of Public Security (98)


def _clean(raw: str) -> str:
    return raw.translate(_SEPARATORS)


@dataclass(frozen=True, slots=True)
class PersonalId:
    """A 12-digit personal ID (số định danh cá nhân, the number on the CCCD card).

    Digits 1-3 are "0" + the province code of birth registration, digit 4 encodes century and
    sex, digits 5-6 the last two digits of the birth year, digits 7-12 are a serial.
    """

    value: str

    def __post_init__(self) -> None:
        if not _DIGITS_12.fullmatch(self.value):
            raise InvalidPersonalId(
                "personal_id",
                self.value,
                Rule.PERSONAL_ID_FORMAT,
                "số định danh cá nhân phải gồm 12 chữ số",
                "personal ID must be 12 digits",
            )
        if self.value[0] != "0" or not is_province_code(self.value[1:3]):
            raise InvalidPersonalId(
                "personal_id",
                self.value,
                Rule.PERSONAL_ID_PROVINCE,
                "3 chữ số đầu của số định danh cá nhân không phải mã tỉnh",
                "the first 3 digits of the personal ID are not a province code",
            )

    @classmethod
    def parse(cls, raw: str, field: str = "personal_id") -> Self:
        """Read a personal ID as typed; raises InvalidPersonalId naming `field`."""
        try:
            return cls(_clean(raw))
        except DomainError as error:
            raise error.with_field(field, raw) from None

    @classmethod
    def build(cls, province_code: str, gender: Gender, birth_year: int, serial: int) -> Self:
        """Compose a personal ID from its parts (for generators and tests).

        `province_code` is 2 digits of either province list, `birth_year` in 1900..2399,
        `serial` in 0..999999. Raises InvalidPersonalId.
        """
        if not is_province_code(province_code):
            raise InvalidPersonalId(
                "province_code",
                province_code,
                Rule.PERSONAL_ID_PROVINCE,
                "mã tỉnh không có trong danh mục",
                "unknown province code",
            )
        if not 1900 <= birth_year <= 2399:
            raise InvalidPersonalId(
                "birth_year",
                birth_year,
                Rule.PERSONAL_ID_FORMAT,
                "năm sinh phải từ 1900 đến 2399",
                "birth year must be within 1900..2399",
            )
        if not 0 <= serial <= 999_999:
            raise InvalidPersonalId(
                "serial",
                serial,
                Rule.PERSONAL_ID_FORMAT,
                "số thứ tự phải từ 0 đến 999999",
                "serial must be within 0..999999",
            )
        digit = (birth_year - 1900) // 100 * 2 + (gender is Gender.FEMALE)
        return cls(f"0{province_code}{digit}{birth_year % 100:02d}{serial:06d}")

    def __str__(self) -> str:
        return self.value

    @property
    def province_code(self) -> str:
        """The 2-digit province code of birth registration (either province list)."""
        return self.value[1:3]

    @property
    def gender(self) -> Gender:
        """The sex encoded by the century/sex digit: even male, odd female."""
        return Gender.FEMALE if int(self.value[3]) % 2 else Gender.MALE

    @property
    def century_start(self) -> int:
        """The first year of the birth century (1900, 2000, 2100, 2200 or 2300)."""
        return _CENTURY_START[int(self.value[3])]

    @property
    def birth_year(self) -> int:
        """The birth year encoded by the century digit and digits 5-6."""
        return self.century_start + int(self.value[4:6])

    def inconsistencies(self, gender: Gender | None, birth_year: int | None) -> tuple[str, ...]:
        """Which of a record's gender and birth year disagree with this ID.

        Returns a subset of ("GENDER", "BIRTH_YEAR") in that order; None arguments are not
        compared. Non-empty means the record breaks rule PERSONAL_ID_INCONSISTENT.
        """
        found: list[str] = []
        if gender is not None and gender != self.gender:
            found.append("GENDER")
        if birth_year is not None and birth_year != self.birth_year:
            found.append("BIRTH_YEAR")
        return tuple(found)


@dataclass(frozen=True, slots=True)
class OldIdNumber:
    """An old 9-digit ID card number (số chứng minh nhân dân, CMND); not a personal ID."""

    value: str

    def __post_init__(self) -> None:
        if not _DIGITS_9.fullmatch(self.value):
            raise InvalidOldIdNumber(
                "personal_id",
                self.value,
                Rule.OLD_ID_FORMAT,
                "số CMND phải gồm 9 chữ số",
                "old ID card number must be 9 digits",
            )

    @classmethod
    def parse(cls, raw: str, field: str = "personal_id") -> Self:
        """Read an old ID card number as typed; raises InvalidOldIdNumber naming `field`."""
        try:
            return cls(_clean(raw))
        except DomainError as error:
            raise error.with_field(field, raw) from None

    def __str__(self) -> str:
        return self.value


def parse_id_number(raw: str, field: str = "personal_id") -> PersonalId | OldIdNumber:
    """Read an ID number that may be a personal ID (12 digits) or an old CMND (9 digits).

    Raises InvalidPersonalId: rule ID_NUMBER_FORMAT for anything but 12 or 9 digits, and
    PERSONAL_ID_PROVINCE for 12 digits that do not start with a province code.
    """
    cleaned = _clean(raw)
    if _DIGITS_12.fullmatch(cleaned):
        return PersonalId.parse(raw, field)
    if _DIGITS_9.fullmatch(cleaned):
        return OldIdNumber(cleaned)
    raise InvalidPersonalId(
        field,
        raw,
        Rule.ID_NUMBER_FORMAT,
        "số giấy tờ phải gồm 12 chữ số (định danh cá nhân) hoặc 9 chữ số (CMND)",
        "ID number must be 12 digits (personal ID) or 9 digits (old ID card)",
    )


@dataclass(frozen=True, slots=True)
class BhxhCode:
    """A 10-digit social-insurance code (mã số BHXH), issued once for life."""

    value: str

    def __post_init__(self) -> None:
        if not _DIGITS_10.fullmatch(self.value):
            raise InvalidBhxhCode(
                "bhxh_code",
                self.value,
                Rule.BHXH_CODE_FORMAT,
                "mã số BHXH phải gồm 10 chữ số",
                "BHXH code must be 10 digits",
            )

    @classmethod
    def parse(cls, raw: str, field: str = "bhxh_code") -> Self:
        """Read a BHXH code as typed; raises InvalidBhxhCode naming `field`."""
        try:
            return cls(_clean(raw))
        except DomainError as error:
            raise error.with_field(field, raw) from None

    def __str__(self) -> str:
        return self.value


def _card_error(value: str, rule: Rule, message_vi: str, message_en: str) -> InvalidHealthCardCode:
    return InvalidHealthCardCode("card_code", value, rule, message_vi, message_en)


@dataclass(frozen=True, slots=True)
class HealthCardCode:
    """A 15-character health-insurance card code (mã thẻ BHYT), Decision 1351/QĐ-BHXH.

    Beneficiary group (2 letters) + benefit level (1-5) + province of issue (2 digits)
    + BHXH code (10 digits), e.g. DN4791234567890.
    """

    value: str

    def __post_init__(self) -> None:
        value = self.value
        if not _CARD_SHAPE.fullmatch(value):
            raise _card_error(
                value,
                Rule.CARD_CODE_FORMAT,
                "mã thẻ BHYT phải gồm 2 chữ cái và 13 chữ số",
                "card code must be 2 letters followed by 13 digits",
            )
        if value[:2] not in BENEFICIARY_GROUPS:
            raise _card_error(
                value,
                Rule.CARD_GROUP_UNKNOWN,
                "mã đối tượng trên thẻ BHYT không có trong danh mục",
                "unknown beneficiary group code",
            )
        if not "1" <= value[2] <= "5":
            raise _card_error(
                value,
                Rule.CARD_LEVEL,
                "mức hưởng trên thẻ BHYT phải từ 1 đến 5",
                "benefit level must be 1 to 5",
            )
        province = value[3:5]
        if not (is_province_code(province) or province in _CARD_SPECIAL_PROVINCES):
            raise _card_error(
                value,
                Rule.CARD_PROVINCE,
                "mã tỉnh trên thẻ BHYT không có trong danh mục",
                "unknown province code on the card",
            )

    @classmethod
    def parse(cls, raw: str, field: str = "card_code") -> Self:
        """Read a card code as typed (any case); raises InvalidHealthCardCode naming `field`."""
        try:
            return cls(_clean(raw).upper())
        except DomainError as error:
            raise error.with_field(field, raw) from None

    @classmethod
    def build(cls, group: str, level: int, province_code: str, bhxh_code: BhxhCode | str) -> Self:
        """Compose a card code from its parts; raises InvalidHealthCardCode."""
        return cls(f"{group}{level}{province_code}{bhxh_code}")

    def __str__(self) -> str:
        return self.value

    @property
    def group(self) -> str:
        """The beneficiary group code (mã đối tượng), e.g. "DN"."""
        return self.value[:2]

    @property
    def benefit_level(self) -> int:
        """The benefit level (mức hưởng), 1..5."""
        return int(self.value[2])

    @property
    def province_code(self) -> str:
        """The 2-digit code of the issuing BHXH office's province (97/98: Defence/Police)."""
        return self.value[3:5]

    @property
    def bhxh_code(self) -> BhxhCode:
        """The holder's 10-digit BHXH code (the last 10 characters)."""
        return BhxhCode(self.value[5:])


@dataclass(frozen=True, slots=True)
class EnterpriseCode:
    """An enterprise code / tax code (mã số doanh nghiệp): 10 digits, "-NNN" for a branch.

    The 10th digit is said to be a check digit (Circular 105/2020/TT-BTC), but the algorithm
    is unconfirmed, so it is not enforced. The value is normalised to the dashed branch form.
    """

    value: str

    def __post_init__(self) -> None:
        if not _ENTERPRISE.fullmatch(self.value):
            raise InvalidEnterpriseCode(
                "enterprise_code",
                self.value,
                Rule.ENTERPRISE_CODE_FORMAT,
                "mã số doanh nghiệp phải gồm 10 chữ số, chi nhánh thêm '-' và 3 chữ số",
                "enterprise code must be 10 digits, branches 10 digits '-' 3 digits",
            )

    @classmethod
    def parse(cls, raw: str, field: str = "enterprise_code") -> Self:
        """Read an enterprise code; 13 digits without the dash become the dashed form.

        Raises InvalidEnterpriseCode naming `field`.
        """
        cleaned = _clean(raw)
        if len(cleaned) == 13 and cleaned.isascii() and cleaned.isdigit():
            cleaned = f"{cleaned[:10]}-{cleaned[10:]}"
        try:
            return cls(cleaned)
        except DomainError as error:
            raise error.with_field(field, raw) from None

    def __str__(self) -> str:
        return self.value

    @property
    def head_office(self) -> str:
        """The 10-digit code of the enterprise (its head office)."""
        return self.value[:10]

    @property
    def branch(self) -> str | None:
        """The 3-digit branch suffix, or None for the head office."""
        return self.value[11:] if len(self.value) == 14 else None
