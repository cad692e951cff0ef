"""Bulk upload of a worker list (danh sách lao động), layout ``employer_workers`` in
docs/interchange.md.

Each data row is declared on its own, as a one-worker declaration numbered
``<upload_no>-<row>`` in its own transaction: a bad row never blocks the good rows, and sending
the same file again under the same upload number changes nothing for the rows already applied
and tries again the rows that were refused (a corrected file fixes them). Errors name the file
row (the first data line is row 1), the column, the value and the rule, in Vietnamese and
English.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from nidb.employers.declarations import submit
from nidb.employers.errors import EmployerError

__all__ = ["COLUMNS", "MAX_ROWS", "UploadResult", "upload_workers"]

MAX_ROWS = 5000
_UPLOAD_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,29}$")
COLUMNS = (
    "kind",
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
    "reason",
)
_KIND_FIELDS = {
    "increase": (
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
    ),
    "decrease": ("personal_id", "reason", "month"),
    "salary_change": ("personal_id", "wage", "month", "position"),
    "correction": ("personal_id", "full_name", "date_of_birth"),
}


@dataclass
class UploadResult:
    """What became of each row of an uploaded list."""

    upload_no: str
    rows: int = 0
    applied: int = 0
    refused: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)


def _file_error(field_name: str, value: str, rule: str, vi: str, en: str) -> EmployerError:
    return EmployerError(field_name, value, rule, vi, en)


def _read(data: bytes) -> list[dict[str, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(
            "file", "", "FILE_ENCODING", "tệp phải mã hoá UTF-8", "the file must be UTF-8"
        ) from None
    reader = csv.DictReader(io.StringIO(unicodedata.normalize("NFC", text)))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "personal_id" not in header:
        raise _file_error(
            "personal_id",
            ",".join(header),
            "COLUMN_MISSING",
            "tệp thiếu cột personal_id (dòng đầu là tên cột)",
            "the file has no personal_id column (the first line names columns)",
        )
    rows = []
    for raw in reader:
        rows.append({(k or "").strip(): (v or "").strip() for k, v in raw.items() if k})
        if len(rows) > MAX_ROWS:
            raise _file_error(
                "file",
                str(len(rows)),
                "TOO_MANY_ROWS",
                f"tệp có hơn {MAX_ROWS} dòng",
                f"more than {MAX_ROWS} rows",
            )
    return rows


def upload_workers(
    engine: Engine, employer_code: str, upload_no: str, data: bytes, *, actor: str, channel: str
) -> UploadResult:
    """Declare every row of a worker list; raises EmployerError only for a file-level fault."""
    if not _UPLOAD_NO.fullmatch(upload_no):
        raise _file_error(
            "upload_no",
            upload_no,
            "DECLARATION_NO_FORMAT",
            "số lần nộp: 1-30 ký tự chữ, số, . _ / -",
            "upload number: 1-30 letters, digits, . _ / -",
        )
    rows = _read(data)
    result = UploadResult(upload_no, rows=len(rows))
    for number, row in enumerate(rows, start=1):
        kind = row.get("kind") or "increase"
        if kind not in _KIND_FIELDS:
            result.refused += 1
            result.errors.append(
                {
                    "row": number,
                    "field": "kind",
                    "value": kind,
                    "rule": "DECLARATION_KIND",
                    "message_vi": "loại phải là increase, decrease, salary_change hoặc correction",
                    "message_en": "kind must be increase, decrease, salary_change or correction",
                }
            )
            continue
        worker = {k: row[k] for k in _KIND_FIELDS[kind] if row.get(k)}
        body = {"declaration_no": f"{upload_no}-{number}", "kind": kind, "workers": [worker]}
        with engine.begin() as conn:
            outcome = submit(conn, employer_code, body, actor=actor, channel=channel)
        for error in outcome.errors:
            result.errors.append({**error, "row": number})
        for flag in outcome.flags:
            result.flags.append({**flag, "row": number})
        for item in outcome.results:
            result.results.append({**item, "row": number})
        if outcome.status == "applied":
            result.applied += 1
        else:
            result.refused += 1
    return result
