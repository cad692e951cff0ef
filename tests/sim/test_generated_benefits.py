"""Specification of the generated benefits (pensions, survivors' allowances, one-time payments,
sickness, maternity) and of the pensions paid after death that the generator injects."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from nidb.domain.catalogues import base_salary
from nidb.sim.generate import TABLES, ErrorRates, generate
from tests.sim.helpers import TODAY, DataSet, Row, errors_of, joined, read_csv

KINDS = {"pension", "survivor", "one_time", "sickness", "maternity"}
BASE = base_salary(date.fromisoformat(TODAY))
AFTER_DEATH = "BENEFIT_AFTER_DEATH"


def holders(data: DataSet) -> dict[str, Row]:
    """The registry person behind each BHXH code of the records (when in the registry)."""
    registry = {row["personal_id"]: row for row in data["registry"]}
    return {
        record["bhxh_code"]: registry[fact["personal_id"]]
        for record, fact, _ in joined(data)
        if fact["personal_id"] in registry
    }


def flagged_codes(data: DataSet) -> set[str]:
    """BHXH codes whose records carry the injected BENEFIT_AFTER_DEATH error."""
    return {
        record["bhxh_code"] for record, fact, _ in joined(data) if AFTER_DEATH in errors_of(fact)
    }


def generated(directory: Path, people: int, seed: int, rate: float) -> DataSet:
    summary = generate(directory, people, seed, rates=ErrorRates(benefit_after_death=rate))
    return DataSet(summary, {name: read_csv(summary.path(name)) for name in TABLES})


def test_every_kind_is_generated_with_plausible_amounts_and_dates(large: DataSet) -> None:
    rows = large["benefits"]
    kinds = Counter(row["kind"] for row in rows)
    assert set(kinds) == KINDS
    assert kinds["pension"] > kinds["sickness"] > kinds["maternity"] > 0
    assert kinds["survivor"] > 0 and kinds["one_time"] > 0
    codes = {row["bhxh_code"] for row in large["records"]}
    for row in rows:
        assert row["bhxh_code"] in codes
        assert row["status"] in ("active", "stopped", "ended")
        assert not row["end_date"] or row["end_date"] >= row["start_date"]
        assert (row["status"] == "ended") == (
            bool(row["end_date"]) and row["end_date"] < TODAY and row["status"] != "stopped"
        )
        assert not row["decided_at"] or row["decided_at"] <= TODAY
        monthly, lump = row["monthly_amount"], row["lump_sum"]
        assert all(int(v) > 0 for v in (monthly, lump) if v)
        if row["kind"] in ("pension", "survivor"):
            assert monthly and not lump
        if row["kind"] in ("one_time", "sickness"):
            assert lump and not monthly
            assert row["status"] == "ended" or row["kind"] == "sickness"
        if row["kind"] == "maternity":
            assert monthly and int(lump) in (2 * 1_800_000, 2 * 2_340_000)
    keys = [(row["bhxh_code"], row["kind"], row["start_date"]) for row in rows]
    assert len(set(keys)) == len(keys), "the record key is unique"
    assert keys == sorted(keys)


def test_pensions_go_to_pensioners_between_the_floor_and_75_percent(large: DataSet) -> None:
    pensioners = {row["card_code"][-10:] for row in large["cards"] if row["card_code"][:2] == "HT"}
    pensions = [row for row in large["benefits"] if row["kind"] == "pension"]
    assert sorted(row["bhxh_code"] for row in pensions) == sorted(pensioners)
    amounts = [int(row["monthly_amount"]) for row in pensions]
    assert min(amounts) >= BASE
    assert max(amounts) <= 0.75 * 40_000_000
    assert 3_000_000 <= statistics.median(amounts) <= 8_000_000
    assert all(row["start_date"].endswith("-01") for row in pensions)


def test_survivors_sickness_and_maternity_fit_their_holders(large: DataSet) -> None:
    people = holders(large)
    today = date.fromisoformat(TODAY)
    for row in large["benefits"]:
        person = people.get(row["bhxh_code"])
        start = date.fromisoformat(row["start_date"])
        if row["kind"] == "survivor":
            assert int(row["monthly_amount"]) in (round(BASE * 0.5), round(BASE * 0.7))
            assert start.day == 1
            if person is not None:  # or someone missing from the registry extract
                born = date.fromisoformat((person["date_of_birth"] + "-01-01")[:10])
                assert born <= start
                assert not row["end_date"] or row["end_date"] < f"{born.year + 18}-12-31"
        if row["kind"] == "sickness":
            assert date.fromisoformat(row["end_date"]) - start < timedelta(days=30)
            assert start >= today - timedelta(days=366)
        if row["kind"] == "maternity":
            assert date.fromisoformat(row["end_date"]) - start == timedelta(days=181)
            assert person is None or person["gender"] == "F"


def test_no_benefit_runs_after_its_holders_death_except_the_injected_ones(large: DataSet) -> None:
    people = holders(large)
    flagged = flagged_codes(large)
    paid_after_death = set()
    stopped = 0
    for row in large["benefits"]:
        person = people.get(row["bhxh_code"])
        if person is None or person["status"] != "dead":
            assert row["status"] != "stopped"
            continue
        death = person["death_date"]
        assert row["start_date"] <= death, "nothing starts after the holder's death"
        if row["status"] == "active":
            paid_after_death.add(row["bhxh_code"])
            assert row["kind"] in ("pension", "survivor")
        else:
            assert row["end_date"] <= death
            stopped += row["status"] == "stopped"
            assert row["status"] != "stopped" or row["end_date"] == death
    assert stopped > 0
    assert paid_after_death == flagged


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_the_after_death_rate_decides_how_many_dead_holders_are_still_paid(
    tmp_path: Path, rate: float
) -> None:
    data = generated(tmp_path, 8_000, 7, rate)
    people = holders(data)
    dead = [
        row
        for row in data["benefits"]
        if row["bhxh_code"] in people
        and people[row["bhxh_code"]]["status"] == "dead"
        and row["kind"] in ("pension", "survivor")
    ]
    running = [row for row in dead if row["status"] != "ended"]
    assert running
    active = {row["bhxh_code"] for row in running if row["status"] == "active"}
    if rate == 0.0:
        assert not active and not flagged_codes(data)
        assert all(row["status"] == "stopped" for row in running)
    else:
        assert active == {row["bhxh_code"] for row in running}
        assert flagged_codes(data) == active


def test_the_after_death_error_changes_only_benefits_and_truth(tmp_path: Path) -> None:
    clean = generate(tmp_path / "clean", 3_000, 5, rates=ErrorRates(benefit_after_death=0.0))
    dirty = generate(tmp_path / "dirty", 3_000, 5, rates=ErrorRates(benefit_after_death=1.0))
    for table in TABLES:
        same = clean.path(table).read_bytes() == dirty.path(table).read_bytes()
        assert same == (table not in ("benefits", "truth", "frauds")), table
