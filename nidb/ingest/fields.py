"""Cell parsers for the interchange layouts that are not domain identifiers.

Each parser takes a non-empty cell (already known not to be blank) and returns a typed value or
raises ``DomainError`` naming the column, the value and the rule. ``RowFields`` collects every
error of a row, so one rejected row explains all that is wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any, TypeVar

from nidb.domain.errors import DomainError

T = TypeVar("T")
Parser = Callable[[str, str], T]

_INT = re.compile(r"^[+]?\d{1,18}$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$")
_ICD10 = re.compile(r"^([A-Z])(\d{2})(?:\.?([0-9A-Z]{1,2}))?$")
_CODE = re.compile(r"^[A-Z0-9]{2,20}$")
_FIVE_DIGITS = re.compile(r"^\d{5}$")


def missing(column: str) -> DomainError:
    """The error for a required cell left empty."""
    return DomainError(
        column, "", "REQUIRED_MISSING", "bắt buộc nhưng để trống", "required but empty"
    )


class RowFields:
    """Parses the cells of one row, collecting every error instead of stopping at the first."""

    __slots__ = ("cells", "errors")

    def __init__(self, cells: dict[str, str | None]) -> None:
        self.cells = cells
        self.errors: list[DomainError] = []

    def required(self, column: str, parse: Callable[..., T], *extra: Any) -> T | None:
        """The parsed value of a required cell (None, with an error noted, if bad or empty).

        ``parse`` is called as ``parse(raw, column, *extra)``.
        """
        raw = self.cells.get(column)
        if raw is None:
            self.errors.append(missing(column))
            return None
        try:
            return parse(raw, column, *extra)
        except DomainError as error:
            self.errors.append(error)
            return None

    def optional(self, column: str, parse: Callable[..., T], *extra: Any) -> T | None:
        """The parsed value of an optional cell, None when empty."""
        raw = self.cells.get(column)
        if raw is None:
            return None
        try:
            return parse(raw, column, *extra)
        except DomainError as error:
            self.errors.append(error)
            return None

    def fail(self, column: str, value: object, rule: str, vi: str, en: str) -> None:
        """Note a cross-field error against ``column``."""
        self.errors.append(DomainError(column, value, rule, vi, en))


def too_long(column: str, raw: str, max_length: int) -> DomainError:
    """The error for a value longer than its column holds (shown cut to 60 characters)."""
    return DomainError(
        column,
        raw[:60],
        "VALUE_TOO_LONG",
        f"dài quá {max_length} ký tự",
        f"longer than {max_length} characters",
    )


def text(max_length: int) -> Callable[[str, str], str]:
    """Free text, trimmed, at most ``max_length`` characters."""

    def parse(raw: str, column: str) -> str:
        value = " ".join(raw.split())
        if len(value) > max_length:
            raise too_long(column, raw, max_length)
        return value

    return parse


def choice(allowed: Collection[str], *, fold_case: bool = True) -> Callable[[str, str], str]:
    """One of a fixed set of codes."""
    listed = ", ".join(sorted(allowed))

    def parse(raw: str, column: str) -> str:
        value = raw.strip()
        value = value.lower() if fold_case else value
        if value not in allowed:
            raise DomainError(
                column,
                raw,
                "VALUE_NOT_ALLOWED",
                f"giá trị không hợp lệ, phải là một trong: {listed}",
                f"not one of: {listed}",
            )
        return value

    return parse


def integer(minimum: int = 0) -> Callable[[str, str], int]:
    """A whole number ≥ ``minimum`` (money in đồng, counts)."""

    def parse(raw: str, column: str) -> int:
        value = raw.strip()
        if not _INT.match(value):
            raise DomainError(
                column, raw, "INTEGER_FORMAT", "phải là số nguyên", "must be a whole number"
            )
        number = int(value)
        if number < minimum:
            raise DomainError(
                column,
                raw,
                "INTEGER_RANGE",
                f"phải từ {minimum} trở lên",
                f"must be at least {minimum}",
            )
        return number

    return parse


def flag(raw: str, column: str) -> bool:
    """``0``/``1`` (also true/false)."""
    value = raw.strip().lower()
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    raise DomainError(column, raw, "FLAG_FORMAT", "phải là 0 hoặc 1", "must be 0 or 1")


def timestamp(raw: str, column: str) -> datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]`` (local hospital time, no zone)."""
    match = _DATETIME.match(raw.strip())
    if not match:
        raise DomainError(
            column,
            raw,
            "DATETIME_FORMAT",
            "phải có dạng YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM",
            "must be YYYY-MM-DD or YYYY-MM-DDTHH:MM",
        )
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        return datetime(*parts)  # type: ignore[arg-type]
    except ValueError:
        raise DomainError(
            column, raw, "DATE_IMPOSSIBLE", "ngày giờ không tồn tại", "no such date or time"
        ) from None


def icd10(raw: str, column: str) -> str:
    """An ICD-10 code, stored with its dot (``J189`` → ``J18.9``)."""
    value = raw.strip().upper()
    match = _ICD10.match(value)
    if not match:
        raise DomainError(
            column, raw, "ICD10_FORMAT", "mã ICD-10 không hợp lệ", "not an ICD-10 code"
        )
    letter, digits, tail = match.groups()
    return f"{letter}{digits}.{tail}" if tail else f"{letter}{digits}"


def unit_code(raw: str, column: str) -> str:
    """An insurance unit code (mã đơn vị): 2–20 upper-case letters or digits."""
    value = raw.strip().upper()
    if not _CODE.match(value):
        raise DomainError(
            column,
            raw,
            "UNIT_CODE_FORMAT",
            "mã đơn vị gồm 2–20 chữ cái hoặc chữ số",
            "unit code must be 2–20 letters or digits",
        )
    return value


def facility_code(raw: str, column: str) -> str:
    """A health facility code (mã cơ sở KCB): 5 digits."""
    value = raw.strip()
    if not _FIVE_DIGITS.match(value):
        raise DomainError(
            column,
            raw,
            "FACILITY_CODE_FORMAT",
            "mã cơ sở khám chữa bệnh gồm 5 chữ số",
            "facility code must be 5 digits",
        )
    return value


def first_of_month(year_month: tuple[int, int]) -> date:
    """The first day of a (year, month)."""
    return date(year_month[0], year_month[1], 1)


def sql_value(value: Any) -> Any:
    """A staging value as SQLite stores it through SQLAlchemy (ISO text for dates)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(values: tuple[Any, ...]) -> str:
    """One row in PostgreSQL COPY text format (tab-separated, ``\\N`` for null)."""
    cells = []
    for value in values:
        if value is None:
            cells.append("\\N")
        elif isinstance(value, str):
            # translate() is slow; almost no value holds a character COPY must escape
            cells.append(value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value)
        elif isinstance(value, bool):
            cells.append("t" if value else "f")
        elif isinstance(value, datetime):
            cells.append(value.isoformat(" "))
        else:  # int, date
            cells.append(str(value))
    return "\t".join(cells)
