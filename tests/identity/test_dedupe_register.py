"""`nidb dedupe` with no files: clusters land in the review queue once; a merge is made, audited,
refused for two verified people, and undone exactly. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text, update

from nidb.identity import review
from nidb.identity.dedupe_merge import DifferentPersonalIds, get_proposal, undo
from nidb.identity.dedupe_register import dedupe_register, queue_clusters
from nidb.ingest.loader import import_file
from nidb.sim.generate import generate
from nidb.store import models
from nidb.store.models_claims import Claim


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar() or 0)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("register-dedupe")
    generate(folder, 2_500, seed=11)
    return folder


def load_province(engine: Engine, folder: Path) -> None:
    assert import_file(engine, "registry", folder / "registry.csv").rejected == 0
    import_file(engine, "records", folder / "records.csv")


def test_clusters_of_several_codes_are_queued_once_with_a_proposed_merge(
    engine: Engine, province: Path
) -> None:
    load_province(engine, province)
    person_of = {r["record_id"]: r["person_id"] for r in read(province / "truth.csv")}
    summary = dedupe_register(engine, "test:dedupe", threads=2, chunk_clusters=7)
    assert summary.queued == summary.clusters > 10
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.record_id, i.kind, i.status, p.members, p.fields, p.certain, "
                "p.survivor_record_id FROM review_items i "
                "JOIN dedupe_proposals p ON p.item_id = i.id"
            )
        ).all()
    assert len(rows) == summary.queued
    for record_id, kind, status, members, fields, certain, survivor in rows:
        ids = [m["record_id"] for m in json.loads(members)]
        assert kind == "dedupe" and status == "open" and record_id == survivor in ids
        assert len({m["bhxh_code"] for m in json.loads(members)}) >= 2
        proposed = json.loads(fields)
        assert set(proposed) >= {"full_name", "date_of_birth", "gender", "declared_id"}
        assert all(f["source"] in (*ids, "registry") for f in proposed.values())
        if certain:  # automatic clusters are right: one person of the truth
            assert len({person_of[r] for r in ids}) == 1, ids
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE action = 'dedupe.queue'") == len(
        rows
    )

    again = dedupe_register(engine, "test:dedupe", threads=2)
    assert again.queued == 0 and again.skipped == summary.queued
    assert scalar(engine, "SELECT count(*) FROM review_items WHERE kind = 'dedupe'") == len(rows)


# --- merging a proposal: a small register made by hand ------------------------------------------

RECORDS = (
    "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province,address,employer_code\n"
    "R1,0100000001,Nguyễn Văn An,1990-05-17,M,,001,,TA0001A\n"
    "R2,7900000002,Nguyen Van An,17/05/1990,M,,,12 Lê Lợi Quận 1,TA0002B\n"
    "R3,0100000003,Trần Thị Bình,1985,F,,,,\n"
)
CONTRIBUTIONS = (
    "bhxh_code,employer_code,period,wage,bhxh_amount,bhyt_amount,bhtn_amount\n"
    "0100000001,TA0001A,2026-01,10000000,2550000,450000,200000\n"
    "7900000002,TA0002B,2019-01,6000000,1530000,270000,120000\n"
    "7900000002,TA0002B,2019-02,6000000,1530000,270000,120000\n"
)
CARDS = (
    "card_code,facility_code,valid_from,valid_to,five_years_from,status\n"
    "DN4797900000002,79001,2019-01-01,2019-12-31,,expired\n"
)
PID = "001090012345"


def load_small(engine: Engine, tmp_path: Path) -> None:
    for kind, content in (("records", RECORDS), ("contributions", CONTRIBUTIONS), ("cards", CARDS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(content, encoding="utf-8")
        assert import_file(engine, kind, path).rejected == 0
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Claim).values(
                facility_code="79001", ma_lk="LK-1", version=1, card_code="DN4797900000002",
                bhxh_code="7900000002", admitted_at=datetime(2019, 3, 1, 8),
                discharged_at=datetime(2019, 3, 1, 10), inpatient=False, route="right",
                icd10="J06", claimed_total=250_000, sender="test",
            )
        )  # fmt: skip
        conn.execute(
            insert(models.IdentityLink).values(
                bhxh_code="7900000002", personal_id=PID, source="staff", valid_from=now
            )
        )
        conn.execute(
            update(models.Person)
            .where(models.Person.record_id == "R2")
            .values(verification_status="verified", verified_personal_id=PID, verified_at=now)
        )


def held(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table: sorted(
                tuple(row)
                for row in conn.execute(text(f"SELECT {key}, bhxh_code FROM {table}")).all()
            )
            for table, key in (
                ("persons", "record_id"),
                ("contributions", "id"),
                ("health_cards", "card_code"),
                ("claims", "ma_lk"),
                ("identity_links", "id"),
            )
        }


def persons(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        return {
            row.record_id: dict(row._mapping) for row in conn.execute(text("SELECT * FROM persons"))
        }


def queued_item(engine: Engine) -> int:
    summary = queue_clusters(engine, [(["R1", "R2"], False)], "test:dedupe")
    assert summary.queued == 1
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT item_id FROM dedupe_proposals")).scalar_one())


def test_accepting_moves_the_history_marks_the_record_merged_and_undo_restores_it(
    engine: Engine, tmp_path: Path
) -> None:
    load_small(engine, tmp_path)
    before_held, before_persons = held(engine), persons(engine)
    item_id = queued_item(engine)
    proposal = get_proposal(engine, item_id)
    # the verified record survives, and the registry-verified ID is the one kept
    assert [m.record["record_id"] for m in proposal.members if m.survivor] == ["R2"]
    assert not proposal.refused

    decided = review.accept(engine, item_id, "staff:reviewer", "cùng một người")
    assert decided.kind == "dedupe" and decided.status == "accepted"
    after = held(engine)
    assert {code for _, code in after["contributions"]} == {"7900000002"}
    assert len(after["contributions"]) == 3, "no month of history is lost"
    assert after["health_cards"] == [("DN4797900000002", "7900000002")]
    assert after["claims"] == [("LK-1", "7900000002")]
    merged = persons(engine)
    assert merged["R1"]["merged_into"] == "R2" and merged["R2"]["merged_into"] is None
    assert len(merged) == 3, "never deleted"
    assert merged["R2"]["address"] == "12 Lê Lợi Quận 1"
    assert merged["R2"]["full_name"] == "Nguyễn Văn An", "the name with its diacritics"
    assert merged["R2"]["birth_province"] == "001", "a value the survivor lacked is taken"
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE action = 'dedupe.merge'") == 1
    assert (
        scalar(engine, "SELECT count(*) FROM outbox_events WHERE topic = 'identity.records_merged'")
        == 1
    )
    with pytest.raises(review.ItemAlreadyDecided):
        review.accept(engine, item_id, "staff:other")
    # a merged record is no longer matched on its own by register-mode `nidb match`
    from nidb.identity.match_register import _extract

    assert "R1" not in _extract(engine, tmp_path)[2] and "R3" in _extract(engine, tmp_path)[2]

    reopened = undo(engine, item_id, "staff:admin", "gộp nhầm")
    assert reopened.status == "open"
    assert held(engine) == before_held
    restored = persons(engine)
    for record_id, values in before_persons.items():
        for column in ("bhxh_code", "merged_into", "address", "birth_province", "full_name"):
            assert restored[record_id][column] == values[column], (record_id, column)
    assert (
        scalar(
            engine, "SELECT count(*) FROM outbox_events WHERE topic = 'identity.records_unmerged'"
        )
        == 1
    )
    # decided again after the undo: the same merge can be made once more
    review.accept(engine, item_id, "staff:reviewer")
    assert persons(engine)["R1"]["merged_into"] == "R2"


def test_two_records_verified_with_different_ids_are_never_merged(
    engine: Engine, tmp_path: Path
) -> None:
    load_small(engine, tmp_path)
    item_id = queued_item(engine)
    with engine.begin() as conn:
        conn.execute(
            update(models.Person)
            .where(models.Person.record_id == "R1")
            .values(verification_status="verified", verified_personal_id="001090099999")
        )
    before = held(engine)
    assert get_proposal(engine, item_id).refused
    with pytest.raises(DifferentPersonalIds, match="different personal IDs"):
        review.accept(engine, item_id, "staff:reviewer")
    assert held(engine) == before
    assert all(p["merged_into"] is None for p in persons(engine).values())
    assert review.get_item(engine, item_id).item.status == "open"
    assert scalar(engine, "SELECT count(*) FROM code_merges") == 0


def test_rejecting_a_dedupe_item_leaves_the_records_as_they_are(
    engine: Engine, tmp_path: Path
) -> None:
    load_small(engine, tmp_path)
    item_id = queued_item(engine)
    before = persons(engine)
    review.reject(engine, item_id, "staff:reviewer", "hai anh em sinh đôi")
    assert persons(engine) == before
    # a rejected cluster is not queued again by the next run
    assert queue_clusters(engine, [(["R1", "R2"], False)], "t").skipped == 1


def test_file_mode_needs_records_and_out(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "nidb", "dedupe", "--records", str(tmp_path / "r.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "--out" in run.stderr


SLOW = {
    "sqlite": (
        # no sleep in SQLite SQL: a cross join of the records makes each proposal take a while
        "CREATE TRIGGER slow_proposals AFTER INSERT ON dedupe_proposals BEGIN "
        "SELECT count(*) FROM persons a, persons b; END",
    ),
    "postgresql": (
        "CREATE FUNCTION slow_proposal() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$",
        "CREATE TRIGGER slow_proposals AFTER INSERT ON dedupe_proposals "
        "FOR EACH ROW EXECUTE FUNCTION slow_proposal()",
    ),
}
"""Test-only triggers that slow each proposal's insert, so the run is surely killed mid-write."""


def slow_writes(engine: Engine, on: bool) -> None:
    with engine.begin() as conn:
        if on:
            for statement in SLOW[engine.dialect.name]:
                conn.execute(text(statement))
        else:
            conn.execute(text("DROP TRIGGER slow_proposals" + (
                " ON dedupe_proposals" if engine.dialect.name == "postgresql" else ""
            )))  # fmt: skip


def test_kill_9_while_review_items_are_written_then_rerun_writes_each_once(
    engine: Engine, database_url: str, province: Path, tmp_path: Path
) -> None:
    load_province(engine, province)
    env = {**os.environ, "NIDB_DATABASE_URL": database_url, "NIDB_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "nidb", "dedupe", "--chunk-clusters", "1"]
    slow_writes(engine, True)
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if scalar(engine, "SELECT count(*) FROM dedupe_proposals") > 0:
                break
            if process.poll() is not None:
                pytest.fail("the run finished before it could be killed")
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)  # while the next proposals are being written
    finally:
        process.wait()
    slow_writes(engine, False)
    written = scalar(engine, "SELECT count(*) FROM dedupe_proposals")
    assert written > 0

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    total = scalar(engine, "SELECT count(*) FROM dedupe_proposals")
    assert written < total, "the killed run had not finished"
    assert total == scalar(engine, "SELECT count(*) FROM review_items WHERE kind = 'dedupe'")
    assert total == scalar(engine, "SELECT count(*) FROM audit_log WHERE action = 'dedupe.queue'")
    with engine.connect() as conn:
        members = [
            m["record_id"]
            for raw in conn.execute(text("SELECT members FROM dedupe_proposals")).scalars()
            for m in json.loads(raw)
        ]
    assert len(members) == len(set(members)), "a record is in one proposal only"


def test_an_old_id_two_citizens_hold_stops_nothing(engine: Engine, province: Path) -> None:
    # two imports gave two citizens one old 9-digit number: it names nobody, the run goes on
    load_province(engine, province)
    with engine.begin() as conn:
        first, second = conn.execute(
            text("SELECT personal_id FROM citizens ORDER BY personal_id LIMIT 2")
        ).scalars()
        conn.execute(
            text("UPDATE citizens SET old_id = '123456789' WHERE personal_id IN (:a, :b)"),
            {"a": first, "b": second},
        )
    summary = dedupe_register(engine, "test:dedupe", threads=2)
    assert summary.clusters > 10
