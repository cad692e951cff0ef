"""`nidb match`: links records to the registry, precision first, with explained reasons."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from nidb.domain.dates import parse_birth_date
from nidb.domain.gender import parse_gender
from nidb.domain.names import name_forms, strip_diacritics
from nidb.identity.features import MatchInputError
from nidb.identity.match import match_files
from nidb.identity.reasons import IdentityView, explain
from nidb.sim.generate import generate

REGISTRY = (
    "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,"
    "household_id,status,death_date"
)
RECORDS = (
    "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province,"
    "address,employer_code"
)
ID_REASONS = {
    "ID_MISSING",
    "ID_OLD_CMND",
    "ID_NOT_FOUND",
    "ID_MISMATCH",
    "ID_CHECK_FAILED",
    "PERSON_DEAD",
}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    folder = tmp_path_factory.mktemp("province")
    generate(folder, 6_000, seed=3)
    out = folder / "matches.csv"
    match_files(folder / "registry.csv", folder / "records.csv", out, threads=2)
    return folder, read(out)


def test_every_record_gets_exactly_one_row_in_the_contract_layout(
    province: tuple[Path, list[dict[str, str]]],
) -> None:
    folder, matches = province
    with (folder / "matches.csv").open(encoding="utf-8") as handle:
        assert handle.readline().strip() == "record_id,personal_id,score,decision,reasons"
    records = [row["record_id"] for row in read(folder / "records.csv")]
    assert sorted(row["record_id"] for row in matches) == sorted(records)
    for row in matches:
        assert row["decision"] in ("auto", "review", "none")
        assert 0.0 <= float(row["score"]) <= 1.0
        assert (row["personal_id"] == "") == (row["decision"] == "none")


def test_automatic_links_are_right_and_few_records_need_a_person(
    province: tuple[Path, list[dict[str, str]]],
) -> None:
    folder, matches = province
    truth = {row["record_id"]: row["personal_id"] for row in read(folder / "truth.csv")}
    auto = [row for row in matches if row["decision"] == "auto"]
    wrong = [row for row in auto if row["personal_id"] != truth[row["record_id"]]]
    assert len(auto) > 0.9 * len(matches)
    assert len(wrong) <= len(auto) / 10_000, wrong[:5]
    review = sum(row["decision"] == "review" for row in matches)
    assert review <= 0.03 * len(matches)
    missed = [r for r in matches if r["decision"] == "none" and truth[r["record_id"]]]
    assert len(missed) <= 0.01 * len(matches)


def test_reasons_in_sql_agree_with_the_python_rules(
    province: tuple[Path, list[dict[str, str]]],
) -> None:
    folder, matches = province
    records = {row["record_id"]: row for row in read(folder / "records.csv")}
    registry = {row["personal_id"]: row for row in read(folder / "registry.csv")}

    def view(row: dict[str, str]) -> IdentityView:
        return IdentityView(
            name=name_forms(row["full_name"]),
            birth_date=parse_birth_date(row["date_of_birth"]),
            gender=parse_gender(row["gender"] or None),
            birth_province=row.get("birth_province") or None,
        )

    linked = [row for row in matches if row["decision"] != "none"]
    assert len(linked) > 1000
    for row in linked:
        expected = {
            str(r)
            for r in explain(view(records[row["record_id"]]), view(registry[row["personal_id"]]))
        }
        found = set(filter(None, row["reasons"].split(";"))) - ID_REASONS
        assert found == expected, (row, expected)


def write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def small_registry(path: Path) -> Path:
    """Twins (same family and middle name, same birth date, same household) and strangers."""
    lines = [
        "001090000101,Nguyễn Văn Minh,1990-03-04,M,001,Số 5 ngõ 12 Kim Mã Ba Đình Hà Nội,H1,alive,",
        "001090000102,Nguyễn Văn Mạnh,1990-03-04,M,001,Số 5 ngõ 12 Kim Mã Ba Đình Hà Nội,H1,alive,",
        "001185000103,Trần Thị Lan,1985-07-20,F,001,Số 9 Láng Hạ Đống Đa Hà Nội,H2,alive,",
        "079070000104,Lê Văn Tám,1970,M,079,Số 1 Lê Lợi Quận 1 TP Hồ Chí Minh,H3,dead,2024-01-02",
    ]
    # a crowd of unrelated people so that the model has data to learn from
    for i in range(400):
        female = i % 2
        given = ("An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Nam")[i % 8]
        family = ("Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ")[i % 6]
        lines.append(
            f"0{'01' if i % 2 else '79'}{female}{60 + i % 40}{i:06d},{family} "
            f"{'Thị' if female else 'Văn'} {given},19{60 + i % 40}-0{1 + i % 9}-1{i % 9},"
            f"{'F' if female else 'M'},0{'01' if i % 2 else '79'},,H{100 + i},alive,"
        )
    return write(path, REGISTRY, lines)


def crowd_records() -> list[str]:
    lines = []
    for i in range(400):
        female = i % 2
        given = ("An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Nam")[i % 8]
        family = ("Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ")[i % 6]
        pid = f"0{'01' if i % 2 else '79'}{female}{60 + i % 40}{i:06d}"
        lines.append(
            f"C{i:05d},{5000000000 + i},{family} {'Thị' if female else 'Văn'} {given},"
            f"19{60 + i % 40}-0{1 + i % 9}-1{i % 9},{'F' if female else 'M'},"
            f"{pid if i % 5 else ''},,,"
        )
    return lines


def test_a_twin_without_an_id_is_never_linked_automatically_to_the_other_twin(
    tmp_path: Path,
) -> None:
    registry = small_registry(tmp_path / "registry.csv")
    records = write(
        tmp_path / "records.csv",
        RECORDS,
        [
            *crowd_records(),
            "T1,0100000001,NGUYEN VAN MANH,04/03/1990,M,,001,,",
        ],
    )
    out = tmp_path / "matches.csv"
    match_files(registry, records, out, threads=1)
    row = next(r for r in read(out) if r["record_id"] == "T1")
    assert row["personal_id"] == "001090000102"
    assert "NAME_DIACRITICS" in row["reasons"] and "ID_MISSING" in row["reasons"]


def test_an_id_belonging_to_someone_else_goes_to_a_person_with_its_reason(tmp_path: Path) -> None:
    generate(tmp_path, 6_000, seed=5)
    registry = read(tmp_path / "registry.csv")
    alive = [r for r in registry if r["status"] == "alive" and len(r["date_of_birth"]) == 10]
    dead = next(r for r in registry if r["status"] == "dead")
    person, neighbour = alive[10], alive[11]
    with (tmp_path / "records.csv").open("a", encoding="utf-8") as handle:
        # a record with one person's name, birth date and sex, but another person's ID
        handle.write(
            f"X1,0100000002,{person['full_name']},{person['date_of_birth']},"
            f"{person['gender']},{neighbour['personal_id']},{person['birth_province']},,\n"
        )
        # a dead person's record typed without diacritics
        plain = strip_diacritics(dead["full_name"])
        handle.write(
            f"D1,0100000003,{plain},{dead['date_of_birth']},{dead['gender']},"
            f"{dead['personal_id']},,,\n"
        )
    out = tmp_path / "matches.csv"
    match_files(tmp_path / "registry.csv", tmp_path / "records.csv", out, threads=2)
    rows = {r["record_id"]: r for r in read(out)}
    assert rows["X1"]["decision"] == "review"
    assert rows["X1"]["personal_id"] == person["personal_id"]
    assert "ID_MISMATCH" in rows["X1"]["reasons"].split(";")
    assert rows["D1"]["personal_id"] == dead["personal_id"]
    assert "PERSON_DEAD" in rows["D1"]["reasons"].split(";")


@pytest.mark.parametrize(
    ("records_lines", "expected"),
    [
        (
            ["R1,0100000001,Nguyễn V4n Minh,1990,M,,,,"],
            ["row) 1", "full_name", "NAME_INVALID_CHARS"],
        ),
        (
            ["R1,0100000001,A,1990,M,,,,", "R1,0100000002,B,1991,F,,,,"],
            ["record_id", "DUPLICATE_KEY"],
        ),
    ],
    ids=["digit-in-name", "duplicate-record"],
)
def test_bad_records_are_refused_naming_the_row_column_and_rule(
    tmp_path: Path, records_lines: list[str], expected: list[str]
) -> None:
    registry = small_registry(tmp_path / "registry.csv")
    records = write(tmp_path / "records.csv", RECORDS, records_lines)
    with pytest.raises(MatchInputError) as caught:
        match_files(registry, records, tmp_path / "out.csv")
    message = str(caught.value)
    assert str(records) in message
    for part in expected:
        assert part in message
    assert not (tmp_path / "out.csv").exists()


def test_the_command_exits_2_naming_a_missing_column(tmp_path: Path) -> None:
    registry = small_registry(tmp_path / "registry.csv")
    records = write(tmp_path / "records.csv", "record_id,full_name,date_of_birth", ["R1,A,1990"])
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "nidb",
            "match",
            "--registry",
            str(registry),
            "--records",
            str(records),
            "--out",
            str(tmp_path / "m.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "bhxh_code" in run.stderr and "records.csv" in run.stderr


def test_a_bad_row_deep_in_a_large_file_is_named_by_its_place_in_the_file(tmp_path: Path) -> None:
    registry = small_registry(tmp_path / "registry.csv")
    lines = [f"R{i:06d},{1000000000 + i},Nguyễn Văn An,1990-01-01,M,,,," for i in range(1, 30_001)]
    lines[24_999] = "R025000,1000025000,Nguyễn Văn 4n,1990-01-01,M,,,,"
    records = write(tmp_path / "records.csv", RECORDS, lines)
    with pytest.raises(MatchInputError) as caught:
        match_files(registry, records, tmp_path / "out.csv", threads=2)
    assert "row) 25000," in str(caught.value) and "Văn 4n" in str(caught.value)


def test_a_record_with_only_its_old_id_is_linked_by_it(
    province: tuple[Path, list[dict[str, str]]],
) -> None:
    folder, matches = province
    records = {row["record_id"]: row for row in read(folder / "records.csv")}
    truth = {row["record_id"]: row["personal_id"] for row in read(folder / "truth.csv")}
    old_ids = {row["old_id"] for row in read(folder / "registry.csv") if row["old_id"]}
    carried = [
        row
        for row in matches
        if len(records[row["record_id"]]["personal_id"]) == 9 and truth[row["record_id"]]
    ]
    known = [row for row in carried if records[row["record_id"]]["personal_id"] in old_ids]
    assert len(carried) > 50 and len(known) > 0.8 * len(carried)
    auto = [row for row in known if row["decision"] == "auto"]
    assert all(row["personal_id"] == truth[row["record_id"]] for row in auto)
    assert len(auto) >= 0.98 * len(known)
    assert all("ID_OLD_CMND" in row["reasons"].split(";") for row in carried)


def test_an_old_id_the_registry_gives_to_somebody_else_is_never_linked_automatically(
    province: tuple[Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    folder, matches = province
    registry = read(folder / "registry.csv")
    records = read(folder / "records.csv")
    decided = {row["record_id"]: row for row in matches}
    holders = [row for row in registry if row["old_id"]]
    # records linked automatically by their 12-digit ID now carry a stranger's old ID instead
    chosen = [
        row
        for row in records
        if len(row["personal_id"]) == 12 and decided[row["record_id"]]["decision"] == "auto"
    ][:20]
    stranger = {}
    for k, row in enumerate(chosen):
        other = holders[(7 * k + 11) % len(holders)]
        if other["personal_id"] == decided[row["record_id"]]["personal_id"]:
            other = holders[(7 * k + 12) % len(holders)]
        row["personal_id"] = other["old_id"]
        stranger[row["record_id"]] = other["personal_id"]
    with (tmp_path / "records.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    out = tmp_path / "matches.csv"
    match_files(folder / "registry.csv", tmp_path / "records.csv", out, threads=2)
    answer = {row["record_id"]: row for row in read(out)}
    assert len(stranger) == 20
    for record_id in stranger:
        assert answer[record_id]["decision"] != "auto", answer[record_id]
