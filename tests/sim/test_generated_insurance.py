"""Specification of the generated employers, participation, contributions, cards and visits."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from nidb.domain.provinces import PROVINCES_63
from nidb.sim.generate import DEFAULT_TODAY
from tests.sim.helpers import TODAY, DataSet, errors_of, joined, month_index

DEFAULT_LEVEL = {
    "TE": 1,
    "CC": 1,
    "BT": 2,
    "HT": 3,
    "CN": 3,
    "DN": 4,
    "HC": 4,
    "HS": 4,
    "SV": 4,
    "GD": 4,
    "QN": 5,
    "CA": 5,
}


def test_card_codes_parse_and_end_with_a_records_bhxh_code(large: DataSet) -> None:
    codes = {row["bhxh_code"] for row in large["records"]}
    people = {row["person_id"] for row in large["truth"]}
    cards = large["cards"]
    assert len(cards) == len(people), "one card per insured person"
    tails = [row["card_code"][-10:] for row in cards]
    assert len(set(tails)) == len(tails)
    for row in cards:
        code = row["card_code"]
        assert re.fullmatch(r"[A-Z]{2}[1-5]\d{12}", code), code
        assert code[-10:] in codes
        assert int(code[2]) == DEFAULT_LEVEL[code[:2]]
        assert code[3:5] in PROVINCES_63
        assert re.fullmatch(r"\d{5}", row["facility_code"])
        assert row["valid_from"] <= row["valid_to"]
        assert row["five_years_from"] == "" or row["five_years_from"] <= TODAY
        assert row["status"] in ("active", "suspended", "revoked", "expired")
        assert (row["status"] == "expired") == (row["valid_to"] < TODAY)
    groups = Counter(row["card_code"][:2] for row in cards)
    assert {"DN", "HC", "HT", "TE", "HS", "GD"} <= set(groups)


def test_dead_people_have_suspended_cards_or_still_active_ones(large: DataSet) -> None:
    dead = {row["personal_id"] for row in large["registry"] if row["status"] == "dead"}
    code_of = {}
    for record, fact, _ in joined(large):
        if fact["personal_id"] in dead and "DUPLICATE_BHXH" not in errors_of(fact):
            code_of[record["bhxh_code"]] = fact["personal_id"]
    statuses = Counter(row["status"] for row in large["cards"] if row["card_code"][-10:] in code_of)
    assert statuses["active"] > 0 and statuses["suspended"] + statuses["revoked"] > 0


def test_contribution_amounts_match_the_rates(large: DataSet) -> None:
    rows = large["contributions"]
    assert rows
    first = month_index(TODAY) - 6
    for row in rows:
        wage = int(row["wage"])
        assert wage > 0
        assert int(row["bhxh_amount"]) == (wage * 255 + 500) // 1000
        assert int(row["bhyt_amount"]) == (wage * 45 + 500) // 1000
        assert int(row["bhtn_amount"]) == (wage * 20 + 500) // 1000
        assert abs(int(row["bhxh_amount"]) - wage * 0.255) <= 0.5
        assert first <= month_index(row["period"]) < month_index(TODAY)
    wages = sorted(int(row["wage"]) for row in rows)
    assert 5_000_000 <= wages[len(wages) // 2] <= 15_000_000
    assert wages[-1] <= 40_000_000 * 1.12
    keys = [(r["bhxh_code"], r["employer_code"], r["period"]) for r in rows]
    assert len(set(keys)) == len(keys)


def test_participation_periods_are_consistent(large: DataSet) -> None:
    rows = large["participation"]
    employers = {row["employer_code"] for row in large["employers"]}
    codes = {row["bhxh_code"] for row in large["records"]}
    now = month_index(TODAY)
    keys = [(r["bhxh_code"], r["scheme"], r["start_month"]) for r in rows]
    assert len(set(keys)) == len(keys)
    for row in rows:
        assert row["bhxh_code"] in codes
        assert row["scheme"] in ("BHXH", "BHYT", "BHTN")
        assert row["participant_type"] in DEFAULT_LEVEL
        assert month_index(row["start_month"]) <= now
        if row["end_month"]:
            assert row["start_month"] <= row["end_month"] <= TODAY[:7]
        if row["scheme"] != "BHYT":
            assert row["employer_code"] in employers
    types = Counter((r["scheme"], r["participant_type"]) for r in rows)
    assert types[("BHYT", "HT")] and types[("BHTN", "DN")] and types[("BHYT", "TE")]
    assert any(row["end_month"] for row in rows) and any(not row["end_month"] for row in rows)


def test_employers_have_unique_codes_and_about_one_per_25_employees(large: DataSet) -> None:
    rows = large["employers"]
    codes = [row["employer_code"] for row in rows]
    assert len(set(codes)) == len(codes)
    for row in rows:
        assert re.fullmatch(r"T[A-Z]\d{4}[A-Z]", row["employer_code"])
        assert row["enterprise_code"] == "" or re.fullmatch(
            r"\d{10}(-\d{3})?", row["enterprise_code"]
        )
        assert row["province"] in PROVINCES_63
        assert row["employer_type"] in (
            "enterprise",
            "state",
            "household_business",
            "cooperative",
            "other",
        )
        assert row["status"] in ("active", "closed")
        assert int(row["registered_workers"]) >= 0
        assert unicodedata.is_normalized("NFC", row["name"])
    employees = {r["bhxh_code"] for r in large["contributions"]}
    assert 0.5 <= len(rows) / (len(employees) / 25) <= 2
    assert Counter(row["employer_type"] for row in rows).most_common(1)[0][0] == "enterprise"
    assert any(row["name"].startswith("Công ty TNHH") for row in rows)
    assert any("-" in row["enterprise_code"] for row in rows)
    used = {r["employer_code"] for r in large["records"] if r["employer_code"]}
    assert used <= set(codes)


def test_visits_are_paid_by_the_card_benefit_level(large: DataSet) -> None:
    cards = {row["card_code"] for row in large["cards"]}
    rows = large["visits"]
    ids = [row["visit_id"] for row in rows]
    assert len(set(ids)) == len(ids)
    share = {1: 1.0, 2: 1.0, 3: 0.95, 4: 0.80, 5: 1.0}
    for row in rows:
        assert row["card_code"] in cards
        assert re.fullmatch(r"\d{5}", row["facility_code"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", row["admitted_at"])
        assert row["admitted_at"] <= row["discharged_at"] < TODAY
        assert row["admitted_at"] >= f"{DEFAULT_TODAY.year - 1}{TODAY[4:]}"
        assert row["inpatient"] in ("0", "1")
        assert re.fullmatch(r"[A-Z]\d{2}(\.\d{1,2})?", row["icd10"])
        total, paid = int(row["total_cost"]), int(row["insurer_paid"])
        assert paid + int(row["patient_paid"]) == total and 0 <= paid <= total
        level = int(row["card_code"][2])
        assert abs(paid - total * share[level]) <= 1
    per_card = len(rows) / len(cards)
    assert 1.1 <= per_card <= 1.8
    inpatient = sum(row["inpatient"] == "1" for row in rows) / len(rows)
    assert 0.05 <= inpatient <= 0.16
    same_province = sum(r["facility_code"][:2] == r["card_code"][3:5] for r in rows) / len(rows)
    assert same_province > 0.9
