"""Import: good rows load, bad rows are explained, batches are all-or-nothing and idempotent."""

from __future__ import annotations

import csv
import unicodedata
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select, text

from nidb.ingest.loader import import_file, rejected_path_for
from nidb.ingest.readers import FileError
from nidb.store import models

TODAY = date(2026, 11, 23)
REGISTRY_HEADER = (
    "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,"
    "household_id,status,death_date"
)
RECORDS_HEADER = "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province,address,employer_code"


def write(path: Path, lines: list[str] | bytes) -> Path:
    data = lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(data)
    return path


def rejected(path: Path) -> list[dict[str, str]]:
    with rejected_path_for(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def count(engine: Engine, model: type[models.Base]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


GOOD_REGISTRY = [
    "001090012345,Nguyễn Văn An,1990-05-17,M,001,Số 1 Tràng Tiền Hoàn Kiếm Hà Nội,HK1,alive,",
    "079195000001,Trần Thị Thủy,1995,F,079,,HK2,alive,",
    "001301012346,Lê Thị Hòa,2001-03,F,001,,,alive,",
    "038050000777,Phạm Văn Bình,1950-01-01,M,038,,,dead,2024-02-29",
]


def test_valid_registry_rows_load_with_partial_dates_kept(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, *GOOD_REGISTRY])
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected, report.rows_read) == (4, 0, 4)
    assert not rejected_path_for(path).exists()
    with engine.connect() as conn:
        rows = {r.personal_id: r for r in conn.execute(select(models.Citizen.__table__))}
    assert rows["079195000001"].date_of_birth == "1995"
    assert rows["079195000001"].dob_precision == "year"
    assert rows["001301012346"].date_of_birth == "2001-03"
    assert rows["038050000777"].death_date == date(2024, 2, 29)
    assert rows["001090012345"].name_base == "nguyen van an"


def test_every_broken_row_is_explained_and_good_rows_still_load(
    engine: Engine, tmp_path: Path
) -> None:
    lines = (
        REGISTRY_HEADER.encode()
        + b"\n"
        + GOOD_REGISTRY[0].encode()
        + b"\n"
        + b"00109001234,Ng\xc3\xb4 An,1990-01-01,M,001,,,alive,\n"  # 2: 11-digit ID
        + b"001090012399,Do Van C,1990-02-30,M,001,,,alive,\n"  # 3: impossible date
        + b"001090012398,Do Van D,1990-01-01,M,001\n"  # 4: column count
        + b"001090012397,Ng\xff Van E,1990-01-01,M,001,,,alive,\n"  # 5: invalid UTF-8
        + b"001190012396,Do Van F,1990-01-01,M,001,,,alive,\n"  # 6: female digit, M
        + b"001090012395,Do Van G,2090-01-01,M,001,,,alive,\n"  # 7: future birth
        + b"001090012394,Do Van H,1990-01-01,M,001,,,dead,\n"  # 8: dead, no date
        + GOOD_REGISTRY[1].encode()
        + b"\n"  # 9: fine
    )
    path = write(tmp_path / "registry.csv", lines)
    report = import_file(engine, "registry", path, today=TODAY)
    assert report.inserted == 2
    assert report.rejected == 7
    assert count(engine, models.Citizen) == 2
    found = {(r["row"], r["column"], r["rule"]) for r in rejected(path)}
    assert found == {
        ("2", "personal_id", "PERSONAL_ID_FORMAT"),
        ("3", "date_of_birth", "DATE_IMPOSSIBLE"),
        ("4", "*", "ROW_COLUMN_COUNT"),
        ("5", "full_name", "ENCODING_INVALID"),
        ("6", "personal_id", "PERSONAL_ID_INCONSISTENT"),
        ("7", "date_of_birth", "DATE_FUTURE"),
        ("8", "death_date", "DEATH_DATE_MISSING"),
    }
    bad_bytes = next(r for r in rejected(path) if r["rule"] == "ENCODING_INVALID")
    assert bad_bytes["value"] == "Ng\\xff Van E"
    assert all(r["reason"] for r in rejected(path))


def test_a_row_with_several_faults_lists_each_of_them(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, "12,,1990-13-01,X,001,,,zombie,"])
    import_file(engine, "registry", path, today=TODAY)
    columns = {r["column"] for r in rejected(path)}
    assert {"personal_id", "full_name", "date_of_birth", "gender", "status"} <= columns


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (
            b"personal_id,full_name,gender,birth_province,status\n001090012345,A,M,001,alive\n",
            "date_of_birth",
        ),
    ],
    ids=["empty", "missing-column"],
)
def test_unusable_files_are_refused_whole_with_the_reason(
    engine: Engine, tmp_path: Path, content: bytes, message: str
) -> None:
    path = write(tmp_path / "registry.csv", content)
    with pytest.raises(FileError, match=message):
        import_file(engine, "registry", path, today=TODAY)
    assert count(engine, models.ImportBatch) == 0


def test_reimporting_the_same_file_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, *GOOD_REGISTRY])
    first = import_file(engine, "registry", path, today=TODAY)
    again = import_file(engine, "registry", path, today=TODAY)
    assert again.skipped and again.batch_id == first.batch_id
    forced = import_file(engine, "registry", path, today=TODAY, force=True)
    assert (forced.inserted, forced.updated, forced.unchanged) == (0, 0, 4)
    assert count(engine, models.Citizen) == 4
    with engine.connect() as conn:
        batches = conn.execute(select(models.Citizen.batch_id).distinct()).scalars().all()
    assert batches == [first.batch_id], "unchanged rows keep the batch that last changed them"


def test_a_changed_record_is_updated_in_place_and_must_be_verified_again(
    engine: Engine, tmp_path: Path
) -> None:
    first = write(
        tmp_path / "records-1.csv",
        [
            RECORDS_HEADER,
            "R1,0123456789,Nguyen Van An,17/05/1990,M,001090012345,001,,TA0001A",
            "R2,0123456780,Trần Thị Bình,1980,F,123456789,,,",
        ],
    )
    import_file(engine, "records", first, today=TODAY)
    with engine.begin() as conn:
        conn.execute(text("UPDATE persons SET verification_status = 'verified'"))
    second = write(
        tmp_path / "records-2.csv",
        [
            RECORDS_HEADER,
            "R1,0123456789,Nguyễn Văn An,17/05/1990,M,001090012345,001,,TA0001A",
            "R2,0123456780,Trần Thị Bình,1980,F,123456789,,,",
        ],
    )
    report = import_file(engine, "records", second, today=TODAY)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    with engine.connect() as conn:
        status = dict(
            conn.execute(text("SELECT record_id, verification_status FROM persons")).all()
        )
    assert status == {"R1": "unverified", "R2": "verified"}


def test_names_in_any_unicode_form_or_tone_style_are_stored_the_same(
    engine: Engine, tmp_path: Path
) -> None:
    nfd = unicodedata.normalize("NFD", "Lê Thị Hòa")
    path = write(
        tmp_path / "records.csv",
        [
            RECORDS_HEADER,
            f"R1,0123456789,{nfd},1990,F,,,,",
            "R2,0123456780,LÊ THỊ HOÀ,1990,F,,,,",
            "R3,0123456781,Lê   Thị Hoà,1990,F,,,,",
        ],
    )
    import_file(engine, "records", path, today=TODAY)
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT full_name FROM persons")).scalars())
    assert names == {"Lê Thị Hòa"}


def test_records_keep_wrong_and_old_ids_for_verification_to_explain(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "records.csv",
        [
            RECORDS_HEADER,
            "R1,0123456789,An,1990,M,001090012345,,,",  # well-formed personal ID
            "R2,0123456780,Binh,1990,M,999090012345,,,",  # 12 digits, no such province
            "R3,0123456781,Chi,1960,F,023456789,,,",  # old 9-digit CMND
            "R4,0123456782,Dung,1990,M,,,,",  # none
            "R5,0123456783,Em,1990,M,12345,,,",  # neither: rejected
        ],
    )
    report = import_file(engine, "records", path, today=TODAY)
    assert (report.inserted, report.rejected) == (4, 1)
    with engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT record_id, declared_id_kind FROM persons")).all())
    assert kinds == {"R1": "cccd", "R2": "cccd_invalid", "R3": "cmnd", "R4": None}
    assert rejected(path)[0]["rule"] == "ID_NUMBER_FORMAT"


def test_declared_ids_open_one_identity_link_each(engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path / "records.csv",
        [
            RECORDS_HEADER,
            "R1,0123456789,An,1990,M,001090012345,,,",
            "R2,0123456789,An,1990,M,001090012345,,,",  # same person's second record
            "R3,0123456780,Binh,1960,M,023456789,,,",  # CMND: no link
        ],
    )
    import_file(engine, "records", path, today=TODAY)
    import_file(engine, "records", path, today=TODAY, force=True)
    with engine.connect() as conn:
        links = conn.execute(
            text("SELECT bhxh_code, personal_id, source, valid_to FROM identity_links")
        ).all()
    assert [tuple(link) for link in links] == [("0123456789", "001090012345", "declared", None)]


def test_a_key_repeated_within_a_file_keeps_the_first_row(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, *GOOD_REGISTRY, GOOD_REGISTRY[0]])
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected) == (4, 1)
    [dup] = rejected(path)
    assert (dup["row"], dup["rule"], dup["value"]) == ("5", "DUPLICATE_KEY", "001090012345")


def test_a_failure_mid_batch_leaves_the_register_as_it_was(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, *GOOD_REGISTRY, "bad,,,,,,,,"])

    def explode(rows: int, done: int, total: int) -> None:
        raise KeyboardInterrupt  # what Ctrl-C looks like from inside the batch

    with pytest.raises(KeyboardInterrupt):
        import_file(engine, "registry", path, today=TODAY, progress=explode)
    assert count(engine, models.Citizen) == 0
    assert count(engine, models.ImportBatch) == 0
    assert count(engine, models.AuditEntry) == 0
    assert not rejected_path_for(path).exists()
    assert not list(tmp_path.glob(".*.tmp"))
    report = import_file(engine, "registry", path, today=TODAY)
    assert (report.inserted, report.rejected) == (4, 1)


def test_each_batch_is_audited_and_announced(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, *GOOD_REGISTRY])
    report = import_file(engine, "registry", path, today=TODAY, actor="staff:test")
    with engine.connect() as conn:
        audit = conn.execute(select(models.AuditEntry.__table__)).one()
        event = conn.execute(select(models.OutboxEvent.__table__)).one()
    assert (audit.actor, audit.action, audit.subject_id) == (
        "staff:test",
        "import",
        str(report.batch_id),
    )
    assert audit.detail["inserted"] == 4
    assert event.topic == "register.batch_imported" and event.payload["batch_id"] == report.batch_id


def test_parquet_and_csv_of_the_same_rows_load_the_same(engine: Engine, tmp_path: Path) -> None:
    csv_path = write(tmp_path / "registry.csv", [REGISTRY_HEADER, *GOOD_REGISTRY])
    table = pacsv.read_csv(
        csv_path,
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in REGISTRY_HEADER.split(",")}
        ),
    )
    parquet_path = tmp_path / "registry.parquet"
    pq.write_table(table, parquet_path)
    report = import_file(engine, "registry", parquet_path, today=TODAY)
    assert (report.inserted, report.rejected) == (4, 0)
    again = import_file(engine, "registry", csv_path, today=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


def test_a_corrupt_parquet_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "registry.parquet", b"PAR1 this is not parquet")
    with pytest.raises(FileError, match="Parquet"):
        import_file(engine, "registry", path, today=TODAY)
