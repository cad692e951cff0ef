"""`nidb match` and `nidb dedupe` CSV files are safe to open in a spreadsheet.

A record ID copied from an input file must not run there as a formula; numbers (the score)
and Parquet output are left as they are.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq

from nidb.identity.dedupe import dedupe_file
from nidb.identity.match import match_files
from nidb.sim.generate import generate

REGISTRY = (
    "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,"
    "household_id,status,death_date\n"
    "001090012345,Nguyễn Văn An,1990-05-17,M,001,,,alive,\n"
)
RECORDS = (
    "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province,"
    "address,employer_code\n"
    '"=HYPERLINK(""http://x"",""y"")",0123456789,Nguyễn Văn An,1990-05-17,M,001090012345,001,,\n'
    "@R2,0123456789,Nguyen Van An,1990,M,,,,\n"
    "-3,0123456780,Trần Thị Bình,1980,F,,,,\n"
)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def inputs(tmp_path: Path) -> tuple[Path, Path]:
    registry, records = tmp_path / "registry.csv", tmp_path / "records.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    records.write_text(RECORDS, encoding="utf-8")
    return registry, records


def test_matches_csv_record_ids_cannot_run_as_formulas(tmp_path: Path) -> None:
    registry, records = inputs(tmp_path)
    match_files(registry, records, tmp_path / "matches.csv", threads=1)
    rows = read(tmp_path / "matches.csv")
    assert sorted(r["record_id"] for r in rows) == [
        '\'=HYPERLINK("http://x","y")',
        "'@R2",
        "-3",
    ]
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    match_files(registry, records, tmp_path / "matches.parquet", threads=1)
    raw = pq.read_table(tmp_path / "matches.parquet").column("record_id").to_pylist()
    assert '=HYPERLINK("http://x","y")' in raw, "Parquet keeps values as they are"


def test_duplicates_csv_record_ids_cannot_run_as_formulas(tmp_path: Path) -> None:
    generate(tmp_path, 2_000, seed=5)  # dedupe learns from a realistic file
    records = tmp_path / "records.csv"
    with records.open(encoding="utf-8", newline="") as handle:
        first = next(csv.DictReader(handle))
    hostile = ['=HYPERLINK("http://x","y")', "@R2", "-3"]
    with records.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(first))
        writer.writerows({**first, "record_id": record_id} for record_id in hostile)
    dedupe_file(records, tmp_path / "duplicates.csv", threads=1)
    ids = {r["record_id"] for r in read(tmp_path / "duplicates.csv")}
    assert {'\'=HYPERLINK("http://x","y")', "'@R2", "-3"} <= ids
    assert not [i for i in ids if i[:1] in ("=", "+", "@")]
