"""Validating what citizens type and upload, before anything is read or written.

Every function raises FormInvalid (a DomainError) naming the field, the value and the rule,
with the reason in Vietnamese first. Free text must not carry markup: a ``<`` or ``>`` or a
control character is refused outright rather than escaped and stored, so a script typed into a
form never reaches a staff member's screen or the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from nidb.domain.dates import parse_date
from nidb.domain.errors import DomainError
from nidb.domain.evidence import MAX_EVIDENCE_BYTES, sniff
from nidb.domain.identifiers import PersonalId
from nidb.domain.text import check_no_control
from nidb.services.errors import FormInvalid
from nidb.services.workdays import today_vn

__all__ = [
    "MAX_UPLOAD_BYTES",
    "Upload",
    "check_bank_account",
    "check_past_date",
    "check_personal_id",
    "check_text",
    "check_upload",
]

MAX_UPLOAD_BYTES = MAX_EVIDENCE_BYTES
_MARKUP = re.compile(r"[<>]|javascript:", re.IGNORECASE)
_ACCOUNT = re.compile(r"[0-9]{6,20}")


def _invalid(field: str, value: object, rule: str, vi: str, en: str) -> FormInvalid:
    return FormInvalid(field, value, rule, vi, en)


def check_personal_id(raw: str, field: str = "personal_id") -> str:
    """A 12-digit personal ID, consistent in itself (province, century-sex, year)."""
    try:
        return str(PersonalId.parse(str(raw), field))
    except DomainError as error:
        raise _invalid(field, raw, error.rule, error.message_vi, error.message_en) from None


def check_past_date(raw: str, field: str, *, today: date | None = None) -> date:
    """An ISO date (YYYY-MM-DD) not after today (Vietnam)."""
    try:
        return parse_date(str(raw), field, today=today or today_vn(), allow_future=False)
    except DomainError as error:
        raise _invalid(field, raw, error.rule, error.message_vi, error.message_en) from None


def check_text(
    raw: str | None, field: str, *, max_length: int = 500, required: bool = False
) -> str:
    """Free text: trimmed, bounded, without markup or control characters (the domain's one
    rule, ``nidb.domain.text``; tab and line breaks allowed)."""
    value = (raw or "").strip()
    try:
        check_no_control(value, field, multiline=True)
    except DomainError as error:
        raise _invalid(field, error.value, error.rule, error.message_vi, error.message_en) from None
    if required and not value:
        raise _invalid(field, raw, "TEXT_REQUIRED", "không được để trống", "must not be empty")
    if len(value) > max_length:
        raise _invalid(
            field,
            value[:40],
            "TEXT_TOO_LONG",
            f"dài quá {max_length} ký tự",
            f"longer than {max_length} characters",
        )
    if _MARKUP.search(value):
        raise _invalid(
            field,
            value[:40],
            "TEXT_MARKUP",
            "không được chứa ký tự < > , mã lệnh hay ký tự điều khiển",
            "must not contain < >, script or control characters",
        )
    return value


def check_bank_account(raw: str, field: str = "bank_account") -> str:
    """A bank account number: 6 to 20 digits (spaces ignored)."""
    value = re.sub(r"\s", "", str(raw or ""))
    if not _ACCOUNT.fullmatch(value):
        raise _invalid(
            field,
            raw,
            "BANK_ACCOUNT_FORMAT",
            "số tài khoản ngân hàng phải gồm 6 đến 20 chữ số",
            "bank account number must be 6 to 20 digits",
        )
    return value


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a citizen attached, checked: its name, real type and bytes."""

    filename: str
    content_type: str
    content: bytes


def check_upload(filename: str, content: bytes, field: str = "attachment") -> Upload:
    """A PDF, JPEG or PNG of at most 5 MB, recognised by its content, with a plain name."""
    name = check_text(filename, f"{field}.filename", max_length=200, required=True)
    if "/" in name or "\\" in name:
        raise _invalid(
            f"{field}.filename", name, "FILE_NAME", "tên tệp không hợp lệ", "invalid file name"
        )
    if len(content) > MAX_UPLOAD_BYTES:
        raise _invalid(
            field,
            f"{len(content)} bytes",
            "FILE_TOO_LARGE",
            f"tệp quá lớn ({len(content) // 1024} KB); tối đa {MAX_UPLOAD_BYTES // 1024 // 1024} MB",
            f"file too large ({len(content)} bytes); at most {MAX_UPLOAD_BYTES} bytes",
        )
    content_type = sniff(content)  # by the first bytes, not the name or the browser's word
    if content_type is not None:
        return Upload(name, content_type, content)
    raise _invalid(
        field,
        name,
        "FILE_TYPE",
        "chỉ nhận tệp PDF, JPEG hoặc PNG",
        "only PDF, JPEG or PNG files are accepted",
    )
