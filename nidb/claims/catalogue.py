"""Import the claims catalogues (facilities, drugs, services) from CSV, quarantining bad rows.

Layouts: docs/interchange.md, "Claims catalogues". A row is keyed by its code and the date it
starts (``contract_from`` / ``valid_from``): importing the same file again changes nothing, a
corrected file updates rows in place. Bad rows go to ``FILE.rejected.csv`` (row, column, value,
rule, Vietnamese and English reason) and never stop the batch; the good rows, one audit entry
and one outbox event are one transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, select, update
from sqlalchemy import insert as sql_insert

from nidb.domain.errors import InputFileError
from nidb.domain.provinces import PROVINCES_34, PROVINCES_63
from nidb.ingest.quarantine import SCRATCH, Quarantine, rejected_path_for
from nidb.settings import get_settings
from nidb.store import models_claims
from nidb.store.audit import write_audit, write_event

KINDS = ("facilities", "drugs", "services")
FACILITY_COLUMNS = ("code", "name", "level", "province_code", "contract_from", "contract_to")
ITEM_COLUMNS = ("code", "name", "unit", "price", "payment_ratio", "valid_from", "valid_to")
MAX_PRICE = 10_000_000_000
"""No single drug or service is priced above ten billion đồng: a larger value is a typo."""


class RowError(ValueError):
    """One cell broke one rule."""

    def __init__(self, column: str, value: str, rule: str, vi: str, en: str) -> None:
        super().__init__(column, value, rule, vi, en)
        self.column, self.value, self.rule, self.vi, self.en = column, value, rule, vi, en


@dataclass
class CatalogueReport:
    """What one import did."""

    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_file: Path | None = None
    by_rule: dict[str, int] = field(default_factory=dict)


def _text(limit: int) -> Callable[[str, str], str]:
    def parse(raw: str, column: str) -> str:
        value = raw.strip()
        if not value:
            raise RowError(column, raw, "REQUIRED", "bắt buộc phải có", "required")
        if len(value) > limit:
            raise RowError(
                column, raw, "TOO_LONG", f"dài quá {limit} ký tự", f"longer than {limit}"
            )
        return value

    return parse


def _int(low: int, high: int) -> Callable[[str, str], int]:
    def parse(raw: str, column: str) -> int:
        value = raw.strip()
        if not value.isdigit():
            raise RowError(
                column, raw, "NOT_INTEGER", "phải là số nguyên không âm", "not a whole number"
            )
        number = int(value)
        if not low <= number <= high:
            raise RowError(
                column,
                raw,
                "OUT_OF_RANGE",
                f"phải từ {low} đến {high}",
                f"must be between {low} and {high}",
            )
        return number

    return parse


def _date(raw: str, column: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise RowError(
            column, raw, "DATE_FORMAT", "ngày phải có dạng YYYY-MM-DD", "date must be YYYY-MM-DD"
        ) from None


def _facility_code(raw: str, column: str) -> str:
    value = raw.strip()
    if len(value) != 5 or not value.isdigit():
        raise RowError(
            column, raw, "FACILITY_CODE", "mã cơ sở gồm 5 chữ số", "facility code is 5 digits"
        )
    return value


def _province(raw: str, column: str) -> str:
    value = raw.strip()
    if value not in PROVINCES_63 and value not in PROVINCES_34:
        raise RowError(column, raw, "PROVINCE_UNKNOWN", "mã tỉnh không có", "unknown province code")
    return value


def _optional(parse: Callable[[str, str], date]) -> Callable[[str, str], date | None]:
    def wrapped(raw: str, column: str) -> date | None:
        return parse(raw, column) if raw.strip() else None

    return wrapped


_FACILITY_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "code": _facility_code,
    "name": _text(200),
    "level": _int(1, 4),
    "province_code": _province,
    "contract_from": _date,
    "contract_to": _optional(_date),
}
_ITEM_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "code": _text(50),
    "name": _text(300),
    "unit": _text(30),
    "price": _int(0, MAX_PRICE),
    "payment_ratio": _int(0, 100),
    "valid_from": _date,
    "valid_to": _optional(_date),
}


def parse_row(kind: str, cells: dict[str, str]) -> tuple[dict[str, Any], list[RowError]]:
    """The values of one catalogue row, or every error it has."""
    parsers = _FACILITY_PARSERS if kind == "facilities" else _ITEM_PARSERS
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for column, parse in parsers.items():
        try:
            values[column] = parse(cells.get(column) or "", column)
        except RowError as error:
            errors.append(error)
    start, end = (
        ("contract_from", "contract_to") if kind == "facilities" else ("valid_from", "valid_to")
    )
    if not errors and values[end] is not None and values[end] < values[start]:
        errors.append(
            RowError(
                end,
                cells[end],
                "DATES_ORDER",
                f"{end} trước {start}",
                f"{end} is before {start}",
            )
        )
    if kind != "facilities":
        values["kind"] = "drug" if kind == "drugs" else "service"
    return values, errors


def import_catalogue(engine: Engine, kind: str, path: Path, actor: str) -> CatalogueReport:
    """Load one catalogue file; bad rows to the quarantine file, the rest in one transaction."""
    if kind not in KINDS:
        raise InputFileError(f"{path}: kind must be one of {', '.join(KINDS)}")
    columns = FACILITY_COLUMNS if kind == "facilities" else ITEM_COLUMNS
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read ({error.strerror})") from None
    report = CatalogueReport(kind)
    quarantine = Quarantine(rejected_path_for(path), get_settings().data_dir / SCRATCH)
    try:
        with handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise InputFileError(f"{path}: thiếu cột (missing columns): {', '.join(missing)}")
            good: dict[tuple[Any, ...], dict[str, Any]] = {}
            try:
                for number, cells in enumerate(reader, start=2):
                    report.rows += 1
                    values, errors = parse_row(kind, cells)
                    for broken in errors:
                        quarantine.add(
                            number,
                            broken.column,
                            broken.value,
                            broken.rule,
                            f"{broken.vi} ({broken.en})",
                        )
                    if not errors:
                        good[_key(kind, values)] = values
            except (UnicodeDecodeError, csv.Error) as error:
                raise InputFileError(f"{path}: not a UTF-8 CSV file ({error})") from None
        report.rejected = len(quarantine.rows)
        _store(engine, kind, path, list(good.values()), report, actor)
        report.rejected_file = quarantine.commit()
        report.by_rule = dict(quarantine.by_rule)
    except BaseException:
        quarantine.discard()
        raise
    return report


def _key(kind: str, values: dict[str, Any]) -> tuple[Any, ...]:
    if kind == "facilities":
        return (values["code"], values["contract_from"])
    return (values["kind"], values["code"], values["valid_from"])


def _store(
    engine: Engine,
    kind: str,
    path: Path,
    rows: list[dict[str, Any]],
    report: CatalogueReport,
    actor: str,
) -> None:
    model: Any = (
        models_claims.ClaimFacility if kind == "facilities" else models_claims.ClaimCatalogueItem
    )
    table = model.__table__
    key_columns = (
        ("code", "contract_from") if kind == "facilities" else ("kind", "code", "valid_from")
    )
    with engine.begin() as conn:
        query = select(table)
        if kind != "facilities":
            query = query.where(table.c.kind == ("drug" if kind == "drugs" else "service"))
        held = {tuple(r[c] for c in key_columns): dict(r) for r in conn.execute(query).mappings()}
        inserts = []
        for row in rows:
            key = tuple(row[c] for c in key_columns)
            old = held.get(key)
            if old is None:
                inserts.append(row)
            elif any(old[c] != v for c, v in row.items()):
                conn.execute(
                    update(table)
                    .where(and_(*(table.c[c] == row[c] for c in key_columns)))
                    .values(**row)
                )
                report.updated += 1
            else:
                report.unchanged += 1
        if inserts:
            conn.execute(sql_insert(table), inserts)
        report.inserted = len(inserts)
        detail = {
            "kind": kind,
            "file": path.name,
            "rows": report.rows,
            "inserted": report.inserted,
            "updated": report.updated,
            "rejected": report.rejected,
        }
        write_audit(
            conn,
            actor=actor,
            action="claims.catalogue_imported",
            subject_type="claims_catalogue",
            subject_id=kind,
            purpose=None,
            detail=detail,
        )
        write_event(conn, "claims.catalogue_imported", kind, detail)
