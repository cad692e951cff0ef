"""Specification of the generated population registry (`registry`)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

from nidb.domain.provinces import PROVINCES_63
from nidb.sim.generate import DEFAULT_TODAY
from tests.sim.helpers import TODAY, DataSet, Row, first_day


def test_registry_personal_ids_are_unique_and_twelve_digits(large: DataSet) -> None:
    ids = [row["personal_id"] for row in large["registry"]]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"\d{12}", pid) for pid in ids)


def test_an_old_id_is_kept_for_everyone_born_before_2007_unique_and_nine_digits(
    large: DataSet,
) -> None:
    old_ids = [row["old_id"] for row in large["registry"] if row["old_id"]]
    assert len(set(old_ids)) == len(old_ids)
    for row in large["registry"]:
        held = int(row["date_of_birth"][:4]) < 2007
        assert bool(row["old_id"]) == held, row
        assert row["old_id"] == "" or re.fullmatch(r"\d{9}", row["old_id"])


def test_personal_id_encodes_birth_province_century_sex_and_year(large: DataSet) -> None:
    for row in large["registry"]:
        pid, year = row["personal_id"], int(row["date_of_birth"][:4])
        assert pid[:3] == row["birth_province"]
        assert row["birth_province"][0] == "0" and row["birth_province"][1:] in PROVINCES_63
        century = 0 if year < 2000 else 2
        assert int(pid[3]) == century + (row["gender"] == "F"), row
        assert pid[4:6] == f"{year % 100:02d}"


def test_registry_is_nfc_with_valid_fields(large: DataSet) -> None:
    for row in large["registry"]:
        for column in ("full_name", "permanent_address"):
            assert unicodedata.is_normalized("NFC", row[column])
        assert row["gender"] in ("M", "F")
        assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", row["date_of_birth"])
        assert row["date_of_birth"] < TODAY
        assert row["status"] in ("alive", "dead")
        assert row["household_id"] == "" or re.fullmatch(r"\d{10}", row["household_id"])


def test_partial_dates_of_birth_belong_to_people_born_before_1960(large: DataSet) -> None:
    lengths = Counter(len(row["date_of_birth"]) for row in large["registry"])
    assert lengths[4] > 0 and lengths[7] > 0 and lengths[4] > lengths[7]
    for row in large["registry"]:
        if len(row["date_of_birth"]) < 10:
            assert int(row["date_of_birth"][:4]) < 1960


def test_dead_people_have_a_death_date_between_birth_and_today(large: DataSet) -> None:
    dead = [row for row in large["registry"] if row["status"] == "dead"]
    assert 0.003 <= len(dead) / len(large["registry"]) <= 0.015
    for row in dead:
        assert first_day(row["date_of_birth"]) <= row["death_date"] < TODAY
    assert all(row["death_date"] == "" for row in large["registry"] if row["status"] == "alive")

    def death_rate(rows: list[Row]) -> float:
        return sum(row["status"] == "dead" for row in rows) / len(rows)

    cut = str(DEFAULT_TODAY.year - 60)
    old = [row for row in large["registry"] if row["date_of_birth"][:4] < cut]
    young = [row for row in large["registry"] if row["date_of_birth"][:4] >= cut]
    assert death_rate(old) > 5 * death_rate(young)


def test_family_names_sex_and_ages_look_vietnamese(large: DataSet) -> None:
    people = large["registry"]
    families = Counter(row["full_name"].split()[0] for row in people)
    share = {name: count / len(people) for name, count in families.items()}
    assert 0.33 <= share["Nguyễn"] <= 0.43
    assert 0.08 <= share["Trần"] <= 0.14 and 0.07 <= share["Lê"] <= 0.12
    assert len(families) >= 40
    assert 0.45 <= sum(row["gender"] == "M" for row in people) / len(people) <= 0.55
    years = [int(row["date_of_birth"][:4]) for row in people]
    children = sum(year > DEFAULT_TODAY.year - 15 for year in years) / len(years)
    elderly = sum(year <= DEFAULT_TODAY.year - 60 for year in years) / len(years)
    assert 0.17 <= children <= 0.30 and 0.08 <= elderly <= 0.22
    assert min(years) >= DEFAULT_TODAY.year - 100


def test_middle_names_depend_on_sex(large: DataSet) -> None:
    middles = defaultdict(Counter)
    for row in large["registry"]:
        words = row["full_name"].split()
        if len(words) >= 3:
            middles[row["gender"]][words[1]] += 1
    assert middles["M"]["Văn"] > 10 * middles["F"]["Văn"]
    assert middles["F"]["Thị"] > 10 * middles["M"]["Thị"]
    lengths = Counter(len(row["full_name"].split()) for row in large["registry"])
    assert lengths[4] > 0 and lengths[2] > 0


def test_households_share_an_address_and_children_carry_a_parent_family_name(
    large: DataSet,
) -> None:
    households: dict[str, list[Row]] = defaultdict(list)
    for row in large["registry"]:
        if row["household_id"]:
            households[row["household_id"]].append(row)
    sizes = Counter(len(members) for members in households.values())
    assert max(sizes) <= 6 and sizes[1] > 0 and sizes[4] > 0
    for members in households.values():
        assert len({m["permanent_address"] for m in members}) == 1
    shared = 0
    for members in households.values():
        if len(members) >= 3:
            families = Counter(m["full_name"].split()[0] for m in members)
            shared += families.most_common(1)[0][1] >= 2
    multi = sum(len(m) >= 3 for m in households.values())
    assert shared / multi > 0.9


def test_there_are_twins_and_namesakes(large: DataSet) -> None:
    by_birth: dict[tuple[str, str], list[Row]] = defaultdict(list)
    by_name: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in large["registry"]:
        if row["household_id"] and len(row["date_of_birth"]) == 10:
            by_birth[(row["household_id"], row["date_of_birth"])].append(row)
        by_name[(row["full_name"], row["date_of_birth"][:4])].add(row["personal_id"])
    twins = [group for group in by_birth.values() if len(group) >= 2]
    assert len(twins) >= 20
    for group in twins:
        assert len({m["full_name"] for m in group}) == len(group)
    namesakes = [ids for ids in by_name.values() if len(ids) >= 2]
    assert len(namesakes) >= 50
