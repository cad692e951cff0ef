"""The registry's added column ``old_id`` (số CMND): loaded, checked, unique within a file, and
kept by a file that does not carry it."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select

from nidb.ingest.loader import import_file, rejected_path_for
from nidb.store import models

TODAY = date(2026, 11, 23)
CONTRACT = (
    "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,"
    "household_id,status,death_date"
)
HEADER = f"{CONTRACT},old_id"
AN = "001090012345,Nguyễn Văn An,1990-05-17,M,001,,HK1,alive,"
THUY = "079195000001,Trần Thị Thủy,1995,F,079,,HK2,alive,"
HOA = "001301012346,Lê Thị Hòa,2001-03,F,001,,,alive,"


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rejected(path: Path) -> list[dict[str, str]]:
    with rejected_path_for(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def old_ids(engine: Engine) -> dict[str, str | None]:
    citizens = models.Citizen.__table__
    with engine.connect() as conn:
        return dict(conn.execute(select(citizens.c.personal_id, citizens.c.old_id)).all())  # type: ignore[arg-type]


def test_the_old_id_is_loaded_as_nine_digits_and_may_be_empty(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path / "registry.csv", [HEADER, f"{AN},012 345 678", f"{THUY},", f"{HOA},"])
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected) == (3, 0)
    assert old_ids(engine) == {
        "001090012345": "012345678",
        "079195000001": None,
        "001301012346": None,
    }


def test_a_malformed_old_id_quarantines_its_row_with_the_rule_in_both_languages(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "registry.csv", [HEADER, f"{AN},01234567", f"{THUY},12345678X", f"{HOA},"]
    )
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected) == (1, 2)
    assert report.rejected_by_rule == {"OLD_ID_FORMAT": 2}
    bad = rejected(path)
    assert [(r["row"], r["column"], r["value"]) for r in bad] == [
        ("1", "old_id", "01234567"),
        ("2", "old_id", "12345678X"),
    ]
    assert all("CMND" in r["reason"] and "9 digits" in r["reason"] for r in bad)
    assert old_ids(engine) == {"001301012346": None}


def test_an_old_id_repeated_within_a_file_keeps_the_first_row(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "registry.csv",
        [HEADER, f"{AN},012345678", f"{THUY},", f"{HOA},012345678"],
    )
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected) == (2, 1)
    [dup] = rejected(path)
    assert (dup["row"], dup["column"], dup["value"], dup["rule"]) == (
        "3",
        "old_id",
        "012345678",
        "DUPLICATE_VALUE",
    )
    assert "dòng 1" in dup["reason"] and "row 1" in dup["reason"]
    assert old_ids(engine) == {"001090012345": "012345678", "079195000001": None}


def test_a_registry_file_without_the_column_keeps_the_old_ids_held(
    engine: Engine, tmp_path: Path
) -> None:
    first = write(tmp_path / "with.csv", [HEADER, f"{AN},012345678", f"{THUY},"])
    import_file(engine, "registry", first, today=TODAY)
    moved = AN.replace(",HK1,", ",HK9,")
    second = write(tmp_path / "contract.csv", [CONTRACT, moved, THUY])
    report = import_file(engine, "registry", second, today=TODAY)
    assert (report.updated, report.unchanged) == (1, 1)
    assert old_ids(engine) == {"001090012345": "012345678", "079195000001": None}


def test_a_file_with_the_column_corrects_and_clears_old_ids(engine: Engine, tmp_path: Path) -> None:
    first = write(tmp_path / "first.csv", [HEADER, f"{AN},012345678", f"{THUY},111111111"])
    import_file(engine, "registry", first, today=TODAY)
    second = write(tmp_path / "second.csv", [HEADER, f"{AN},012345679", f"{THUY},"])
    report = import_file(engine, "registry", second, today=TODAY)
    assert report.updated == 2
    assert old_ids(engine) == {"001090012345": "012345679", "079195000001": None}
