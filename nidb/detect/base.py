"""What a detection rule is: a SQL query and how one of its rows becomes a :class:`Finding`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from nidb.domain.alerts import ALERT_RULE_TITLES

Row = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One hit of a rule: becomes one alert."""

    subject_type: str
    subject_id: str
    province: str | None
    evidence_key: str
    evidence: dict[str, Any]
    explanation_vi: str
    explanation_en: str


@dataclass(frozen=True)
class Rule:
    """A named SQL rule and how to turn one of its rows into a finding.

    The SQL is written in the common ground of DuckDB and Spark SQL (no engine-specific
    functions), so that the same text runs on one machine and on a cluster.
    """

    name: str
    sql: str
    explain: Callable[[Row], Finding]

    @property
    def title_vi(self) -> str:
        """What staff and reports call the rule (nidb.domain.alerts)."""
        return ALERT_RULE_TITLES[self.name][0]

    @property
    def title_en(self) -> str:
        return ALERT_RULE_TITLES[self.name][1]


def _d(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _json(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    if hasattr(value, "is_integer") and not isinstance(value, int):  # Decimal from Spark
        return float(value)
    return value


def evidence_of(row: Row) -> dict[str, Any]:
    """The row as JSON-ready evidence."""
    return {key: _json(value) for key, value in row.items()}


def month_index(column: str) -> str:
    """Months since year 0 of a date column, as SQL both engines read the same way."""
    return f"(year({column}) * 12 + month({column}) - 1)"
