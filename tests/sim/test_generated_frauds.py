"""The frauds the generator injects on purpose, and the clean data around them.

Detection's own SQL (nidb.detect) is the yardstick: with every fraud rate at zero no rule finds
anything, and with the rates raised each rule's injected subjects are in the `frauds` file.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from nidb.detect import RULES, find, select_rules
from nidb.detect.synthetic import snapshot_from_generated
from nidb.sim.generate import ErrorRates, generate

FRAUD_RATES = (
    "benefit_after_death",
    "card_after_death",
    "overlapping_inpatient",
    "two_provinces_same_day",
    "duplicate_claim",
    "cost_outlier",
    "facility_cost_outlier",
    "visits_per_card_outlier",
    "employer_under_declared",
    "contributions_stopped",
)
SUBJECT_FORMAT = {
    "card": r"[A-Z]{2}[1-5]\d{12}",
    "person": r"\d{10}",
    "employer": r"T[A-Z]\d{4}[A-Z]",
    "facility": r"\d{5}",
    "visit": r"LK\d{10}",
}


def _frauds(folder: Path) -> list[dict[str, str]]:
    with (folder / "frauds.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_detection_rule_has_a_fraud_rate_of_the_same_name() -> None:
    assert set(FRAUD_RATES) == set(RULES)
    assert set(FRAUD_RATES) <= set(ErrorRates.names())


def test_without_frauds_the_data_set_raises_no_alert(tmp_path: Path) -> None:
    rates = ErrorRates(**dict.fromkeys(FRAUD_RATES, 0.0))
    generate(tmp_path / "data", 8_000, 5, rates=rates, visits_per_person=4.0)
    assert _frauds(tmp_path / "data") == []
    snapshot_from_generated(tmp_path / "data", tmp_path / "snapshot")
    found = {r.rule.name: len(r.findings) for r in find(tmp_path / "snapshot", select_rules(None))}
    assert found == dict.fromkeys(RULES, 0)


@pytest.mark.parametrize("rate", FRAUD_RATES)
def test_each_rate_injects_its_pattern_and_names_the_subject(tmp_path: Path, rate: str) -> None:
    raised = {
        "facility_cost_outlier": 0.5,
        "employer_under_declared": 0.3,
        "contributions_stopped": 0.3,
        "benefit_after_death": 0.6,
        "card_after_death": 0.6,
    }
    only = {name: 0.0 for name in FRAUD_RATES} | {rate: raised.get(rate, 0.02)}
    generate(tmp_path, 8_000, 6, rates=ErrorRates(**only), visits_per_person=4.0)
    rows = _frauds(tmp_path)
    assert rows and {row["rule"] for row in rows} == {rate}
    for row in rows:
        assert re.fullmatch(SUBJECT_FORMAT[row["subject_type"]], row["subject_id"]), row
