"""Hostile and malformed input: the same answer on SQLite and PostgreSQL, and nothing leaks.

A file whose header is ambiguous (a column named twice) or whose Parquet types cannot be read
as the layout says is refused whole, naming the column (exit 2). A row with a control character
or a value longer than its column is quarantined with its row and column on every engine. Cells
of the quarantine file never run as spreadsheet formulas.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, select, text

from nidb.ingest import layouts
from nidb.ingest.loader import import_file, rejected_path_for
from nidb.ingest.readers import FileError
from nidb.store import models
from tests.ingest.test_import import (
    GOOD_REGISTRY,
    RECORDS_HEADER,
    REGISTRY_HEADER,
    TODAY,
    count,
    rejected,
    write,
)

BENEFITS_HEADER = "bhxh_code,kind,start_date,end_date,monthly_amount,lump_sum,status,decided_at"


def registry_table(**columns: pa.Array) -> pa.Table:
    """The good registry rows as an all-text Arrow table, with ``columns`` replaced or added."""
    names = REGISTRY_HEADER.split(",")
    rows = [line.split(",") for line in GOOD_REGISTRY]
    data: dict[str, Any] = {
        name: pa.array([r[i] or None for r in rows], pa.string()) for i, name in enumerate(names)
    }
    data.update(columns)
    return pa.table(data)


# -- 7: a column named twice ----------------------------------------------------------------


def test_a_csv_header_naming_a_column_twice_is_refused_naming_it(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "registry.csv",
        [REGISTRY_HEADER + ",full_name", GOOD_REGISTRY[0] + ",Kẻ Mạo Danh"],
    )
    with pytest.raises(FileError, match="full_name") as refused:
        import_file(engine, "registry", path, today=TODAY)
    assert "lặp lại" in refused.value.message_vi and "repeated" in refused.value.message_en
    assert count(engine, models.Citizen) == count(engine, models.ImportBatch) == 0


def test_a_parquet_file_naming_a_column_twice_is_refused_naming_it(
    engine: Engine, tmp_path: Path
) -> None:
    table = registry_table()
    doubled = pa.Table.from_arrays(
        [*table.columns, table.column("personal_id")], names=[*table.column_names, "personal_id"]
    )
    path = tmp_path / "registry.parquet"
    pq.write_table(doubled, path)
    with pytest.raises(FileError, match="repeated in the header: personal_id"):
        import_file(engine, "registry", path, today=TODAY)
    assert count(engine, models.ImportBatch) == 0


def test_empty_header_cells_are_not_taken_for_a_repeated_column(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "registry.csv", [REGISTRY_HEADER + ",,", *(g + ",," for g in GOOD_REGISTRY)]
    )
    assert import_file(engine, "registry", path, today=TODAY).inserted == 4


# -- 8: control characters and over-long values ---------------------------------------------


def test_nul_escapes_and_overlong_values_are_quarantined_alike_on_every_engine(
    engine: Engine, tmp_path: Path
) -> None:
    long_name = "Nguyễn " + "Văn " * 1250 + "An"
    path = write(
        tmp_path / "registry.csv",
        [
            REGISTRY_HEADER,
            GOOD_REGISTRY[0],
            f"079195000001,{long_name},1995,F,079,,HK2,alive,",  # 2: 5,000-character name
            "001301012346,Lê Thị Hòa,2001-03,F,001,Số 1\x00 phố Huế,,alive,",  # 3: NUL
            "038050000777,Phạm Văn Bình,1950,M,038,\x1b[31mđỏ\x1b[0m,,alive,",  # 4: ANSI escape
            '001090012347,"Trần\tVăn Bình",1990,M,001,,,alive,',  # 5: a tab in a name
            f"001090012348,Trần Văn Bình,1990,M,001,,{'H' * 41},alive,",  # 6: household_id > 40
        ],
    )
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected) == (1, 5)
    found = {(r["row"], r["column"], r["rule"]): r for r in rejected(path)}
    assert set(found) == {
        ("2", "full_name", "VALUE_TOO_LONG"),
        ("3", "permanent_address", "CONTROL_CHARACTER"),
        ("4", "permanent_address", "CONTROL_CHARACTER"),
        ("5", "full_name", "CONTROL_CHARACTER"),
        ("6", "household_id", "VALUE_TOO_LONG"),
    }
    assert found[("3", "permanent_address", "CONTROL_CHARACTER")]["value"] == "Số 1\\x00 phố Huế"
    assert "\x1b" not in rejected_path_for(path).read_text(encoding="utf-8")
    assert len(found[("2", "full_name", "VALUE_TOO_LONG")]["value"]) <= 60
    assert all("(" in r["reason"] for r in found.values()), "Vietnamese (English) reasons"
    with engine.connect() as conn:
        stored = conn.execute(select(models.Citizen.personal_id)).scalars().all()
    assert stored == ["001090012345"]


def test_control_characters_in_parquet_cells_are_quarantined_too(
    engine: Engine, tmp_path: Path
) -> None:
    addresses = ["Số 1 Tràng Tiền", "Phố\x00Huế", None, "Dòng 1\nDòng 2"]
    path = tmp_path / "registry.parquet"
    pq.write_table(registry_table(permanent_address=pa.array(addresses, pa.string())), path)
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected) == (2, 2)
    assert {(r["row"], r["rule"]) for r in rejected(path)} == {
        ("2", "CONTROL_CHARACTER"),
        ("4", "CONTROL_CHARACTER"),
    }


def test_a_value_too_long_for_its_column_never_reaches_the_database(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a layout lets through, a value longer than its register column is quarantined
    before staging (SQLite would keep it, PostgreSQL would fail the whole file)."""
    registry = layouts.LAYOUTS["registry"]
    household = registry.targets.index("household_id")

    def careless(cells: dict[str, str | None], today: Any) -> tuple[Any, ...]:
        values = list(registry.convert(cells, today))
        values[household] = "H" * 41
        return tuple(values)

    monkeypatch.setitem(layouts.LAYOUTS, "registry", replace(registry, convert=careless))
    path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, GOOD_REGISTRY[0]])
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected) == (0, 1)
    [row] = rejected(path)
    assert (row["row"], row["column"], row["rule"]) == ("1", "household_id", "VALUE_TOO_LONG")


def test_every_bounded_text_column_refuses_what_its_register_column_cannot_hold(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "records.csv",
        [
            RECORDS_HEADER,
            f"{'R' * 41},0123456789,An,1990,M,,,,",
            f"R2,0123456780,{'Bình ' * 50},1990,M,,,,",
            f"R3,0123456781,Chi,1990,F,,,{'phố ' * 200},",
            "R4,0123456782,Dung,1990,M,,,,",
        ],
    )
    report = import_file(engine, "records", path, today=TODAY)
    assert (report.inserted, report.rejected) == (1, 3)
    assert {(r["row"], r["column"], r["rule"]) for r in rejected(path)} == {
        ("1", "record_id", "VALUE_TOO_LONG"),
        ("2", "full_name", "VALUE_TOO_LONG"),
        ("3", "address", "VALUE_TOO_LONG"),
    }


def test_the_command_quarantines_hostile_rows_and_prints_no_personal_data(
    database_url: str, tmp_path: Path
) -> None:
    secret_name = "Bí Mật " + "Văn " * 1250 + "An"
    secret_address = "Số 9\x00 ngõ Bí Mật"
    path = write(
        tmp_path / "registry.csv",
        [
            REGISTRY_HEADER,
            GOOD_REGISTRY[0],
            f"079195000001,{secret_name},1995,F,079,,HK2,alive,",
            f"001301012346,Lê Thị Hòa,2001-03,F,001,{secret_address},,alive,",
        ],
    )
    env = {**os.environ, "NIDB_DATABASE_URL": database_url, "NIDB_DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "nidb", "import", "--kind", "registry", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "VALUE_TOO_LONG" in run.stdout and "CONTROL_CHARACTER" in run.stdout
    for output in (run.stdout, run.stderr):
        assert "Bí Mật" not in output and "Traceback" not in output and "\x00" not in output


# -- 9: the quarantine file is safe to open in a spreadsheet --------------------------------


def test_quarantine_cells_that_could_run_as_formulas_are_neutralised(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "benefits.csv",
        [
            BENEFITS_HEADER,
            '=HYPERLINK("http://x"),pension,2024-01-01,,1000000,,active,',
            "0123456789,@SUM(A1),2024-01-01,,1000000,,active,",
            "0123456780,pension,2024-01-01,,-5000,,active,",
            "0123456781,+cmd|' /C calc'!A0,2024-01-01,,1000000,,active,",
        ],
    )
    report = import_file(engine, "benefits", path, today=TODAY)
    assert report.rejected == 4
    values = {(r["row"], r["column"]): r["value"] for r in rejected(path)}
    assert values[("1", "bhxh_code")] == '\'=HYPERLINK("http://x")'
    assert values[("2", "kind")] == "'@SUM(A1)"
    assert values[("3", "monthly_amount")] == "-5000", "a negative number stays a number"
    assert values[("4", "kind")] == "'+cmd|' /C calc'!A0"
    with rejected_path_for(path).open(encoding="utf-8", newline="") as handle:
        cells = [cell for line in csv.reader(handle) for cell in line]
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and c != "-5000")]


# -- 10: Parquet columns of the wrong type ----------------------------------------------------


@pytest.mark.parametrize(
    ("column", "array", "found"),
    [
        (
            "personal_id",
            pa.array([1090012345.06, 79195000001.0, 1301012346.0, 38050000777.0]),
            "double",
        ),
        ("gender", pa.array([True, False, False, True]), "bool"),
        ("full_name", pa.array([["An"], ["Thủy"], ["Hòa"], ["Bình"]]), "list<element: string>"),
        ("status", pa.array([{"s": "alive"}] * 4), "struct<s: string>"),
        ("personal_id", pa.array([1090012345, 79195000001, 1301012346, 38050000777]), "int64"),
    ],
    ids=["float-id", "bool-gender", "list-name", "struct-status", "int-id"],
)
def test_a_parquet_column_of_the_wrong_type_is_refused_by_name_before_any_row_loads(
    engine: Engine, tmp_path: Path, column: str, array: pa.Array, found: str
) -> None:
    path = tmp_path / "registry.parquet"
    pq.write_table(registry_table(**{column: array}), path)
    with pytest.raises(FileError) as refused:
        import_file(engine, "registry", path, today=TODAY)
    assert f"column {column} is of type {found}, expected text (string)" in refused.value.message_en
    assert f"cột {column} có kiểu {found}" in refused.value.message_vi
    assert "corrupt" not in str(refused.value)
    assert count(engine, models.Citizen) == count(engine, models.ImportBatch) == 0


def test_a_float_bhxh_code_is_refused_not_read_without_its_dot(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "benefits.parquet"
    pq.write_table(
        pa.table(
            {
                "bhxh_code": pa.array([98000000.06]),
                "kind": ["pension"],
                "start_date": ["2024-01-01"],
                "monthly_amount": pa.array([1_000_000]),
                "status": ["active"],
            }
        ),
        path,
    )
    with pytest.raises(FileError, match="column bhxh_code is of type double"):
        import_file(engine, "benefits", path, today=TODAY)
    assert count(engine, models.Benefit) == 0


def test_typed_parquet_columns_load_where_the_layout_can_read_them(
    engine: Engine, tmp_path: Path
) -> None:
    """Whole numbers, dates, timestamps and 0/1 flags may come typed (as `nidb generate`
    writes them); a column the layout does not use may be of any type."""
    path = tmp_path / "visits.parquet"
    pq.write_table(
        pa.table(
            {
                "visit_id": ["V1"],
                "card_code": ["DN4791234567890"],
                "facility_code": ["79001"],
                "admitted_at": pa.array([pa.scalar(1_700_000_000, pa.timestamp("s")).as_py()]),
                "discharged_at": pa.array([pa.scalar(1_700_086_400, pa.timestamp("s")).as_py()]),
                "inpatient": pa.array([1], pa.int8()),
                "icd10": ["J18.9"],
                "total_cost": pa.array([500_000], pa.int64()),
                "insurer_paid": pa.array([400_000], pa.int32()),
                "patient_paid": pa.array([100_000], pa.uint32()),
                "notes": pa.array([["not", "used"]]),
            }
        ),
        path,
    )
    report = import_file(engine, "visits", path, today=TODAY)
    assert (report.inserted, report.rejected) == (1, 0), rejected(path) if report.rejected else ""
    with engine.connect() as conn:
        visit = conn.execute(
            text("SELECT inpatient, total_cost, patient_paid FROM health_visits")
        ).one()
    assert (bool(visit.inpatient), visit.total_cost, visit.patient_paid) == (True, 500_000, 100_000)
