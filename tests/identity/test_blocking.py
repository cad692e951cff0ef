"""Blocking finds a person through a joined or split name word and a swapped day and month."""

from __future__ import annotations

from pathlib import Path

import pytest

from nidb.identity import model
from nidb.identity.features import load_inputs

REGISTRY = "personal_id,full_name,date_of_birth,gender,birth_province,old_id"
RECORDS = "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province"
PERSON = "001190000001,Nguyễn Thị Thu Hà,1990-03-04,F,001,012345678"


def candidates(tmp_path: Path, record: str) -> set[str]:
    """The registry people that some blocking rule pairs with the record ``R1``."""
    (tmp_path / "registry.csv").write_text(f"{REGISTRY}\n{PERSON}\n", encoding="utf-8")
    (tmp_path / "records.csv").write_text(f"{RECORDS}\nR1,0100000001,{record}\n", encoding="utf-8")
    con = model.connect(1, "500MB")
    try:
        load_inputs(con, tmp_path / "registry.csv", tmp_path / "records.csv")
        rules = " OR ".join(f"({rule})" for rule in model.BLOCKING_RULES)
        rows = con.execute(
            f"SELECT r.unique_id FROM records_f l JOIN registry_f r ON {rules}"
        ).fetchall()
    finally:
        con.close()
    return {row[0] for row in rows}


@pytest.mark.parametrize(
    "record",
    [
        # middle and given name joined, day and month swapped, no ID, no birth province
        "Nguyễn Thị Thuhà,1990-04-03,F,,",
        # a word split in two
        "Nguyễn Thị Th u Hà,1990-03-04,F,,",
        # another given name (a typo) and day and month swapped
        "Nguyễn Thị Thu Hòa,03/04/1990,F,,",
        # nothing in common with the name but the old ID number the registry keeps
        "Lê Văn Tám,1970,M,012345678,",
    ],
)
def test_a_person_is_a_candidate_despite_the_typing(tmp_path: Path, record: str) -> None:
    assert candidates(tmp_path, record) == {"001190000001"}


def test_a_stranger_born_the_same_day_is_not_a_candidate(tmp_path: Path) -> None:
    assert candidates(tmp_path, "Trần Văn Bình,1990-03-04,M,,") == set()
