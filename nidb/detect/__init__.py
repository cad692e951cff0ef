"""Fraud detection (phát hiện trục lợi): SQL rules in DuckDB over Parquet snapshots of the store.

``run_detection`` exports the tables the rules need, runs each rule (nidb.detect.rules) and stores
one alert per finding in ``alerts`` (kind = rule name), with its explanation in Vietnamese and
English and the ids of its evidence; a finding already held as an alert is not stored again.
"""

from nidb.detect.rules import RULES, Finding, Rule
from nidb.detect.runner import RuleResult, UnknownRule, find, run_detection, select_rules

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "RuleResult",
    "UnknownRule",
    "find",
    "run_detection",
    "select_rules",
]
