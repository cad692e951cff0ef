"""The enterprises the business-registry stand-in holds, and the events their changes make.

Every change goes through `BusinessRegistry`, which updates the enterprise and appends the
event (`registered`, `changed`, `closed`) to the feed, so the feed and the state never
disagree. A data file (CSV, e.g. the `employers.csv` of `nidb generate`, or a JSON list) gives
the state at start-up, without events: the feed only tells what happens afterwards.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from nidb.domain.errors import DomainError
from nidb.domain.identifiers import EnterpriseCode
from nidb.domain.provinces import is_province_code
from nidb.sim.business.feed import EventFeed, ServiceError

__all__ = [
    "FIELDS",
    "STATUSES",
    "BusinessRegistry",
    "DataFileError",
    "Enterprise",
    "load_enterprises",
]

STATUSES = ("active", "suspended", "closed")
FIELDS = ("name", "province", "address", "business_line", "registered_workers", "status")
"""The fields a `changed` event may carry (the enterprise code never changes)."""


@dataclass(frozen=True, slots=True)
class Enterprise:
    """An enterprise as the registry knows it (doanh nghiệp)."""

    enterprise_code: str
    name: str
    province: str
    address: str | None = None
    business_line: str | None = None
    registered_workers: int | None = None
    status: str = "active"

    def as_dict(self) -> dict[str, Any]:
        """The enterprise as plain values."""
        return asdict(self)


class DataFileError(Exception):
    """The data file cannot be loaded: names the row and the field at fault."""


class BusinessRegistry:
    """Enterprises by code, and the feed of their changes."""

    def __init__(self, enterprises: list[Enterprise] | None = None) -> None:
        self.feed = EventFeed("enterprise_code")
        self._by_code = {e.enterprise_code: e for e in enterprises or ()}

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Enterprise:
        """The enterprise with this code; ServiceError 404 when there is none."""
        found = self._by_code.get(code)
        if found is None:
            raise ServiceError(
                404,
                "ENTERPRISE_NOT_FOUND",
                "không có mã số doanh nghiệp này trong sổ",
                "no such enterprise code in the registry",
            )
        return found

    def register(self, enterprise: Enterprise) -> dict[str, Any]:
        """Register a new enterprise; the `registered` event carries all its fields."""
        if enterprise.enterprise_code in self._by_code:
            raise ServiceError(
                409,
                "ENTERPRISE_EXISTS",
                "mã số doanh nghiệp đã được đăng ký",
                "the enterprise code is already registered",
            )
        self._by_code[enterprise.enterprise_code] = enterprise
        data = enterprise.as_dict()
        del data["enterprise_code"]
        return self.feed.append("registered", enterprise.enterprise_code, data)

    def change(self, code: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change some fields; the `changed` event carries only the fields that differ."""
        current = self.get(code)
        if current.status == "closed":
            raise ServiceError(
                409, "ENTERPRISE_CLOSED", "doanh nghiệp đã giải thể", "the enterprise is closed"
            )
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"fields that cannot change: {sorted(unknown)}")
        differing = {k: v for k, v in fields.items() if getattr(current, k) != v}
        if not differing:
            raise ServiceError(409, "NO_CHANGE", "không có gì thay đổi", "nothing changes")
        if differing.get("status") == "closed":
            raise ServiceError(
                422,
                "USE_CLOSE",
                "giải thể doanh nghiệp bằng sự kiện closed",
                "close an enterprise with a closed event",
            )
        self._by_code[code] = replace(current, **differing)
        return self.feed.append("changed", code, differing)

    def close(self, code: str, closed_date: date, reason: str | None = None) -> dict[str, Any]:
        """Close (giải thể / chấm dứt hoạt động) an enterprise."""
        current = self.get(code)
        if current.status == "closed":
            raise ServiceError(
                409, "ENTERPRISE_CLOSED", "doanh nghiệp đã giải thể", "the enterprise is closed"
            )
        self._by_code[code] = replace(current, status="closed")
        data: dict[str, Any] = {"closed_date": closed_date.isoformat()}
        if reason:
            data["reason"] = reason
        return self.feed.append("closed", code, data)


def _text(row: dict[str, Any], name: str) -> str | None:
    value = row.get(name)
    text = "" if value is None else str(value).strip()
    return text or None


def _enterprise(row: dict[str, Any], where: str) -> Enterprise | None:
    raw_code = _text(row, "enterprise_code")
    if raw_code is None:
        return None  # household businesses and public bodies have no enterprise code
    try:
        code = EnterpriseCode.parse(raw_code).value
    except DomainError as error:
        raise DataFileError(f"{where}, enterprise_code {raw_code!r}: {error.message_en}") from None
    name, province = _text(row, "name"), _text(row, "province")
    if name is None:
        raise DataFileError(f"{where}, name: missing")
    if province is None or not is_province_code(province):
        raise DataFileError(f"{where}, province {province!r}: not a 2-digit province code")
    workers = _text(row, "registered_workers")
    status = _text(row, "status") or "active"
    if status not in STATUSES:
        raise DataFileError(f"{where}, status {status!r}: not one of {', '.join(STATUSES)}")
    try:
        count = None if workers is None else int(workers)
    except ValueError:
        raise DataFileError(f"{where}, registered_workers {workers!r}: not a number") from None
    return Enterprise(
        code, name, province, _text(row, "address"), _text(row, "business_line"), count, status
    )


def load_enterprises(path: Path) -> list[Enterprise]:
    """Read enterprises from a CSV (header row) or JSON (a list of objects) file.

    Rows without an enterprise code are skipped (the employers file of `nidb generate` holds
    household businesses too); other problems raise DataFileError naming row and field.
    """
    if path.suffix.lower() == ".json":
        rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    found: dict[str, Enterprise] = {}
    for number, row in enumerate(rows, start=1):
        enterprise = _enterprise(row, f"{path.name}: row {number}")
        if enterprise is not None:
            found[enterprise.enterprise_code] = enterprise
    return list(found.values())
