"""Specification of the synthetic data generator (`nidb generate`): determinism, layouts,
manifest, formats and configuration. The content of each file is specified in the
test_generated_*.py modules beside this one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nidb.sim.generate import TABLES, ErrorRates, InjectedError, InvalidRates, generate
from nidb.sim.generate.config import Format
from tests.sim.helpers import RATES, TODAY, DataSet, joined, read_csv

COLUMNS = {
    "registry": [
        "personal_id",
        "full_name",
        "date_of_birth",
        "gender",
        "birth_province",
        "permanent_address",
        "household_id",
        "status",
        "death_date",
        "old_id",  # an extra column (INTERCHANGE: kept where a table has a place for it)
    ],
    "records": [
        "record_id",
        "bhxh_code",
        "full_name",
        "date_of_birth",
        "gender",
        "personal_id",
        "birth_province",
        "address",
        "employer_code",
    ],
    "employers": [
        "employer_code",
        "enterprise_code",
        "name",
        "province",
        "address",
        "business_line",
        "employer_type",
        "registered_workers",
        "status",
        "phone",
        "email",
    ],
    "participation": [
        "bhxh_code",
        "scheme",
        "employer_code",
        "participant_type",
        "start_month",
        "end_month",
    ],
    "contributions": [
        "bhxh_code",
        "employer_code",
        "period",
        "wage",
        "bhxh_amount",
        "bhyt_amount",
        "bhtn_amount",
    ],
    "cards": ["card_code", "facility_code", "valid_from", "valid_to", "five_years_from", "status"],
    "visits": [
        "visit_id",
        "card_code",
        "facility_code",
        "admitted_at",
        "discharged_at",
        "inpatient",
        "icd10",
        "total_cost",
        "insurer_paid",
        "patient_paid",
    ],
    "benefits": [
        "bhxh_code",
        "kind",
        "start_date",
        "end_date",
        "monthly_amount",
        "lump_sum",
        "status",
        "decided_at",
    ],
    "truth": ["record_id", "person_id", "personal_id", "errors"],
    "frauds": ["rule", "subject_type", "subject_id", "detail"],
}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_files(tmp_path: Path, fmt: Format) -> None:
    generate(tmp_path / "a", 2_000, 5, fmt=fmt)
    generate(tmp_path / "b", 2_000, 5, fmt=fmt)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted([f"{t}.{fmt}" for t in TABLES] + ["manifest.json"])
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", 2_000, 5)
    generate(tmp_path / "b", 2_000, 6)
    for table in ("registry", "records", "visits", "benefits"):
        a = (tmp_path / "a" / f"{table}.csv").read_bytes()
        assert a != (tmp_path / "b" / f"{table}.csv").read_bytes(), table


@pytest.mark.parametrize("table", TABLES)
def test_every_file_has_exactly_the_interchange_columns_in_order(
    small: DataSet, table: str
) -> None:
    with small.summary.path(table).open(encoding="utf-8") as handle:
        header = handle.readline().strip()
    assert [c.strip('"') for c in header.split(",")] == COLUMNS[table]


def test_summary_and_manifest_give_the_row_count_of_every_file(small: DataSet) -> None:
    manifest = json.loads((small.summary.out_dir / "manifest.json").read_text("utf-8"))
    assert manifest["seed"] == 11 and manifest["people"] == 3_000
    assert manifest["today"] == TODAY
    assert manifest["rates"] == RATES.as_dict()
    for table in TABLES:
        assert small.summary.rows[table] == len(small[table]), table
        assert manifest["files"][f"{table}.csv"] == len(small[table]), table
    assert len(small["registry"]) == 3_000


def test_progress_reports_each_stage_then_done(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    generate(tmp_path, 200, 1, progress=lambda *call: calls.append(call))
    assert [done for _, done, _ in calls] == list(range(len(calls)))
    assert calls[-1][0] == "done" and calls[-1][1] == calls[-1][2]


def test_parquet_output_has_the_same_rows_as_csv(tmp_path: Path) -> None:
    generate(tmp_path / "csv", 1_500, 9)
    generate(tmp_path / "parquet", 1_500, 9, fmt="parquet")
    for table in TABLES:
        expected = read_csv(tmp_path / "csv" / f"{table}.csv")
        rows = pq.read_table(tmp_path / "parquet" / f"{table}.parquet").to_pylist()
        as_text = [
            {
                k: "" if v is None else v.isoformat() if isinstance(v, date) else str(v)
                for k, v in row.items()
            }
            for row in rows
        ]
        assert as_text == expected, table


# --- rates configuration ------------------------------------------------------------------


def test_rates_out_of_range_or_unknown_are_refused() -> None:
    with pytest.raises(InvalidRates):
        ErrorRates(name_typo=1.5)
    with pytest.raises(InvalidRates):
        ErrorRates(id_missing=0.6, id_wrong=0.6)
    with pytest.raises(InvalidRates):
        RATES.with_overrides({"name_typos": 0.1})
    assert RATES.with_overrides({"name_typo": 0.5}).name_typo == 0.5


def test_every_error_code_has_a_rate_of_the_same_name() -> None:
    names = set(ErrorRates.names())
    assert {code.value.lower() for code in InjectedError} <= names


def test_zero_rates_give_records_identical_to_the_registry(tmp_path: Path) -> None:
    rates = ErrorRates(**dict.fromkeys(ErrorRates.names(), 0.0))
    summary = generate(tmp_path, 1_500, 3, rates=rates)
    data = DataSet(summary, {t: read_csv(summary.path(t)) for t in TABLES})
    rows = joined(data)
    assert rows
    for record, fact, person in rows:
        assert fact["errors"] == ""
        assert person is not None
        assert record["full_name"] == person["full_name"]
        assert record["date_of_birth"] == person["date_of_birth"]
        assert record["gender"] == person["gender"]
        assert record["personal_id"] == person["personal_id"]
    assert len({r["bhxh_code"] for r in data["records"]}) == len(data["records"])


def test_today_moves_the_whole_data_set(tmp_path: Path) -> None:
    summary = generate(tmp_path, 800, 4, today=date(2025, 1, 15))
    periods = {row["period"] for row in read_csv(summary.path("contributions"))}
    assert max(periods) == "2024-12"
    births = [row["date_of_birth"] for row in read_csv(summary.path("registry"))]
    assert max(births) < "2025-01-15"
