"""A malformed ID, birth-date or gender cell never stops `nidb match` or `nidb dedupe`.

The record is matched on its other fields, the cell is listed in ``OUT.rejected.csv`` (the
quarantine layout of docs/interchange.md), and a reason code marks the record in the answer.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from nidb.identity.cells import rejected_path_for
from nidb.identity.dedupe import dedupe_file
from nidb.identity.match import match_files
from nidb.identity.reasons import Reason
from nidb.sim.generate import generate


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A generated province whose records file has one 11-digit ID, one 31/02, one gender X.

    Returns the folder and, per damage, the record ID it hit.
    """
    folder = tmp_path_factory.mktemp("damaged")
    generate(folder, 3_000, seed=5)
    rows = read(folder / "records.csv")
    truth = {row["record_id"]: row["personal_id"] for row in read(folder / "truth.csv")}
    with_id = [
        r for r in rows if len(r["personal_id"]) == 12 and r["personal_id"] == truth[r["record_id"]]
    ]
    # a spreadsheet reads 079… as a number and writes 79…: 11 digits
    spreadsheet = [r for r in with_id if r["personal_id"][1] != "0"]
    hit = {"id": spreadsheet[10]["record_id"], "dob": with_id[20]["record_id"]}
    hit["gender"] = with_id[30]["record_id"]
    hit["formula"] = with_id[40]["record_id"]
    for row in rows:
        if row["record_id"] == hit["id"]:
            row["personal_id"] = row["personal_id"][1:]
        elif row["record_id"] == hit["dob"]:
            row["date_of_birth"] = "1990-02-31"
        elif row["record_id"] == hit["gender"]:
            row["gender"] = "X"
        elif row["record_id"] == hit["formula"]:
            row["personal_id"] = "=HYPERLINK(1)"
    write(folder / "records.csv", rows)
    return folder, hit


def test_a_records_file_with_an_11_digit_id_matches_everything_else(
    damaged: tuple[Path, dict[str, str]],
) -> None:
    folder, hit = damaged
    out = folder / "matches.csv"
    summary = match_files(folder / "registry.csv", folder / "records.csv", out, threads=2)
    matches = {row["record_id"]: row for row in read(out)}
    truth = {row["record_id"]: row["personal_id"] for row in read(folder / "truth.csv")}
    assert len(matches) == len(truth) == summary.records
    auto = [r for r in matches.values() if r["decision"] == "auto"]
    assert len(auto) > 0.9 * len(matches)
    assert all(r["personal_id"] == truth[r["record_id"]] for r in auto)
    assert summary.rejected_cells == 4

    damaged_id = matches[hit["id"]]
    assert Reason.ID_MALFORMED in damaged_id["reasons"].split(";")
    assert "ID_MISSING" not in damaged_id["reasons"]
    # the likely intended ID (leading 0 restored) is evidence: it finds the right person
    assert damaged_id["personal_id"] == truth[hit["id"]]
    assert Reason.DOB_MALFORMED in matches[hit["dob"]]["reasons"].split(";")
    assert matches[hit["dob"]]["personal_id"] == truth[hit["dob"]]
    assert Reason.GENDER_MALFORMED in matches[hit["gender"]]["reasons"].split(";")
    assert matches[hit["gender"]]["personal_id"] == truth[hit["gender"]]


def test_the_set_aside_cells_are_listed_in_the_quarantine_layout(
    damaged: tuple[Path, dict[str, str]],
) -> None:
    folder, _ = damaged
    out = folder / "m2.csv"
    match_files(folder / "registry.csv", folder / "records.csv", out, threads=2)
    side = rejected_path_for(out)
    with side.open(encoding="utf-8") as handle:
        assert handle.readline().strip() == "row,column,value,rule,reason"
    rows = read(side)
    by_column = {row["column"]: row for row in rows}
    assert set(by_column) == {"personal_id", "date_of_birth", "gender"}
    assert by_column["date_of_birth"]["value"] == "1990-02-31"
    assert by_column["date_of_birth"]["rule"] == "DATE_IMPOSSIBLE"
    assert by_column["gender"]["rule"] == "GENDER_INVALID"
    ids = [row for row in rows if row["column"] == "personal_id"]
    assert {row["rule"] for row in ids} == {"ID_NUMBER_FORMAT"}
    assert "'=HYPERLINK(1)" in {row["value"] for row in ids}  # neutralised for spreadsheets
    for row in rows:
        assert int(row["row"]) >= 1
        assert "(" in row["reason"]  # Vietnamese, then English in brackets


def test_a_clean_rerun_removes_the_side_file_of_an_earlier_run(tmp_path: Path) -> None:
    generate(tmp_path, 1_000, seed=6)
    out = tmp_path / "m.csv"
    rejected_path_for(out).write_text("stale\n", encoding="utf-8")
    summary = match_files(tmp_path / "registry.csv", tmp_path / "records.csv", out, threads=2)
    assert summary.rejected_cells == 0
    assert not rejected_path_for(out).exists()


def test_a_likely_intended_id_is_never_trusted_when_the_name_disagrees(tmp_path: Path) -> None:
    generate(tmp_path, 1_000, seed=7)
    person = read(tmp_path / "registry.csv")[5]
    with (tmp_path / "records.csv").open("a", encoding="utf-8") as handle:
        # the restored ID names this person, but the name and birth year are someone else's
        handle.write(f"Z1,0199999999,Hoàng Thị Mai,1950-01-01,F,{person['personal_id'][1:]},,,\n")
    out = tmp_path / "m.csv"
    match_files(tmp_path / "registry.csv", tmp_path / "records.csv", out, threads=2)
    row = {r["record_id"]: r for r in read(out)}["Z1"]
    assert row["decision"] != "auto"
    assert "ID_MALFORMED" in row["reasons"].split(";")


@pytest.mark.parametrize("command", ["match", "dedupe"])
def test_the_commands_exit_0_and_name_the_side_file(
    damaged: tuple[Path, dict[str, str]], command: str, tmp_path: Path
) -> None:
    folder, _ = damaged
    out = tmp_path / f"{command}.csv"
    files = ["--records", str(folder / "records.csv"), "--out", str(out)]
    if command == "match":
        files += ["--registry", str(folder / "registry.csv")]
    run = subprocess.run(
        [sys.executable, "-m", "nidb", command, *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert str(rejected_path_for(out)) in run.stderr.replace("\n", "")
    assert len(read(rejected_path_for(out))) == 4


def test_dedupe_keeps_every_record_of_a_file_with_malformed_cells(
    damaged: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    folder, hit = damaged
    out = tmp_path / "d.csv"
    summary = dedupe_file(folder / "records.csv", out, threads=2)
    rows = {row["record_id"]: row for row in read(out)}
    assert len(rows) == summary.records == len(read(folder / "records.csv"))
    assert set(hit.values()) <= set(rows)
    assert summary.rejected_cells == 4
