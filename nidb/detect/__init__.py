"""Fraud detection (phát hiện trục lợi): SQL rules in DuckDB over Parquet snapshots of the store.

``run_detection`` exports the tables the rules need, runs each rule (nidb.detect.rules) and stores
one alert per finding in ``alerts`` (kind = rule name), with its explanation in Vietnamese and
English and the ids of its evidence; a finding already held as an alert is not stored again.

``detect_access`` runs the access-anomaly rules (``access_rules``: too many persons in a day,
reads off hours, reads outside a staff member's area) over the access log and stores their
alerts with the reads they are about (``listed_reads``).

The names below are loaded on first use: `nidb --help` loads ``nidb.detect.commands``, and must
not load DuckDB and the models with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nidb.detect.access import AccessRun, detect_access, listed_reads
    from nidb.detect.access_rules import ACCESS_KINDS, ACCESS_RULE_TITLES, Thresholds
    from nidb.detect.alerts import AlertError, decide
    from nidb.detect.rules import RULES, Finding, Rule
    from nidb.detect.runner import RuleResult, UnknownRule, find, run_detection, select_rules

_HOMES = {
    "AlertError": "nidb.detect.alerts",
    "decide": "nidb.detect.alerts",
    "ACCESS_KINDS": "nidb.detect.access_rules",
    "ACCESS_RULE_TITLES": "nidb.detect.access_rules",
    "AccessRun": "nidb.detect.access",
    "Thresholds": "nidb.detect.access_rules",
    "detect_access": "nidb.detect.access",
    "listed_reads": "nidb.detect.access",
    "RULES": "nidb.detect.rules",
    "Finding": "nidb.detect.rules",
    "Rule": "nidb.detect.rules",
    "RuleResult": "nidb.detect.runner",
    "UnknownRule": "nidb.detect.runner",
    "find": "nidb.detect.runner",
    "run_detection": "nidb.detect.runner",
    "select_rules": "nidb.detect.runner",
}

__all__ = [
    "ACCESS_KINDS",
    "ACCESS_RULE_TITLES",
    "RULES",
    "AccessRun",
    "AlertError",
    "Finding",
    "Rule",
    "RuleResult",
    "Thresholds",
    "UnknownRule",
    "decide",
    "detect_access",
    "find",
    "listed_reads",
    "run_detection",
    "select_rules",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
