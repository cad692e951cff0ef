"""Verification against the population database: outcomes, safe fixes, crashes and faults.

Each test runs on SQLite and PostgreSQL, imports hand-made registry and records files with the
real importer, and talks to the real population stand-in over HTTP (uvicorn on a free port).
The stand-in's registry may differ from nidb's extract on purpose: a person nidb does not hold,
a name changed since the extract was taken.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from nidb.connectors.population import CircuitBreaker, CircuitOpen, PopulationClient, RetryPolicy
from nidb.domain.gender import Gender
from nidb.domain.identifiers import PersonalId
from nidb.domain.names import strip_diacritics
from nidb.identity.commands import standalone_app
from nidb.identity.verify import VerificationStopped, verify_records
from nidb.ingest.loader import import_file
from nidb.settings import get_settings
from nidb.sim.population import BackgroundServer, FaultConfig, create_app
from nidb.store import models

REGISTRY_HEADER = (
    "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,"
    "household_id,status,death_date"
)
RECORDS_HEADER = (
    "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province,address,"
    "employer_code"
)
FAST_RETRY = RetryPolicy(retries=3, backoff=0.01, max_backoff=0.05)


def pid(province: str, gender: str, year: int, serial: int) -> str:
    return PersonalId.build(province, Gender(gender), year, serial).value


@dataclass(frozen=True)
class Person:
    personal_id: str
    name: str
    dob: str
    gender: str
    province: str = "001"
    death: str = ""

    def line(self, name: str | None = None) -> str:
        status = "dead" if self.death else "alive"
        return (
            f"{self.personal_id},{name or self.name},{self.dob},{self.gender},0{self.province[-2:]},"
            f",,{status},{self.death}"
        )


AN = Person(pid("01", "M", 1990, 1), "Nguyễn Văn An", "1990-05-17", "M")
BINH = Person(pid("79", "F", 1985, 2), "Trần Thị Bình", "1985-03-02", "F", "079")
CUONG = Person(pid("38", "M", 1948, 3), "Lê Văn Cường", "1948-07-20", "M", "038")
DUNG = Person(pid("01", "F", 1992, 4), "Phạm Thị Dung", "1992-11-30", "F")
EM = Person(pid("01", "M", 1950, 5), "Hoàng Văn Em", "1950-02-03", "M")
HA = Person(pid("01", "F", 1995, 6), "Đặng Thị Hà", "1995-06-06", "F")
KHOA = Person(pid("01", "M", 1988, 7), "Võ Minh Khoa", "1988-04-12", "M")
LAN = Person(pid("01", "F", 1991, 8), "Bùi Thị Lan", "1991-07-05", "F")
NAM = Person(pid("01", "M", 1970, 9), "Đỗ Văn Nam", "1970-01-15", "M")
OANH = Person(pid("01", "F", 1940, 10), "Hồ Thị Oanh", "1940-09-09", "F", death="2023-12-01")
PHUC = Person(pid("01", "M", 1980, 15), "Ngô Văn Phúc", "1980-08-08", "M")
QUYNH = Person(pid("01", "F", 1993, 16), "Dương Thị Quỳnh", "1993-02-14", "F")
HOA = Person(pid("01", "F", 1975, 17), "Hoàng Thị Hòa", "1975-05-05", "F")  # not in the extract
MAI = Person(pid("01", "F", 1982, 18), "Lê Thị Mai", "1982-12-12", "F")  # renamed since
TRUNG = Person(pid("01", "M", 1999, 19), "Lý Quang Trung", "1999-09-19", "M")
THUY = Person(pid("01", "F", 1987, 20), "Lê Thị Hòa", "1987-03-03", "F")

EXTRACT = [AN, BINH, CUONG, DUNG, EM, HA, KHOA, LAN, NAM, OANH, PHUC, QUYNH, MAI, TRUNG, THUY]
UNKNOWN_ID = pid("01", "M", 1990, 999_999)

# record_id: (record line without record_id, expected status, expected reasons)
RECORDS: dict[str, tuple[str, str, str]] = {
    "R01": (f"0100000001,Nguyễn Văn An,1990-05-17,M,{AN.personal_id},001", "verified", ""),
    "R02": (
        f"0100000002,TRAN THI BINH,02/03/1985,F,{BINH.personal_id},079",
        "verified",
        "NAME_DIACRITICS",
    ),
    "R03": (f"0100000003,Lê Văn Cường,1948,M,{CUONG.personal_id},", "verified", "DOB_YEAR_ONLY"),
    "R04": (
        f"0100000004,Phạm Thị Dung,1992-11-30,,{DUNG.personal_id},",
        "verified",
        "GENDER_MISSING",
    ),
    "R05": (
        f"0100000005,Hoang Van Em,1950,M,{EM.personal_id},",
        "verified",
        "NAME_DIACRITICS;DOB_YEAR_ONLY",
    ),
    "R06": (f"0100000006,Đặng Thị Hân,1995-06-06,F,{HA.personal_id},", "review", "NAME_TYPO"),
    "R07": (
        f"0100000007,Võ Khoa,1988-04-12,M,{KHOA.personal_id},",
        "review",
        "NAME_MIDDLE_MISSING",
    ),
    "R08": (
        f"0100000008,Bùi Thị Lan,1991-05-07,F,{LAN.personal_id},",
        "review",
        "DOB_DAY_MONTH_SWAPPED",
    ),
    "R09": (
        f"0100000009,Do Van Nam,1970-01-15,F,{NAM.personal_id},",
        "review",
        "NAME_DIACRITICS;GENDER_MISMATCH;ID_CHECK_FAILED",
    ),
    "R10": (f"0100000010,Hồ Thị Oanh,1940-09-09,F,{OANH.personal_id},", "verified", "PERSON_DEAD"),
    "R11": ("0100000011,Mai Văn Tâm,1960-01-01,M,012345678,", "unmatched", "ID_OLD_CMND"),
    "R12": ("0100000012,Mai Văn Tú,1961-01-01,M,,", "unmatched", "ID_MISSING"),
    "R13": (f"0100000013,Mai Văn Tư,1962-01-01,M,{UNKNOWN_ID},", "unmatched", "ID_NOT_FOUND"),
    "R14": ("0100000014,Mai Văn Tài,1963-01-01,M,999063000014,", "unmatched", "ID_CHECK_FAILED"),
    "R15": (
        f"0100000015,Ngô Văn Phúc,1980-08-08,M,{PHUC.personal_id},079",
        "review",
        "BIRTH_PROVINCE_MISMATCH",
    ),
    "R16": (
        f"0100000016,Lý Văn Sơn,1977-10-10,M,{QUYNH.personal_id},",
        "unmatched",
        "NAME_DIFFERENT;DOB_DIFFERENT;GENDER_MISMATCH;ID_CHECK_FAILED;ID_MISMATCH",
    ),
    "R17": (
        f"0100000017,Hoang Thi Hoa,1975-05-05,F,{HOA.personal_id},",
        "verified",
        "NAME_DIACRITICS",
    ),
    "R18": (f"0100000018,Le Thi Mai,1982-12-12,F,{MAI.personal_id},", "review", "NAME_DIACRITICS"),
    "R19": (f"0100000019,Lý Quang Trung,1999-09-19,M,{TRUNG.personal_id},", "verified", ""),
    "R20": (f"0100000019,LÝ QUANG TRUNG,1999-09-19,M,{TRUNG.personal_id},", "verified", ""),
    "R21": (f"0100000021,Lê Thị Hòa,1987-03-03,F,{THUY.personal_id},", "verified", ""),
}


def write_lines(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Dataset:
    extract: Path
    records: Path
    population: Path


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The hand-made cases: extract, records, and the service's (slightly newer) registry."""
    folder = tmp_path_factory.mktemp("small")
    served = [p.line() for p in EXTRACT if p is not MAI and p is not THUY]
    served += [HOA.line(), MAI.line("Lê Thị Mai Anh"), THUY.line("Lê Thị Hoà")]
    return Dataset(
        write_lines(folder / "extract.csv", REGISTRY_HEADER, [p.line() for p in EXTRACT]),
        write_lines(
            folder / "records.csv",
            RECORDS_HEADER,
            [f"{rid},{line},," for rid, (line, _, _) in RECORDS.items()],
        ),
        write_lines(folder / "population.csv", REGISTRY_HEADER, served),
    )


@pytest.fixture(scope="module")
def small_service(small: Dataset) -> Iterator[str]:
    with BackgroundServer(create_app(small.population, admin=True)) as server:
        yield server.url


def load(engine: Engine, data: Dataset) -> None:
    assert import_file(engine, "registry", data.extract).rejected == 0
    assert import_file(engine, "records", data.records).rejected == 0


def scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def outcomes(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT record_id, verification_status, verification_reasons FROM persons")
        )
        return {r[0]: (r[1], r[2] or "") for r in rows}


def assert_each_record_written_once(engine: Engine) -> None:
    """Every record verified has exactly one 'verify' audit entry; links and items unique."""
    assert (
        scalar(engine, "SELECT COUNT(*) FROM persons WHERE verification_status = 'unverified'") == 0
    )
    assert (
        scalar(
            engine,
            "SELECT COUNT(*) FROM (SELECT subject_id FROM audit_log WHERE action = 'verify' "
            "GROUP BY subject_id HAVING COUNT(*) > 1) d",
        )
        == 0
    )
    assert scalar(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'verify'") == scalar(
        engine, "SELECT COUNT(*) FROM persons"
    )
    assert (
        scalar(
            engine,
            "SELECT COUNT(*) FROM (SELECT bhxh_code, personal_id FROM identity_links "
            "WHERE source = 'verified' GROUP BY bhxh_code, personal_id HAVING COUNT(*) > 1) d",
        )
        == 0
    )
    assert (
        scalar(
            engine,
            "SELECT COUNT(*) FROM (SELECT record_id FROM review_items GROUP BY record_id "
            "HAVING COUNT(*) > 1) d",
        )
        == 0
    )
    assert scalar(engine, "SELECT COUNT(*) FROM review_items") == scalar(
        engine, "SELECT COUNT(*) FROM persons WHERE verification_status = 'review'"
    )


# --- outcomes -----------------------------------------------------------------------------------


def test_each_record_gets_the_status_and_reasons_its_differences_call_for(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    with PopulationClient(small_service) as client:
        report = verify_records(engine, client, chunk_size=4, batch_size=3, actor="test:verify")
    expected = {rid: (status, reasons) for rid, (_, status, reasons) in RECORDS.items()}
    assert outcomes(engine) == expected
    assert report.records == len(RECORDS) and report.remaining == 0 and report.chunks == 6
    assert report.by_status == Counter(status for _, status, _ in RECORDS.values())
    assert dict(report.safe_fixes) == {
        "NAME_DIACRITICS": 3,
        "DOB_YEAR_ONLY": 2,
        "GENDER_MISSING": 1,
    }
    assert report.fixes_unconfirmed == 1  # R18: the registry renamed Mai since the extract
    assert_each_record_written_once(engine)


def test_safe_fixes_adopt_the_registry_values_and_audit_before_and_after(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    with PopulationClient(small_service) as client:
        verify_records(engine, client, actor="test:verify")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT record_id, full_name, name_base, date_of_birth, dob_precision, gender, "
                "verified_personal_id, verified_at FROM persons WHERE record_id IN "
                "('R02', 'R03', 'R04', 'R05', 'R17', 'R18')"
            )
        )
        fixed = {r[0]: r[1:] for r in rows}
        log = models.AuditEntry.__table__
        audits = conn.execute(
            select(log.c.subject_id, log.c.actor, log.c.detail)
            .where(log.c.action == "safe_fix")
            .order_by(log.c.subject_id, log.c.id)
        ).all()
    assert fixed["R02"][:5] == ("Trần Thị Bình", "tran thi binh", "1985-03-02", "day", "F")
    assert fixed["R03"][2:4] == ("1948-07-20", "day")
    assert fixed["R04"][4] == "F"
    assert fixed["R05"][:4] == ("Hoàng Văn Em", "hoang van em", "1950-02-03", "day")
    assert fixed["R17"][0] == "Hoàng Thị Hòa"  # found by search: nidb's extract lacks her
    assert fixed["R18"][0] == "Le Thi Mai" and fixed["R18"][5] is None  # unconfirmed: untouched
    assert fixed["R02"][5] == BINH.personal_id and fixed["R02"][6] is not None
    by_record: dict[str, list[dict[str, object]]] = {}
    for subject, actor, detail in audits:
        assert actor == "test:verify"
        by_record.setdefault(subject, []).append(detail)
    assert sorted(by_record) == ["R02", "R03", "R04", "R05", "R17"]
    assert by_record["R02"] == [
        {
            "reason": "NAME_DIACRITICS",
            "changes": {"full_name": {"before": "Tran Thi Binh", "after": "Trần Thị Bình"}},
        }
    ]
    assert [d["reason"] for d in by_record["R05"]] == ["NAME_DIACRITICS", "DOB_YEAR_ONLY"]
    assert by_record["R03"][0]["changes"] == {
        "date_of_birth": {"before": "1948", "after": "1948-07-20"},
        "dob_precision": {"before": "year", "after": "day"},
    }
    assert by_record["R04"][0]["changes"] == {"gender": {"before": None, "after": "F"}}


def test_verified_records_open_one_verified_link_and_review_records_queue_an_item(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    with PopulationClient(small_service) as client:
        report = verify_records(engine, client, chunk_size=50)
    with engine.connect() as conn:
        links = conn.execute(
            text("SELECT bhxh_code, personal_id FROM identity_links WHERE source = 'verified'")
        ).all()
        items = conn.execute(
            text(
                "SELECT record_id, kind, candidate_personal_id, reasons, status FROM review_items "
                "ORDER BY record_id"
            )
        ).all()
        declared_still_open = conn.execute(
            text(
                "SELECT COUNT(*) FROM identity_links WHERE source = 'declared' AND valid_to IS NULL"
            )
        ).scalar_one()
    # R19 and R20 share a BHXH code and an ID: one link for the pair
    assert len(links) == len(set(links)) == 9 == report.links_opened
    assert ("0100000019", TRUNG.personal_id) in links
    assert declared_still_open > 0  # verification closes nothing
    review = {rid: (reasons) for rid, (_, status, reasons) in RECORDS.items() if status == "review"}
    assert [(i[0], i[3]) for i in items] == sorted(review.items())
    assert {(i[1], i[4]) for i in items} == {("verification", "open")}
    assert dict((i[0], i[2]) for i in items)["R08"] == LAN.personal_id
    assert report.review_items == len(review)


def test_a_dead_person_adds_person_dead_and_an_outbox_event(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    with PopulationClient(small_service) as client:
        report = verify_records(engine, client)
    with engine.connect() as conn:
        outbox = models.OutboxEvent.__table__
        events = conn.execute(
            select(outbox.c.subject_key, outbox.c.payload).where(
                outbox.c.topic == "identity.person_dead"
            )
        ).all()
    assert report.deaths == 1
    assert [e[0] for e in events] == [f"person:{OANH.personal_id}"]
    assert events[0][1]["record_id"] == "R10" and events[0][1]["death_date"] == "2023-12-01"


def test_running_again_finds_nothing_left_and_writes_nothing(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    with PopulationClient(small_service) as client:
        verify_records(engine, client)
        audits = scalar(engine, "SELECT COUNT(*) FROM audit_log")
        again = verify_records(engine, client)
    assert (again.records, again.chunks) == (0, 0)
    assert scalar(engine, "SELECT COUNT(*) FROM audit_log") == audits


def test_records_merged_by_the_dedupe_are_neither_verified_nor_counted_as_unverified(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    # what the register's merge leaves (nidb.identity.dedupe_merge): marked, never deleted
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE persons SET merged_into = 'R01' WHERE record_id IN ('R02', 'R05')")
        )
    with PopulationClient(small_service) as client:
        report = verify_records(engine, client, chunk_size=3)
    assert (report.records, report.remaining) == (len(RECORDS) - 2, 0)
    after = outcomes(engine)
    assert after["R02"] == ("unverified", "") and after["R05"] == ("unverified", "")
    assert scalar(engine, "SELECT COUNT(*) FROM audit_log WHERE subject_id IN ('R02', 'R05')") == 0
    with PopulationClient(small_service) as client:
        again = verify_records(engine, client)
    assert (again.records, again.remaining) == (0, 0)


def test_limit_verifies_that_many_records_in_record_id_order(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    with PopulationClient(small_service) as client:
        report = verify_records(engine, client, limit=5, chunk_size=2)
    assert (report.records, report.remaining) == (5, len(RECORDS) - 5)
    done = {rid for rid, (status, _) in outcomes(engine).items() if status != "unverified"}
    assert done == {"R01", "R02", "R03", "R04", "R05"}


def test_two_runs_at_once_write_each_record_once(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    reports = []
    start = threading.Barrier(2)

    def run() -> None:
        with PopulationClient(small_service) as client:
            start.wait()
            reports.append(verify_records(engine, client, chunk_size=3))

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert sum(r.records for r in reports) == len(RECORDS)
    assert sum(r.records + r.skipped for r in reports) >= len(RECORDS)
    assert outcomes(engine) == {rid: (s, r) for rid, (_, s, r) in RECORDS.items()}
    assert_each_record_written_once(engine)


# --- failures -----------------------------------------------------------------------------------


def test_service_failing_midway_keeps_finished_chunks_and_a_rerun_completes(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    faults = f"{small_service}/v1/admin/faults"

    def break_after_first_chunk(done: int, total: int) -> None:
        httpx.post(faults, json={"error_rate": 1.0}).raise_for_status()

    try:
        with (
            PopulationClient(small_service, retry=FAST_RETRY) as client,
            pytest.raises(VerificationStopped) as stopped,
        ):
            verify_records(engine, client, chunk_size=3, progress=break_after_first_chunk)
    finally:
        httpx.post(faults, json={"error_rate": 0.0}).raise_for_status()
    report = stopped.value.report
    assert "run again to resume" in str(stopped.value)
    # the pipeline holds up to two chunks beyond the first (one fetched ahead, one classified)
    # that may have been answered before the faults began; each is written whole or not at all
    assert report.records in (3, 6, 9) and report.remaining == len(RECORDS) - report.records
    assert (
        scalar(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'verify'") == report.records
    )
    with PopulationClient(small_service) as client:
        rest = verify_records(engine, client, chunk_size=3)
    assert rest.records == len(RECORDS) - report.records
    assert outcomes(engine) == {rid: (s, r) for rid, (_, s, r) in RECORDS.items()}
    assert_each_record_written_once(engine)


def test_an_open_circuit_stops_the_run_before_anything_is_written(
    engine: Engine, small: Dataset, small_service: str
) -> None:
    load(engine, small)
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=60)
    breaker.record_failure()
    with (
        PopulationClient(small_service, breaker=breaker) as client,
        pytest.raises(VerificationStopped) as stopped,
    ):
        verify_records(engine, client)
    assert isinstance(stopped.value.cause, CircuitOpen)
    assert stopped.value.report.records == 0
    assert scalar(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'verify'") == 0


# --- many records: a killed command, an unreliable service --------------------------------------

FAMILIES = ("Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Hoàng", "Vũ", "Bùi")
MIDDLES = ("Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh")
GIVENS = ("An", "Bình", "Hà", "Hạnh", "Dũng", "Hùng", "Lan", "Mai", "Tuấn", "Nam")


def bulk(folder: Path, count: int) -> tuple[Dataset, dict[str, tuple[str, str]]]:
    """`count` records, ten kinds in turn, with what verification must conclude for each."""
    people, records, expected = [], [], {}
    for i in range(count):
        gender = "M" if i % 2 else "F"
        year = 1950 + i % 50
        dob = f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        name = f"{FAMILIES[i % 8]} {MIDDLES[i % 6]} {GIVENS[i % 10]}"
        person = Person(
            pid("01", gender, year, i), name, dob, gender, death="2024-01-01" if i % 13 == 0 else ""
        )
        people.append(person.line())
        kind = i % 10
        typed_name, typed_dob, typed_gender, typed_id = name, dob, gender, person.personal_id
        status, reasons = {
            0: ("verified", ""),
            1: ("verified", "NAME_DIACRITICS"),
            2: ("verified", "DOB_YEAR_ONLY"),
            3: ("verified", "GENDER_MISSING"),
            4: ("verified", "NAME_DIACRITICS;DOB_YEAR_ONLY"),
            5: ("review", "NAME_TYPO"),
            6: ("unmatched", "ID_OLD_CMND"),
            7: ("unmatched", "ID_MISSING"),
            8: ("unmatched", "ID_NOT_FOUND"),
            9: ("review", "NAME_DIACRITICS;GENDER_MISMATCH;ID_CHECK_FAILED"),
        }[kind]
        if kind in (1, 4, 9):
            typed_name = strip_diacritics(name)
        if kind in (2, 4):
            typed_dob = str(year)
        if kind == 3:
            typed_gender = ""
        if kind == 5:
            typed_name = name + "h"
        if kind == 6:
            typed_id = f"{i:09d}"
        if kind == 7:
            typed_id = ""
        if kind == 8:
            typed_id = pid("01", gender, year, 500_000 + i)
        if kind == 9:
            typed_gender = "F" if gender == "M" else "M"
        if person.death and kind not in (6, 7, 8):
            reasons = f"{reasons};PERSON_DEAD".lstrip(";")
        rid = f"R{i:06d}"
        records.append(
            f"{rid},{2_000_000_000 + i},{typed_name},{typed_dob},{typed_gender},{typed_id},,,"
        )
        expected[rid] = (status, reasons)
    registry = write_lines(folder / "registry.csv", REGISTRY_HEADER, people)
    data = Dataset(registry, write_lines(folder / "records.csv", RECORDS_HEADER, records), registry)
    return data, expected


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, dict[str, tuple[str, str]]]:
    return bulk(tmp_path_factory.mktemp("many"), 1500)


def verify_command() -> list[str]:
    """`nidb verify` once nidb/cli.py mounts it; until then the identity commands alone."""
    from nidb import cli

    mounted = any(c.name == "verify" for c in cli.app.registered_commands)
    return [sys.executable, "-m", "nidb" if mounted else "nidb.identity.commands", "verify"]


def run_verify(url: str, service: str, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": url,
        "NIDB_ACTOR": "test:cli",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [*verify_command(), "--population-url", service, *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def first_progress_line(process: subprocess.Popen[str], timeout: float = 60) -> str:
    """The first progress line the command writes to stderr (it follows the first commit)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if " dòng" in line:  # the plain progress line: "…: N dòng, …"
            return line
    process.kill()
    pytest.fail(f"no progress line from the command: {''.join(seen)[-2000:]}")


def test_sigkill_mid_run_then_rerun_verifies_every_record_exactly_once(
    database_url: str,
    engine: Engine,
    many: tuple[Dataset, dict[str, tuple[str, str]]],
    cli: CliRunner,
) -> None:
    data, expected = many
    load(engine, data)
    # latency makes the run last a few seconds, so that the kill lands in the middle of it
    app = create_app(data.population, FaultConfig(latency_ms=25))
    args = ("--chunk-size", "200", "--batch-size", "50", "--concurrency", "1")
    with BackgroundServer(app) as server:
        victim = run_verify(database_url, server.url, *args)
        first_progress_line(victim)
        time.sleep(random.uniform(0.0, 0.4))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        assert victim.returncode == -signal.SIGKILL, "the run finished before it could be killed"

        done = scalar(
            engine, "SELECT COUNT(*) FROM persons WHERE verification_status <> 'unverified'"
        )
        assert 0 < done < len(expected)
        assert done % 200 == 0, "a chunk is written whole or not at all"
        assert scalar(engine, "SELECT COUNT(*) FROM audit_log WHERE action = 'verify'") == done

        rerun = cli.invoke(standalone_app(), ["verify", "--population-url", server.url, *args])
    assert rerun.exit_code == 0, rerun.output
    assert f"{len(expected) - done:,} hồ sơ (records)" in rerun.stdout
    assert "đã xác thực (verified)" in rerun.stdout and "NAME_DIACRITICS" in rerun.stdout
    assert outcomes(engine) == expected
    assert_each_record_written_once(engine)


def test_command_exits_1_with_a_clear_message_when_the_service_is_down_then_resumes(
    engine: Engine, small: Dataset, small_service: str, cli: CliRunner
) -> None:
    load(engine, small)
    with BackgroundServer(create_app(small.population)) as server:
        gone = server.url  # a port that was just served and is now closed
    down = cli.invoke(standalone_app(), ["verify", "--population-url", gone])
    up = cli.invoke(standalone_app(), ["verify", "--population-url", small_service])
    assert down.exit_code == 1, down.output
    assert "run again to resume" in down.stderr and "population service" in down.stderr
    assert "0 hồ sơ (records)" in down.stdout
    assert up.exit_code == 0, up.output
    assert f"{len(RECORDS)} hồ sơ (records)" in up.stdout
    for label in ("đã xác thực (verified)", "Lý do (reasons)", "NAME_DIACRITICS", "hồ sơ/s"):
        assert label in up.stdout
    # records checked and not matched are not "left": the two counts must not read as one
    assert f"còn {len(RECORDS)} hồ sơ chưa gửi đối chiếu" in down.stdout
    assert "còn 0 hồ sơ chưa gửi đối chiếu" in up.stdout
    assert_each_record_written_once(engine)


def test_a_service_failing_one_call_in_ten_loses_and_duplicates_nothing(
    engine: Engine, many: tuple[Dataset, dict[str, tuple[str, str]]]
) -> None:
    data, expected = many
    load(engine, data)
    app = create_app(data.population, FaultConfig(error_rate=0.1, seed=7), admin=True)
    with BackgroundServer(app) as server, PopulationClient(server.url, retry=FAST_RETRY) as client:
        for _ in range(10):  # a stop after exhausted retries is resumed by running again
            try:
                verify_records(engine, client, chunk_size=300, batch_size=50)
                break
            except VerificationStopped:
                continue
        injected = httpx.get(f"{server.url}/v1/admin/faults").json()["injected"]
    assert injected["errors"] > 0
    assert outcomes(engine) == expected
    assert_each_record_written_once(engine)


def test_the_population_url_defaults_to_the_setting_and_is_required(
    engine: Engine,
    small: Dataset,
    small_service: str,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(engine, small)
    monkeypatch.delenv("NIDB_POPULATION_URL", raising=False)
    get_settings.cache_clear()
    missing = cli.invoke(standalone_app(), ["verify"])
    assert missing.exit_code == 2 and "NIDB_POPULATION_URL" in missing.stderr
    monkeypatch.setenv("NIDB_POPULATION_URL", small_service)
    get_settings.cache_clear()
    done = cli.invoke(standalone_app(), ["verify"])
    assert done.exit_code == 0, done.output
    assert f"{len(RECORDS)} hồ sơ (records)" in done.stdout
    assert_each_record_written_once(engine)
