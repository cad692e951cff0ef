"""Typed domain errors (lỗi nghiệp vụ): each names the field, the value and the broken rule.

The rule codes are stable strings: they appear in rejected-row files (`FILE.rejected.csv`,
column `rule`) and callers may match on them, so never rename one.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BHXH_CODE_FORMAT",
    "CARD_CODE_FORMAT",
    "CARD_GROUP_UNKNOWN",
    "CARD_LEVEL",
    "CARD_PROVINCE",
    "DATE_FORMAT",
    "DATE_FUTURE",
    "DATE_IMPOSSIBLE",
    "DATE_TOO_OLD",
    "ENTERPRISE_CODE_FORMAT",
    "GENDER_INVALID",
    "ID_NUMBER_FORMAT",
    "MONTH_FORMAT",
    "NAME_EMPTY",
    "NAME_INVALID_CHARS",
    "OLD_ID_FORMAT",
    "PERSONAL_ID_FORMAT",
    "PERSONAL_ID_INCONSISTENT",
    "PERSONAL_ID_PROVINCE",
    "PROVINCE_UNKNOWN",
    "TEXT_CONTROL_CHARACTER",
    "DomainError",
    "InputFileError",
    "InvalidBhxhCode",
    "InvalidDate",
    "InvalidEnterpriseCode",
    "InvalidGender",
    "InvalidHealthCardCode",
    "InvalidName",
    "InvalidOldIdNumber",
    "InvalidPersonalId",
    "InvalidProvinceCode",
    "InvalidText",
    "Rule",
]


class Rule(StrEnum):
    """Stable codes of the domain rules a value can break."""

    PERSONAL_ID_FORMAT = "PERSONAL_ID_FORMAT"
    PERSONAL_ID_PROVINCE = "PERSONAL_ID_PROVINCE"
    PERSONAL_ID_INCONSISTENT = "PERSONAL_ID_INCONSISTENT"
    OLD_ID_FORMAT = "OLD_ID_FORMAT"
    ID_NUMBER_FORMAT = "ID_NUMBER_FORMAT"
    BHXH_CODE_FORMAT = "BHXH_CODE_FORMAT"
    CARD_CODE_FORMAT = "CARD_CODE_FORMAT"
    CARD_GROUP_UNKNOWN = "CARD_GROUP_UNKNOWN"
    CARD_LEVEL = "CARD_LEVEL"
    CARD_PROVINCE = "CARD_PROVINCE"
    ENTERPRISE_CODE_FORMAT = "ENTERPRISE_CODE_FORMAT"
    PROVINCE_UNKNOWN = "PROVINCE_UNKNOWN"
    DATE_FORMAT = "DATE_FORMAT"
    DATE_IMPOSSIBLE = "DATE_IMPOSSIBLE"
    DATE_FUTURE = "DATE_FUTURE"
    DATE_TOO_OLD = "DATE_TOO_OLD"
    MONTH_FORMAT = "MONTH_FORMAT"
    GENDER_INVALID = "GENDER_INVALID"
    NAME_EMPTY = "NAME_EMPTY"
    NAME_INVALID_CHARS = "NAME_INVALID_CHARS"
    TEXT_CONTROL_CHARACTER = "TEXT_CONTROL_CHARACTER"


# Module-level aliases, so callers can write `errors.DATE_FUTURE` as well as `Rule.DATE_FUTURE`.
PERSONAL_ID_FORMAT = Rule.PERSONAL_ID_FORMAT
PERSONAL_ID_PROVINCE = Rule.PERSONAL_ID_PROVINCE
PERSONAL_ID_INCONSISTENT = Rule.PERSONAL_ID_INCONSISTENT
OLD_ID_FORMAT = Rule.OLD_ID_FORMAT
ID_NUMBER_FORMAT = Rule.ID_NUMBER_FORMAT
BHXH_CODE_FORMAT = Rule.BHXH_CODE_FORMAT
CARD_CODE_FORMAT = Rule.CARD_CODE_FORMAT
CARD_GROUP_UNKNOWN = Rule.CARD_GROUP_UNKNOWN
CARD_LEVEL = Rule.CARD_LEVEL
CARD_PROVINCE = Rule.CARD_PROVINCE
ENTERPRISE_CODE_FORMAT = Rule.ENTERPRISE_CODE_FORMAT
PROVINCE_UNKNOWN = Rule.PROVINCE_UNKNOWN
DATE_FORMAT = Rule.DATE_FORMAT
DATE_IMPOSSIBLE = Rule.DATE_IMPOSSIBLE
DATE_FUTURE = Rule.DATE_FUTURE
DATE_TOO_OLD = Rule.DATE_TOO_OLD
MONTH_FORMAT = Rule.MONTH_FORMAT
GENDER_INVALID = Rule.GENDER_INVALID
NAME_EMPTY = Rule.NAME_EMPTY
NAME_INVALID_CHARS = Rule.NAME_INVALID_CHARS
TEXT_CONTROL_CHARACTER = Rule.TEXT_CONTROL_CHARACTER


class DomainError(ValueError):
    """A value broke a domain rule.

    Carries the field, the offending value, the stable rule code and the reason in Vietnamese
    and English, so an importer can write a rejected-row line without parsing the message.
    """

    field: str
    value: object
    rule: str
    message_vi: str
    message_en: str

    def __init__(
        self, field: str, value: object, rule: str, message_vi: str, message_en: str
    ) -> None:
        # Passing every argument to ValueError keeps `args` equal to the constructor's
        # arguments, so the error pickles (multiprocessing importers send errors across).
        super().__init__(field, value, rule, message_vi, message_en)
        self.field = field
        self.value = value
        self.rule = rule
        self.message_vi = message_vi
        self.message_en = message_en

    @property
    def reason(self) -> str:
        """The reason in Vietnamese, then English in brackets."""
        return f"{self.message_vi} ({self.message_en})"

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.reason} [{self.rule}]"

    def with_field(self, field: str, value: object) -> DomainError:
        """Return the same error (same type, rule and messages) for another field and value.

        Parsers validate under a default field name and relabel with the caller's.
        """
        return type(self)(field, value, self.rule, self.message_vi, self.message_en)


class InvalidPersonalId(DomainError):
    """A personal ID (số định danh cá nhân) or ID number is malformed."""


class InvalidOldIdNumber(DomainError):
    """An old 9-digit ID card number (số CMND) is malformed."""


class InvalidBhxhCode(DomainError):
    """A social-insurance code (mã số BHXH) is malformed."""


class InvalidHealthCardCode(DomainError):
    """A health-insurance card code (mã thẻ BHYT) is malformed."""


class InvalidEnterpriseCode(DomainError):
    """An enterprise code / tax code (mã số doanh nghiệp) is malformed."""


class InvalidProvinceCode(DomainError):
    """A province code (mã tỉnh) is not in either catalogue."""


class InvalidDate(DomainError):
    """A date or month is malformed, impossible or out of range."""


class InvalidGender(DomainError):
    """A gender (giới tính) value is not recognised."""


class InvalidName(DomainError):
    """A person's name (họ và tên) is empty or has characters a name cannot have."""


class InvalidText(DomainError):
    """Text from outside holds a character no stored text may hold (a control character)."""


class InputFileError(Exception):
    """An input file as a whole cannot be used (unreadable, empty, missing a column).

    The base of each reader's own file error, so the command line can answer every one of them
    with exit code 2 without knowing which package read the file.
    """
