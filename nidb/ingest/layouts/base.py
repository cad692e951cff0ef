"""What every layout is made of: the ``Layout`` type, ``RowInvalid`` and shared cell parsers.

A layout turns the cells of one row into the values of one register row, in the order of
``Layout.targets``, or raises ``RowInvalid`` with every error of the row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Table

from nidb.domain.errors import DomainError
from nidb.domain.identifiers import BhxhCode
from nidb.ingest.fields import RowFields, integer, text
from nidb.store import models

TABLES = models.Base.metadata.tables
"""The register tables, by name: the targets of the layouts."""


class RowInvalid(Exception):
    """A row broke one or more rules; it goes to quarantine with every reason."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class CellType(StrEnum):
    """What a column holds, which decides the Parquet types it may come in.

    Every column may come as text (all CSV cells are text); ``TEXT`` columns only as text, so a
    BHXH code written as a float or a gender as a boolean is refused rather than guessed at.
    """

    TEXT = "text"
    INTEGER = "integer"
    """Whole numbers (money in đồng, counts): also any Arrow integer type."""
    DATE = "date"
    """Dates: also Arrow date32/date64."""
    TIMESTAMP = "timestamp"
    """Date-times: also Arrow dates and timestamps without a time zone."""
    FLAG = "flag"
    """0/1: also Arrow booleans and integers."""


@dataclass(frozen=True)
class Layout:
    """How one interchange kind maps onto one register table."""

    kind: str
    table: Table
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    targets: tuple[str, ...]
    convert: Callable[[dict[str, str | None], date], tuple[Any, ...]]
    reset_on_change: dict[str, Any] = field(default_factory=dict)
    """Columns set on an existing row whenever its data changes (e.g. re-verify)."""
    cell_types: Mapping[str, CellType] = field(default_factory=dict)
    """The columns that are not plain text (the rest are ``CellType.TEXT``)."""
    unique: tuple[str, ...] = ()
    """Columns besides the key that no two rows of one file may share (empty cells aside): a
    later row repeating an earlier row's value is quarantined, the first one wins."""
    kept_if_absent: tuple[str, ...] = ()
    """Optional columns nidb adds to the shared contract's layout: a file without the column
    (one in the contract's layout alone) leaves what the register holds in it; a file with it
    sets it, an empty cell to empty."""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def cell_type(self, column: str) -> CellType:
        """What ``column`` holds."""
        return self.cell_types.get(column, CellType.TEXT)


# -- shared cell parsers (built once: they run on every row) ------------------------------------

# Lengths are those of the register columns (String(n)); addresses (Text) are held to 500.
SHORT_TEXT = text(40)
VISIT_ID = text(100)
LONG_TEXT = text(200)
PERSON_NAME_LENGTH = 200
NAME_TEXT = text(300)
ADDRESS = text(500)
COUNT = integer(0)
POSITIVE = integer(1)


def bhxh_code(raw: str, column: str) -> str:
    """A BHXH code cell, checked, as its 10-digit value."""
    return BhxhCode.parse(raw, column).value


def finish(fields: RowFields, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """The row's values, or ``RowInvalid`` with every error ``fields`` noted."""
    if fields.errors:
        raise RowInvalid(fields.errors)
    return values
