"""Specification of the generated insurance records (`records`) and their ground truth."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from nidb.domain.names import ToneStyle, strip_diacritics, to_tone_style
from nidb.domain.provinces import PROVINCES_63
from nidb.sim.generate import ErrorRates, InjectedError, generate
from tests.sim.helpers import (
    RATES,
    DataSet,
    Row,
    assert_rate,
    errors_of,
    first_day,
    joined,
    read_csv,
)


def test_every_records_row_has_exactly_one_truth_row(large: DataSet) -> None:
    records = [row["record_id"] for row in large["records"]]
    assert len(set(records)) == len(records)
    assert all(re.fullmatch(r"R\d{9}", rid) for rid in records)
    assert [row["record_id"] for row in large["truth"]] == records


def test_records_cover_most_people_plus_some_outside_the_registry(large: DataSet) -> None:
    registry = {row["personal_id"] for row in large["registry"]}
    truth = large["truth"]
    covered = {row["personal_id"] for row in truth if row["personal_id"]}
    assert covered <= registry
    assert 0.82 <= len(covered) / len(registry) <= 0.93
    outside = [row for row in truth if not row["personal_id"]]
    assert all("NOT_IN_REGISTRY" in errors_of(row) for row in outside)
    assert all("NOT_IN_REGISTRY" not in errors_of(row) for row in truth if row["personal_id"])
    assert all(re.fullmatch(r"P\d{9}", row["person_id"]) for row in truth)


def test_record_fields_have_the_interchange_formats(large: DataSet) -> None:
    for record, fact, _ in joined(large):
        assert re.fullmatch(r"\d{10}", record["bhxh_code"])
        assert record["bhxh_code"][:2] in PROVINCES_63
        assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?|\d{2}/\d{2}/\d{4}", record["date_of_birth"])
        assert record["gender"] in ("M", "F", "")
        assert re.fullmatch(r"(\d{12}|\d{9})?", record["personal_id"])
        assert (len(record["personal_id"]) == 9) == ("ID_OLD_CMND" in errors_of(fact))
        assert re.fullmatch(r"(0\d{2})?", record["birth_province"])


def test_clean_records_agree_with_the_registry(large: DataSet) -> None:
    clean = [(r, f, p) for r, f, p in joined(large) if not f["errors"]]
    assert len(clean) > len(large["records"]) / 3
    for record, fact, person in clean:
        assert person is not None
        assert record["full_name"] == person["full_name"]
        assert record["date_of_birth"] == person["date_of_birth"]
        assert record["gender"] == person["gender"]
        assert record["personal_id"] == fact["personal_id"]
        assert record["birth_province"] in ("", person["birth_province"])


def _eligible_codes(person: Row, errors: set[str], household_size: Counter[str]) -> set[str]:
    """The error codes that could show on a record of this registry person."""
    name, dob = person["full_name"], person["date_of_birth"]
    has_marks = strip_diacritics(name) != name
    full = len(dob) == 10
    conditions = {
        "NAME_NO_DIACRITICS": has_marks,
        "NAME_NFD": has_marks and "NAME_NO_DIACRITICS" not in errors,
        "NAME_UPPER": True,
        "NAME_TYPO": True,
        "NAME_MIDDLE_MISSING": len(name.split()) >= 3,
        "NAME_LEGACY_TONE": to_tone_style(name, ToneStyle.MODERN) != name
        and not errors & {"NAME_NO_DIACRITICS", "NAME_MIDDLE_MISSING"},
        "DOB_YEAR_ONLY": len(dob) > 4,
        "DOB_FORMAT_DMY": full and "DOB_YEAR_ONLY" not in errors,
        "DOB_DAY_MONTH_SWAPPED": full
        and "DOB_YEAR_ONLY" not in errors
        and int(dob[8:]) <= 12
        and dob[8:] != dob[5:7],
        "GENDER_MISSING": True,
        "GENDER_WRONG": True,
        "ID_MISSING": True,
        "ID_WRONG": True,
        "ID_OLD_CMND": int(dob[:4]) < 2007,
        "ID_OTHER_PERSON": household_size[person["household_id"]] >= 2,
    }
    return {code for code, holds in conditions.items() if holds}


def test_error_codes_appear_at_roughly_their_rates(large: DataSet) -> None:
    hits: Counter[str] = Counter()
    eligible: Counter[str] = Counter()
    household_size = Counter(
        row["household_id"] for row in large["registry"] if row["household_id"]
    )
    rows = joined(large)
    for _, fact, person in rows:
        if person is None:
            continue
        errors = errors_of(fact)
        for code in _eligible_codes(person, errors, household_size):
            eligible[code] += 1
            hits[code] += code in errors
    assert len(eligible) == 15
    for code, count in eligible.items():
        assert_rate(hits[code], count, getattr(RATES, code.lower()), code)
    outside = sum("NOT_IN_REGISTRY" in errors_of(fact) for _, fact, _ in rows)
    assert 0.5 <= outside / len(rows) / RATES.not_in_registry <= 1.6


def test_duplicate_bhxh_records_share_their_person_with_a_record_of_another_code(
    large: DataSet,
) -> None:
    codes_of: dict[str, set[str]] = defaultdict(set)
    for record, fact, _ in joined(large):
        codes_of[fact["person_id"]].add(record["bhxh_code"])
    duplicates = [(r, f) for r, f, _ in joined(large) if "DUPLICATE_BHXH" in errors_of(f)]
    assert duplicates
    for record, fact in duplicates:
        others = codes_of[fact["person_id"]] - {record["bhxh_code"]}
        assert len(others) == 1
    people = {f["person_id"] for _, f, _ in joined(large)}
    share = len(duplicates) / len(people)
    assert 0.4 * RATES.duplicate_bhxh <= share <= 1.5 * RATES.duplicate_bhxh
    assert all(len(codes) <= 2 for codes in codes_of.values())
    two_codes = sum(len(codes) == 2 for codes in codes_of.values())
    assert two_codes == len(duplicates)


def test_records_sharing_a_bhxh_code_are_one_person(large: DataSet) -> None:
    people_of: dict[str, set[str]] = defaultdict(set)
    for record, fact, _ in joined(large):
        people_of[record["bhxh_code"]].add(fact["person_id"])
    assert all(len(people) == 1 for people in people_of.values())
    rows_per_code = Counter(r["bhxh_code"] for r in large["records"])
    shared = sum(count == 2 for count in rows_per_code.values())
    assert 0.3 * RATES.shared_bhxh <= shared / len(people_of) <= 2 * RATES.shared_bhxh


def test_name_errors_change_the_name_the_way_their_code_says(large: DataSet) -> None:
    name_codes = {c.value for c in InjectedError if c.value.startswith("NAME_")}
    seen: Counter[str] = Counter()
    for record, fact, person in joined(large):
        errors = errors_of(fact)
        name = record["full_name"]
        if "NAME_NO_DIACRITICS" in errors:
            assert name.isascii(), name
        if "NAME_NFD" in errors:
            assert not unicodedata.is_normalized("NFC", name), name
        else:
            assert unicodedata.is_normalized("NFC", name), name
        if "NAME_UPPER" in errors:
            assert name == name.upper()
        if person is None:
            continue
        truth = person["full_name"]
        only = errors & name_codes
        if len(only) != 1:
            continue
        (code,) = only
        seen[code] += 1
        if code == "NAME_LEGACY_TONE":
            assert name == to_tone_style(truth, ToneStyle.MODERN) != truth
        elif code == "NAME_MIDDLE_MISSING":
            words = truth.split()
            assert name == f"{words[0]} {words[-1]}"
        elif code == "NAME_NO_DIACRITICS":
            assert name == strip_diacritics(truth)
        elif code == "NAME_UPPER":
            assert name == truth.upper()
        elif code == "NAME_NFD":
            assert name == unicodedata.normalize("NFD", truth)
        elif code == "NAME_TYPO":
            assert _one_edit(name, truth), (name, truth)
    assert set(seen) == name_codes


def _one_edit(typed: str, truth: str) -> bool:
    """One letter substituted, deleted, or two adjacent letters swapped, in one word."""
    words, right = typed.split(" "), truth.split(" ")
    if len(words) != len(right):
        return False
    changed = [(a, b) for a, b in zip(words, right, strict=True) if a != b]
    if len(changed) != 1:
        return False
    a, b = changed[0]
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and (a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
        )
        return len(diffs) == 1 or swapped
    return len(a) == len(b) - 1 and any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


def test_date_sex_and_id_errors_change_the_field_the_way_their_code_says(large: DataSet) -> None:
    registry_ids = {row["personal_id"] for row in large["registry"]}
    household_of = {row["personal_id"]: row["household_id"] for row in large["registry"]}
    for record, fact, person in joined(large):
        errors = errors_of(fact)
        if person is None:
            continue
        dob, typed = person["date_of_birth"], record["date_of_birth"]
        y, m, d = dob[:4], dob[5:7], dob[8:10]
        if "DOB_YEAR_ONLY" in errors:
            assert typed in (y, f"01/01/{y}")
        elif {"DOB_DAY_MONTH_SWAPPED", "DOB_FORMAT_DMY"} <= errors:
            assert typed == f"{m}/{d}/{y}"
        elif "DOB_DAY_MONTH_SWAPPED" in errors:
            assert typed == f"{y}-{d}-{m}" and d != m
        elif "DOB_FORMAT_DMY" in errors:
            assert typed == f"{d}/{m}/{y}"
        if "GENDER_MISSING" in errors:
            assert record["gender"] == ""
        elif "GENDER_WRONG" in errors:
            assert record["gender"] in ("M", "F") and record["gender"] != person["gender"]
        pid, true = record["personal_id"], fact["personal_id"]
        if "ID_MISSING" in errors:
            assert pid == ""
        elif "ID_WRONG" in errors:
            assert pid != true and pid[:6] == true[:6] and pid not in registry_ids
            diffs = [i for i in range(12) if pid[i] != true[i]]
            assert len(diffs) == 1 or (
                len(diffs) == 2
                and diffs[1] == diffs[0] + 1
                and sorted(pid[i] for i in diffs) == sorted(true[i] for i in diffs)
            )
        elif "ID_OLD_CMND" in errors:  # the person's own old number, at most one slip away
            assert re.fullmatch(r"\d{9}", pid)
            kept = person["old_id"]
            diffs = [i for i in range(9) if pid[i] != kept[i]]
            assert len(diffs) <= 1 or (
                len(diffs) == 2
                and diffs[1] == diffs[0] + 1
                and sorted(pid[i] for i in diffs) == sorted(kept[i] for i in diffs)
            )
        elif "ID_OTHER_PERSON" in errors:
            assert pid != true and pid in registry_ids
            assert household_of[pid] == person["household_id"] != ""
        else:
            assert pid == true


def test_swapped_birth_dates_never_land_after_today(tmp_path: Path) -> None:
    # babies born this year before today: many of their day/month swaps fall after today
    today = date(2026, 6, 2)
    generate(
        tmp_path,
        20_000,
        seed=11,
        today=today,
        rates=ErrorRates().with_overrides({"dob_day_month_swapped": 1.0, "dob_format_dmy": 0.0}),
    )
    records = read_csv(tmp_path / "records.csv")
    truth = {row["record_id"]: row for row in read_csv(tmp_path / "truth.csv")}
    swapped = [r for r in records if "DOB_DAY_MONTH_SWAPPED" in errors_of(truth[r["record_id"]])]
    assert len(swapped) > 1_000
    iso = [r["date_of_birth"] for r in records if "/" not in r["date_of_birth"]]
    assert all(first_day(d) <= today.isoformat() for d in iso)
