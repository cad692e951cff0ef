"""`nidb match` with no files: links land in the register, review items in the queue, undoable.

Runs on SQLite and PostgreSQL. A generated province is imported (registry and records); the
records start ``unverified``, so every one of them is matched against the register's citizens.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from nidb.identity.match_register import RunNotFound, match_register, unmatch
from nidb.ingest.loader import import_file
from nidb.sim.generate import generate


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar() or 0)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("register-match")
    generate(folder, 2_500, seed=11)
    return folder


def load(engine: Engine, folder: Path) -> None:
    assert import_file(engine, "registry", folder / "registry.csv").rejected == 0
    import_file(engine, "records", folder / "records.csv")


def test_auto_decisions_write_audited_links_and_review_decisions_queue_match_items(
    engine: Engine, province: Path
) -> None:
    load(engine, province)
    truth = {row["record_id"]: row["personal_id"] for row in read(province / "truth.csv")}
    summary = match_register(engine, "test:matcher", chunk_rows=500, threads=2)
    assert summary.model is not None and summary.linked > 0.8 * summary.records
    assert summary.queued > 0

    with engine.connect() as conn:
        linked = conn.execute(
            text(
                "SELECT p.record_id, p.verified_personal_id, l.source FROM persons p "
                "JOIN match_links m ON m.record_id = p.record_id "
                "JOIN identity_links l ON l.id = m.link_id AND l.bhxh_code = p.bhxh_code "
                "AND l.personal_id = p.verified_personal_id AND l.source = 'match'"
            )
        ).all()
        items = conn.execute(
            text("SELECT record_id, candidate_personal_id, reasons, score FROM review_items "
                 "WHERE kind = 'match' AND status = 'open'")
        ).all()  # fmt: skip
    assert len(linked) == summary.linked
    assert all(pid == truth[record] for record, pid, _ in linked)
    assert len(items) == summary.queued
    assert all(candidate and 0 <= score <= 1 for _, candidate, _, score in items)
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE action = 'match.link'") == len(
        linked
    )
    assert scalar(
        engine, "SELECT count(*) FROM outbox_events WHERE topic = 'identity.linked'"
    ) == len(linked)
    assert scalar(
        engine, "SELECT count(*) FROM persons WHERE verification_status = 'review'"
    ) == len(items)

    links_before = scalar(engine, "SELECT count(*) FROM identity_links WHERE source = 'match'")
    # a rerun finds nothing left to link and writes nothing twice
    again = match_register(engine, "test:matcher", chunk_rows=500, threads=2)
    assert again.linked == 0 and again.queued == 0
    assert scalar(engine, "SELECT count(*) FROM match_links") == len(linked)
    assert links_before == scalar(
        engine, "SELECT count(*) FROM identity_links WHERE source = 'match'"
    )

    # undo: every link of the run closed, every record back to what it was
    result = unmatch(engine, summary.run_id, "test:lead", "model check")
    assert result.closed_links == result.restored_records == len(linked)
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM identity_links WHERE source = 'match' AND valid_to IS NULL",
        )
        == 0
    )
    assert (
        scalar(engine, "SELECT count(*) FROM persons WHERE verified_personal_id IS NOT NULL") == 0
    )
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE action = 'match.unlink'") == len(
        linked
    )
    with pytest.raises(RunNotFound):
        unmatch(engine, summary.run_id, "test:lead", "twice")


def test_a_match_review_item_is_accepted_like_any_other(engine: Engine, province: Path) -> None:
    from nidb.identity import review

    load(engine, province)
    match_register(engine, "test:matcher", chunk_rows=1000, threads=2)
    with engine.connect() as conn:
        item_id, record_id, candidate = conn.execute(
            text("SELECT id, record_id, candidate_personal_id FROM review_items "
                 "WHERE kind = 'match' ORDER BY id LIMIT 1")
        ).one()  # fmt: skip
    detail = review.get_item(engine, item_id)
    assert detail.item.kind == "match"
    assert detail.record is not None and detail.registry is not None  # side by side
    review.accept(engine, item_id, "test:reviewer")
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM persons WHERE record_id = :r AND verified_personal_id = :p",
            r=record_id,
            p=candidate,
        )
        == 1
    )


def test_the_file_options_go_together(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "nidb", "match", "--records", str(tmp_path / "r.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "--registry" in run.stderr and "--out" in run.stderr


def test_kill_9_while_links_are_written_then_rerun_writes_each_link_once(
    engine: Engine, database_url: str, province: Path, tmp_path: Path
) -> None:
    load(engine, province)
    env = {**os.environ, "NIDB_DATABASE_URL": database_url, "NIDB_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "nidb", "match", "--chunk-rows", "20"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            if scalar(engine, "SELECT count(*) FROM identity_links WHERE source = 'match'") > 100:
                break
            if process.poll() is not None:
                pytest.fail("the run finished before it could be killed; use smaller chunks")
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    written = scalar(engine, "SELECT count(*) FROM identity_links WHERE source = 'match'")
    total = scalar(engine, "SELECT count(*) FROM persons")
    assert 0 < written < total

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM (SELECT bhxh_code, personal_id FROM identity_links "
            "WHERE source = 'match' GROUP BY bhxh_code, personal_id HAVING count(*) > 1) d",
        )
        == 0
    )
    links = scalar(engine, "SELECT count(*) FROM match_links")
    assert links == scalar(engine, "SELECT count(*) FROM audit_log WHERE action = 'match.link'")
    assert links == scalar(
        engine,
        "SELECT count(*) FROM persons WHERE verification_status = 'verified'",
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM (SELECT record_id FROM review_items WHERE kind = 'match' "
            "GROUP BY record_id HAVING count(*) > 1) d",
        )
        == 0
    )


def _known_only_by_old_id(province: Path, folder: Path, *, keep_old_id: bool) -> dict[str, str]:
    """Write a copy of the province where some records are tied to their person by the old ID
    alone; returns those records' true personal IDs by record ID.

    The chosen records declare their person's own 9-digit CMND and a full birth date, and both
    words of the name that blocking searches by (family and given name) are replaced, so
    nothing but the old ID finds the person (the birth date and the middle name then support
    it). ``keep_old_id=False`` drops the registry's ``old_id`` column.
    """
    registry = read(province / "registry.csv")
    records = read(province / "records.csv")
    truth = {row["record_id"]: row["personal_id"] for row in read(province / "truth.csv")}
    holder = {row["old_id"]: row["personal_id"] for row in registry if row["old_id"]}
    chosen: dict[str, str] = {}
    for row in records:
        declared = row["personal_id"]
        full_date = len(row["date_of_birth"]) == 10
        if full_date and len(declared) == 9 and holder.get(declared) == truth[row["record_id"]]:
            middle = row["full_name"].split()[1:-1]
            row["full_name"] = " ".join(["Khúc", *middle, "Thừa"])
            chosen[row["record_id"]] = truth[row["record_id"]]
        if len(chosen) == 12:
            break
    for name, rows in (("registry.csv", registry), ("records.csv", records)):
        fields = [f for f in rows[0] if keep_old_id or f != "old_id"]
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    return chosen


def _decided_as(engine: Engine, chosen: dict[str, str]) -> dict[str, str]:
    """How each chosen record was decided: ``auto`` or ``review`` with its true person, else
    ``other``."""
    with engine.connect() as conn:
        linked = dict(
            conn.execute(
                text("SELECT record_id, verified_personal_id FROM persons "
                     "WHERE verification_status = 'verified'")
            ).all()
        )  # fmt: skip
        queued = dict(
            conn.execute(
                text("SELECT record_id, candidate_personal_id FROM review_items "
                     "WHERE kind = 'match' AND status = 'open'")
            ).all()
        )  # fmt: skip
    return {
        record: "auto"
        if linked.get(record) == pid
        else "review"
        if queued.get(record) == pid
        else "other"
        for record, pid in chosen.items()
    }


def test_a_record_known_only_by_its_old_id_is_linked_through_the_citizens_old_id(
    engine: Engine, province: Path, tmp_path: Path
) -> None:
    chosen = _known_only_by_old_id(province, tmp_path, keep_old_id=True)
    assert len(chosen) >= 5
    load(engine, tmp_path)
    assert scalar(engine, "SELECT count(*) FROM citizens WHERE old_id IS NOT NULL") > 0
    match_register(engine, "test:matcher", chunk_rows=1000, threads=2)
    decided = _decided_as(engine, chosen)
    assert "other" not in decided.values(), decided
    assert list(decided.values()).count("auto") >= len(chosen) // 2, decided


def test_without_the_citizens_old_id_such_a_record_is_not_linked(
    engine: Engine, province: Path, tmp_path: Path
) -> None:
    chosen = _known_only_by_old_id(province, tmp_path, keep_old_id=False)
    load(engine, tmp_path)
    assert scalar(engine, "SELECT count(*) FROM citizens WHERE old_id IS NOT NULL") == 0
    match_register(engine, "test:matcher", chunk_rows=1000, threads=2)
    decided = _decided_as(engine, chosen)
    assert set(decided.values()) == {"other"}, decided


def test_an_old_id_two_citizens_hold_is_no_evidence_and_stops_nothing(
    engine: Engine, province: Path, tmp_path: Path
) -> None:
    chosen = _known_only_by_old_id(province, tmp_path, keep_old_id=True)
    load(engine, tmp_path)
    record_id, pid = next(iter(chosen.items()))
    with engine.begin() as conn:  # a second import gave another citizen the same number
        old_id = conn.execute(
            text("SELECT old_id FROM citizens WHERE personal_id = :p"), {"p": pid}
        ).scalar_one()
        conn.execute(
            text("UPDATE citizens SET old_id = :o WHERE personal_id = ("
                 "SELECT min(personal_id) FROM citizens WHERE personal_id <> :p)"),
            {"o": old_id, "p": pid},
        )  # fmt: skip
    summary = match_register(engine, "test:matcher", chunk_rows=1000, threads=2)
    assert summary.model is not None and summary.linked > 0
    decided = _decided_as(engine, chosen)
    assert decided[record_id] == "other"
    assert "other" not in [v for k, v in decided.items() if k != record_id], decided


def test_the_console_shows_the_records_cmnd_beside_the_citizens_old_id(
    engine: Engine, province: Path, tmp_path: Path
) -> None:
    from nidb.identity import review

    chosen = _known_only_by_old_id(province, tmp_path, keep_old_id=True)
    load(engine, tmp_path)
    (record_id, pid), (_, stranger) = list(chosen.items())[:2]
    with engine.begin() as conn:
        declared = conn.execute(
            text("SELECT declared_id FROM persons WHERE record_id = :r"), {"r": record_id}
        ).scalar_one()
        twelve = conn.execute(
            text("SELECT record_id FROM persons WHERE declared_id_kind = 'cccd' LIMIT 1")
        ).scalar_one()
        items = [
            conn.execute(
                text("INSERT INTO review_items (record_id, kind, candidate_personal_id, score, "
                     "reasons, status) VALUES (:r, 'match', :p, 0.9, 'NAME_DIFFERENT', 'open') "
                     "RETURNING id"),
                {"r": r, "p": p},
            ).scalar_one()
            for r, p in ((record_id, pid), (record_id, stranger), (twelve, pid))
        ]  # fmt: skip
    own, other, none = (
        {f.field: f for f in review.get_item(engine, item).fields} for item in items
    )
    assert (own["old_id"].record, own["old_id"].registry) == (declared, declared)
    assert own["old_id"].agrees and own["old_id"].label.startswith("Số CMND cũ")
    assert other["old_id"].record == declared and other["old_id"].registry not in (None, declared)
    assert other["old_id"].reasons == ("ID_OLD_CMND",)
    assert "old_id" not in none
    # the CMND is not a personal ID: that row has nothing of the record's to compare
    assert own["personal_id"].record is None and own["personal_id"].one_side_only
    assert not own["old_id"].one_side_only and not own["status"].one_side_only
    assert none["personal_id"].record is not None
