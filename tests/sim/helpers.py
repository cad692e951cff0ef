"""Helpers for reading back and checking generated data sets."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from nidb.sim.generate import DEFAULT_TODAY, ErrorRates, GenerationSummary

Row = dict[str, str]
TODAY = DEFAULT_TODAY.isoformat()
RATES = ErrorRates()


@dataclass(frozen=True)
class DataSet:
    """A generated directory, its summary and every CSV file read back as dicts of strings."""

    summary: GenerationSummary
    tables: dict[str, list[Row]]

    def __getitem__(self, table: str) -> list[Row]:
        return self.tables[table]


def read_csv(path: Path) -> list[Row]:
    """Read a CSV file with the standard library (a reader independent of the writer)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def errors_of(row: Row) -> set[str]:
    """The error codes of a truth row."""
    return set(row["errors"].split(";")) if row["errors"] else set()


def joined(data: DataSet) -> list[tuple[Row, Row, Row | None]]:
    """(record, truth, registry row or None) for every record."""
    truth = {t["record_id"]: t for t in data["truth"]}
    registry = {r["personal_id"]: r for r in data["registry"]}
    result = []
    for record in data["records"]:
        fact = truth[record["record_id"]]
        result.append((record, fact, registry.get(fact["personal_id"])))
    return result


def first_day(partial: str) -> str:
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD` as the earliest full date it allows."""
    return (partial + "-01-01")[:10] if len(partial) == 4 else (partial + "-01")[:10]


def month_index(text: str) -> int:
    """`YYYY-MM…` as a month count."""
    return int(text[:4]) * 12 + int(text[5:7]) - 1


def assert_rate(count: int, eligible: int, rate: float, name: str) -> None:
    """``count`` of ``eligible`` is within four standard deviations (plus 3) of ``rate``."""
    expected = eligible * rate
    slack = 4 * math.sqrt(eligible * rate * (1 - rate)) + 3
    assert abs(count - expected) <= slack, (
        f"{name}: {count} of {eligible} ({count / max(eligible, 1):.4f}), expected {rate}"
    )
