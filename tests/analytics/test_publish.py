"""``nidb publish``: suppressed aggregates, reference data and a DCAT-AP catalogue (both engines)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from nidb.analytics.aggregates import age_band, cardholders, coverage, participants, visits
from nidb.analytics.icd10 import chapter_of
from nidb.analytics.publish import publish
from nidb.cli import app
from tests.analytics.register import AS_OF, load

STATISTICS = {
    "participants_by_province_age.csv": ("participants", ("ref_date", "scheme"), "age_band"),
    "cardholders_by_province_group.csv": ("cardholders", ("ref_date",), "group_code"),
    "visits_by_icd10_chapter.csv": ("visits", ("month",), "icd10_chapter"),
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def published_leaks(
    path: Path, value: str, table_keys: tuple[str, ...], column: str, k: int
) -> list[str]:
    """What a reader of the file alone can learn below k: a small published cell, or a row or
    column whose total minus its published cells is small."""
    tables: dict[tuple[str, ...], dict[tuple[str, str], str]] = defaultdict(dict)
    for row in _read(path):
        key = tuple(row[c] for c in table_keys)
        tables[key][(row["province_code"], row[column])] = row[value]
    leaks = []
    for key, cells in tables.items():
        for cell, shown in cells.items():
            if shown and 0 < int(shown) < k:
                leaks.append(f"{key} {cell} = {shown}")
        lines: dict[tuple[str, str], list[str]] = defaultdict(list)
        for (province, col), shown in cells.items():
            if province != "VN" and col != "total":
                lines[("row", province)].append(shown)
                lines[("col", col)].append(shown)
        for (kind, name), shown_cells in lines.items():
            total = cells.get((name, "total") if kind == "row" else ("VN", name), "")
            if total == "":
                continue
            difference = int(total) - sum(int(s) for s in shown_cells if s)
            if 0 < difference < k:
                leaks.append(f"{key} {kind} {name}: total minus published = {difference}")
    return leaks


def test_published_tables_reveal_no_count_below_k(engine: Engine, tmp_path: Path) -> None:
    load(engine)
    publish(engine, tmp_path, AS_OF, k=10)
    for file, (value, keys, column) in STATISTICS.items():
        assert published_leaks(tmp_path / file, value, keys, column, 10) == [], file
    rows = _read(tmp_path / "visits_by_icd10_chapter.csv")
    hanoi_x = [r for r in rows if r["province_code"] == "01" and r["icd10_chapter"] == "X"]
    assert hanoi_x[0]["visits"] == "45"  # large cells are published as they are
    by_cell = {(r["province_code"], r["icd10_chapter"]): r for r in rows}
    assert by_cell[("79", "XI")]["visits"] == "" and by_cell[("79", "XI")]["suppressed"] == "true"
    # 4 visits hidden alone would be 79's total minus its 15 published: the 15 goes too
    assert by_cell[("79", "IV")]["visits"] == "" and by_cell[("79", "total")]["visits"] == "19"


def test_a_larger_k_hides_more(engine: Engine, tmp_path: Path) -> None:
    load(engine)
    publish(engine, tmp_path, AS_OF, k=20)
    rows = _read(tmp_path / "visits_by_icd10_chapter.csv")
    cell = next(r for r in rows if r["province_code"] == "79" and r["icd10_chapter"] == "IV")
    assert cell["visits"] == "" and cell["suppressed"] == "true"  # 15 visits < 20
    assert (
        published_leaks(
            tmp_path / "visits_by_icd10_chapter.csv", "visits", ("month",), "icd10_chapter", 20
        )
        == []
    )


def test_the_same_store_and_day_give_the_same_bytes(engine: Engine, tmp_path: Path) -> None:
    load(engine)
    publish(engine, tmp_path / "a", AS_OF)
    publish(engine, tmp_path / "b", AS_OF)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "catalog.jsonld" in files and len(files) == 8
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_catalogue_is_dcat_ap_json_ld_describing_every_file(engine: Engine, tmp_path: Path) -> None:
    load(engine)
    publish(engine, tmp_path, AS_OF, base_url="https://data.example.invalid/nidb")
    doc = json.loads((tmp_path / "catalog.jsonld").read_text(encoding="utf-8"))
    assert doc["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert doc["@context"]["dct"] == "http://purl.org/dc/terms/"
    assert doc["@context"]["spdx"] == "http://spdx.org/rdf/terms#"
    assert doc["@type"] == "dcat:Catalog"
    datasets = doc["dcat:dataset"]
    assert len(datasets) == 7
    for d in datasets:
        assert d["@type"] == "dcat:Dataset"
        assert {t["@language"] for t in d["dct:title"]} == {"vi", "en"}
        assert {t["@language"] for t in d["dct:description"]} == {"vi", "en"}
        for key in ("dct:publisher", "dct:issued", "dct:spatial", "dct:license", "dcat:theme"):
            assert d[key], key
        assert d["dct:issued"]["@value"] == "2026-09-20"
        (dist,) = d["dcat:distribution"]
        url = dist["dcat:downloadURL"]["@id"]
        assert url.startswith("https://data.example.invalid/nidb/")
        path = tmp_path / url.rsplit("/", 1)[1]
        assert int(dist["dcat:byteSize"]["@value"]) == path.stat().st_size
        checksum = dist["spdx:checksum"]
        assert checksum["spdx:algorithm"]["@id"] == "spdx:checksumAlgorithm_sha256"
        assert (
            checksum["spdx:checksumValue"]["@value"]
            == hashlib.sha256(path.read_bytes()).hexdigest()
        )
        assert dist["dcat:mediaType"]["@id"].endswith("text/csv")
    temporal = next(d for d in datasets if d["dct:identifier"] == "visits-by-icd10-chapter")
    assert temporal["dct:temporal"]["dcat:startDate"]["@value"] == "2025-10-01"


def test_aggregates_count_the_register(engine: Engine) -> None:
    load(engine)
    people = participants(engine, AS_OF)
    assert people[("BHXH", "01", "35-44")] == 2  # R1 (two periods, counted once) and R2 (1980s)
    assert sum(people.values()) == 3  # R1, R2, R5 have a BHXH period open on the day
    cards = cardholders(engine, AS_OF)
    assert cards[("01", "DN")] == 2 and cards[("01", "HT")] == 1 and cards[("79", "ZZ")] == 1
    cover = coverage(engine, AS_OF)
    assert cover[("01", "insured")] == 1  # C1 (R1's cards); C2 is dead; C3 has no card
    assert cover[("01", "uninsured")] == 1 and ("79", "insured") not in cover
    seen = visits(engine, AS_OF.replace(day=1), AS_OF)
    assert seen[("2026-09", "01", "X")] == 45 and seen[("2026-09", "79", "IV")] == 15
    assert seen[("2026-09", "79", "XI")] == 4


def test_reference_data_lists_the_catalogues(engine: Engine, tmp_path: Path) -> None:
    load(engine)
    publish(engine, tmp_path, AS_OF)
    provinces = _read(tmp_path / "ref_provinces.csv")
    assert len([p for p in provinces if p["list"] == "63"]) == 63
    assert len([p for p in provinces if p["list"] == "34"]) == 34
    assert any(p["code"] == "74" and p["successor_34"] == "79" for p in provinces)
    assert len(_read(tmp_path / "ref_beneficiary_groups.csv")) == 43
    facilities = [f["facility_code"] for f in _read(tmp_path / "ref_facilities.csv")]
    assert facilities == ["01001", "01002", "79001", "79002"]  # "01000": none chosen


def test_age_bands_and_icd_chapters() -> None:
    assert age_band(2021, AS_OF) == "0-5" and age_band(1961, AS_OF) == "65+"
    assert age_band(None, AS_OF) == "unknown"
    assert chapter_of("J18.9") == "X" and chapter_of("E11") == "IV" and chapter_of("S72.0") == "XIX"
    assert chapter_of("T14") == "XIX" and chapter_of("") == "?"


def test_publish_command(engine: Engine, cli: CliRunner, tmp_path: Path) -> None:
    load(engine)
    done = cli.invoke(
        app, ["publish", "--out", str(tmp_path), "--as-of", "2026-09-20", "--min-cell", "5"]
    )
    assert done.exit_code == 0, done.output
    assert "catalog.jsonld" in done.output and (tmp_path / "catalog.jsonld").exists()
    assert cli.invoke(app, ["publish", "--out", str(tmp_path), "--min-cell", "0"]).exit_code == 2


def test_coverage_rate_is_left_out_when_its_counts_are_hidden(
    engine: Engine, tmp_path: Path
) -> None:
    load(engine)
    publish(engine, tmp_path, AS_OF, k=10)
    rows = {r["province_code"]: r for r in _read(tmp_path / "coverage_by_province.csv")}
    assert rows["01"]["insured"] == "" and rows["01"]["coverage_rate"] == ""
    assert rows["01"]["suppressed"] == "true"
    publish(engine, tmp_path / "k1", AS_OF, k=1)  # k = 1 hides nothing
    rows = {r["province_code"]: r for r in _read(tmp_path / "k1" / "coverage_by_province.csv")}
    assert (rows["01"]["insured"], rows["01"]["population"], rows["01"]["coverage_rate"]) == (
        "1",
        "2",
        "0.5000",
    )


def test_parquet_copies_say_what_the_csv_says(engine: Engine, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    load(engine)
    publish(engine, tmp_path, AS_OF, parquet=True)
    table = pq.read_table(tmp_path / "visits_by_icd10_chapter.parquet")
    assert str(table.schema.field("visits").type) == "int64"
    assert str(table.schema.field("suppressed").type) == "bool"
    assert str(table.schema.field("province_code").type) == "string"
    rows = table.to_pylist()
    csv_rows = _read(tmp_path / "visits_by_icd10_chapter.csv")
    assert len(rows) == len(csv_rows)
    for parquet_row, csv_row in zip(rows, csv_rows, strict=True):
        shown = csv_row["visits"]
        assert parquet_row["visits"] == (int(shown) if shown else None)
        assert parquet_row["suppressed"] == (csv_row["suppressed"] == "true")
        assert parquet_row["province_code"] == csv_row["province_code"]  # "01" stays "01"
    doc = json.loads((tmp_path / "catalog.jsonld").read_text(encoding="utf-8"))
    for d in doc["dcat:dataset"]:
        kinds = [x["dcat:mediaType"]["@id"].rsplit("/", 1)[1] for x in d["dcat:distribution"]]
        assert kinds == ["csv", "vnd.apache.parquet"]
        parquet = d["dcat:distribution"][1]
        path = tmp_path / parquet["dcat:downloadURL"]["@id"].rsplit("/", 1)[1]
        assert (
            parquet["spdx:checksum"]["spdx:checksumValue"]["@value"]
            == hashlib.sha256(path.read_bytes()).hexdigest()
        )
    publish(engine, tmp_path / "again", AS_OF, parquet=True)
    assert (tmp_path / "again" / "visits_by_icd10_chapter.parquet").read_bytes() == (
        tmp_path / "visits_by_icd10_chapter.parquet"
    ).read_bytes()
