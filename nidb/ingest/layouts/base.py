"""What every layout is made of: the ``Layout`` type, ``RowInvalid`` and shared cell parsers.

A layout turns the cells of one row into the values of one register row, in the order of
``Layout.targets``, or raises ``RowInvalid`` with every error of the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
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

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


# -- shared cell parsers (built once: they run on every row) ------------------------------------

SHORT_TEXT = text(40)
VISIT_ID = text(100)
LONG_TEXT = text(200)
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
