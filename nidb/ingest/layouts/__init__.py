"""The importable layouts: columns, record keys, target tables and row conversion.

A layout turns the cells of one row into the values of one register row, in the order of
``Layout.targets``, or raises ``RowInvalid`` with every error of the row. Rules come from
../shared/INTERCHANGE.md (registry, records) and docs/interchange.md (the rest).

One module per group of kinds: ``people`` (registry, records), ``employment`` (employers,
participation, contributions), ``health`` (cards, visits), ``benefits``; ``base`` holds the
``Layout`` type and the cell parsers they share.
"""

from __future__ import annotations

from nidb.ingest.layouts.base import CellType, Layout, RowInvalid
from nidb.ingest.layouts.benefits import (
    BENEFIT_KINDS,
    BENEFITS,
    LUMP_SUM_BENEFITS,
    MONTHLY_BENEFITS,
    VIETNAM_TIME,
    convert_benefits,
)
from nidb.ingest.layouts.employment import (
    CONTRIBUTIONS,
    EMPLOYER_TYPES,
    EMPLOYERS,
    PARTICIPATION,
    convert_contributions,
    convert_employers,
    convert_participation,
)
from nidb.ingest.layouts.health import CARD_STATUSES, CARDS, VISITS, convert_cards, convert_visits
from nidb.ingest.layouts.people import RECORDS, REGISTRY, convert_records, convert_registry

LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        REGISTRY,
        RECORDS,
        EMPLOYERS,
        PARTICIPATION,
        CONTRIBUTIONS,
        CARDS,
        VISITS,
        BENEFITS,
    )
}
"""Every importable kind's layout, by kind name."""

__all__ = [
    "BENEFIT_KINDS",
    "CARD_STATUSES",
    "EMPLOYER_TYPES",
    "LAYOUTS",
    "LUMP_SUM_BENEFITS",
    "MONTHLY_BENEFITS",
    "VIETNAM_TIME",
    "CellType",
    "Layout",
    "RowInvalid",
    "convert_benefits",
    "convert_cards",
    "convert_contributions",
    "convert_employers",
    "convert_participation",
    "convert_records",
    "convert_registry",
    "convert_visits",
]
