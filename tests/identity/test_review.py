"""The review queue: items queued by verification, shown side by side, decided once, audited.

Items come from a real verification run (the hand-made cases of test_verify against the
stand-in over HTTP); every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select
from typer.testing import CliRunner

from nidb.connectors.population import PopulationClient
from nidb.identity import review
from nidb.identity.commands import standalone_app
from nidb.identity.verify import verify_records
from nidb.store import models
from nidb.store.db import alembic_config
from tests.identity.test_verify import (
    KHOA,
    LAN,
    NAM,
    PHUC,
    RECORDS,
    Dataset,
    load,
    scalar,
    small,
    small_service,
)

__all__ = ["small", "small_service"]  # fixtures shared with test_verify

QUEUED = sorted(rid for rid, (_, status, _) in RECORDS.items() if status == "review")


@pytest.fixture
def queued(engine: Engine, small: Dataset, small_service: str) -> dict[str, int]:
    """The register after verification: review item id by record id."""
    load(engine, small)
    with PopulationClient(small_service) as client:
        verify_records(engine, client, actor="test:verify")
    return {item.record_id: item.id for item in review.list_items(engine)}


def audit_entries(engine: Engine, action: str) -> list[tuple[str, str, dict[str, object]]]:
    log = models.AuditEntry.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(log.c.actor, log.c.subject_id, log.c.detail)
            .where(log.c.action == action)
            .order_by(log.c.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def person(engine: Engine, record_id: str) -> dict[str, object]:
    persons = models.Person.__table__
    with engine.connect() as conn:
        row = conn.execute(select(persons).where(persons.c.record_id == record_id)).one()
    return dict(row._mapping)


# --- reading ------------------------------------------------------------------------------------


def test_open_items_are_listed_oldest_first_with_the_records_name(
    engine: Engine, queued: dict[str, int]
) -> None:
    items = review.list_items(engine)
    assert sorted(i.record_id for i in items) == QUEUED
    assert [i.id for i in items] == sorted(i.id for i in items)
    khoa = next(i for i in items if i.record_id == "R07")
    assert (khoa.full_name, khoa.kind, khoa.status) == ("Võ Khoa", "verification", "open")
    assert (khoa.candidate_personal_id, khoa.reasons) == (
        KHOA.personal_id,
        ("NAME_MIDDLE_MISSING",),
    )
    assert review.count_items(engine) == len(QUEUED)
    page = review.list_items(engine, limit=2, offset=2)
    assert [i.id for i in page] == [i.id for i in items][2:4]
    assert review.list_items(engine, kind="match") == []
    assert review.list_items(engine, status="accepted") == []
    assert len(review.list_items(engine, status=None)) == len(QUEUED)
    with pytest.raises(ValueError, match="status"):
        review.list_items(engine, status="pending")


def test_an_item_shows_record_and_registry_field_by_field_and_the_look_is_audited(
    engine: Engine, queued: dict[str, int]
) -> None:
    detail = review.get_item(engine, queued["R08"], actor="staff:lan")
    fields = {f.field: f for f in detail.fields}
    born = fields["date_of_birth"]
    assert (born.record, born.registry, born.reasons) == (
        "1991-05-07",
        "1991-07-05",
        ("DOB_DAY_MONTH_SWAPPED",),
    )
    assert not born.agrees and born.label.startswith("Ngày sinh")
    assert fields["full_name"].agrees and fields["full_name"].registry == "Bùi Thị Lan"
    assert fields["personal_id"].record == fields["personal_id"].registry == LAN.personal_id
    assert fields["status"].registry == "alive"
    assert detail.on_accept == (review.FieldChange("date_of_birth", "1991-05-07", "1991-07-05"),)
    assert detail.record is not None and detail.record["bhxh_code"] == "0100000008"
    assert audit_entries(engine, "review.view") == [
        ("staff:lan", "R08", {"item_id": queued["R08"]})
    ]
    review.get_item(engine, queued["R08"])  # without an actor: nothing recorded
    assert len(audit_entries(engine, "review.view")) == 1


# --- deciding -----------------------------------------------------------------------------------


def test_accepting_verifies_the_record_opens_a_staff_link_audits_and_writes_an_event(
    engine: Engine, queued: dict[str, int]
) -> None:
    item = review.accept(engine, queued["R07"], "staff:lan", note="cùng người (same person)")
    assert (item.status, item.decided_by, item.note) == (
        "accepted",
        "staff:lan",
        "cùng người (same person)",
    )
    assert item.decided_at is not None
    record = person(engine, "R07")
    assert record["verification_status"] == "verified"
    assert record["verified_personal_id"] == KHOA.personal_id and record["verified_at"]
    links, outbox = models.IdentityLink.__table__, models.OutboxEvent.__table__
    with engine.connect() as conn:
        staff = conn.execute(
            select(links.c.bhxh_code, links.c.personal_id).where(links.c.source == "staff")
        ).all()
        events = conn.execute(
            select(outbox.c.subject_key, outbox.c.payload).where(
                outbox.c.topic == "identity.review_accepted"
            )
        ).all()
    assert staff == [("0100000007", KHOA.personal_id)]
    assert [e[0] for e in events] == [f"person:{KHOA.personal_id}"]
    assert events[0][1]["record_id"] == "R07"
    [(actor, subject, detail)] = audit_entries(engine, "review.accept")
    assert (actor, subject) == ("staff:lan", "R07")
    assert detail["previous_status"] == "review" and detail["note"] == "cùng người (same person)"
    assert review.count_items(engine) == len(QUEUED) - 1
    # the middle name was missing: the record takes the registry's name
    assert (record["full_name"], record["name_base"]) == ("Võ Minh Khoa", "vo minh khoa")
    changes = {
        "full_name": {"before": "Võ Khoa", "after": "Võ Minh Khoa"},
        "name_base": {"before": "vo khoa", "after": "vo minh khoa"},
    }
    assert detail["changes"] == changes and events[0][1]["changes"] == changes
    assert [(c.column, c.before, c.after) for c in item.changes] == [
        ("full_name", "Võ Khoa", "Võ Minh Khoa"),
        ("name_base", "vo khoa", "vo minh khoa"),
    ]


def test_accepting_takes_the_registry_birth_date_where_the_item_found_it_different(
    engine: Engine, queued: dict[str, int]
) -> None:
    before = person(engine, "R08")
    item = review.accept(engine, queued["R08"], "staff:lan")
    record = person(engine, "R08")
    assert (before["date_of_birth"], record["date_of_birth"]) == ("1991-05-07", LAN.dob)
    assert (record["dob_precision"], record["birth_year"]) == ("day", 1991)
    assert record["full_name"] == before["full_name"] == "Bùi Thị Lan"  # agreed: untouched
    assert record["verification_status"] == "verified"
    assert [(c.column, c.before, c.after) for c in item.changes] == [
        ("date_of_birth", "1991-05-07", "1991-07-05")
    ]  # precision and year were already the registry's
    [(_, _, detail)] = audit_entries(engine, "review.accept")
    assert detail["changes"] == {"date_of_birth": {"before": "1991-05-07", "after": "1991-07-05"}}


def test_accepting_takes_name_and_gender_and_leaves_agreeing_fields_alone(
    engine: Engine, queued: dict[str, int]
) -> None:
    # R09 typed the name without diacritics and the wrong gender (which its ID contradicts)
    review.accept(engine, queued["R09"], "staff:lan")
    record = person(engine, "R09")
    assert (record["full_name"], record["gender"]) == (NAM.name, "M")
    assert (record["date_of_birth"], record["verified_personal_id"]) == (NAM.dob, NAM.personal_id)
    [(_, _, detail)] = audit_entries(engine, "review.accept")
    assert detail["changes"] == {
        "full_name": {"before": "Do Van Nam", "after": "Đỗ Văn Nam"},
        "gender": {"before": "F", "after": "M"},
    }
    # R15 disagreed on the birth province only: it takes the registry's, nothing else changes
    before = person(engine, "R15")
    item = review.accept(engine, queued["R15"], "staff:lan")
    after = person(engine, "R15")
    assert [(c.column, c.before, c.after) for c in item.changes] == [
        ("birth_province", before["birth_province"], "001")
    ]
    assert {k: after[k] for k in ("full_name", "date_of_birth", "gender", "birth_province")} == {
        "full_name": PHUC.name,
        "date_of_birth": PHUC.dob,
        "gender": "M",
        "birth_province": "001",
    }
    assert after["verification_status"] == "verified"


def test_accepting_without_the_registry_row_changes_nothing_and_says_why(
    engine: Engine, queued: dict[str, int]
) -> None:
    with engine.begin() as conn:
        conn.execute(
            models.Citizen.__table__.delete().where(
                models.Citizen.__table__.c.personal_id == LAN.personal_id
            )
        )
    before = person(engine, "R08")
    audits = scalar(engine, "SELECT COUNT(*) FROM audit_log")
    with pytest.raises(review.RegistryRowMissing) as missing:
        review.accept(engine, queued["R08"], "staff:lan")
    assert missing.value.personal_id == LAN.personal_id and "import the registry" in str(
        missing.value
    )
    assert person(engine, "R08") == before
    assert review.get_item(engine, queued["R08"]).item.status == "open"
    assert scalar(engine, "SELECT COUNT(*) FROM audit_log") == audits
    assert (
        scalar(
            engine, "SELECT COUNT(*) FROM outbox_events WHERE topic = 'identity.review_accepted'"
        )
        == 0
    )


def test_rejecting_needs_a_note_and_marks_the_record_rejected(
    engine: Engine, queued: dict[str, int]
) -> None:
    with pytest.raises(review.NoteRequired):
        review.reject(engine, queued["R06"], "staff:lan", "  ")
    assert person(engine, "R06")["verification_status"] == "review"
    item = review.reject(engine, queued["R06"], "staff:lan", "người khác (another person)")
    assert (item.status, item.note) == ("rejected", "người khác (another person)")
    record = person(engine, "R06")
    assert (record["verification_status"], record["verified_personal_id"]) == ("rejected", None)
    [(actor, subject, detail)] = audit_entries(engine, "review.reject")
    assert (actor, subject, detail["note"]) == ("staff:lan", "R06", "người khác (another person)")


def test_deciding_an_item_twice_is_an_error_naming_who_decided_and_changes_nothing(
    engine: Engine, queued: dict[str, int]
) -> None:
    review.accept(engine, queued["R15"], "staff:lan")
    audits = scalar(engine, "SELECT COUNT(*) FROM audit_log")
    with pytest.raises(review.ItemAlreadyDecided) as again:
        review.accept(engine, queued["R15"], "staff:minh")
    assert again.value.decided_by == "staff:lan" and again.value.status == "accepted"
    assert "already accepted by staff:lan" in str(again.value)
    with pytest.raises(review.ItemAlreadyDecided):
        review.reject(engine, queued["R15"], "staff:minh", "sai (wrong)")
    assert scalar(engine, "SELECT COUNT(*) FROM audit_log") == audits
    assert person(engine, "R15")["verification_status"] == "verified"
    with pytest.raises(review.ItemNotFound):
        review.accept(engine, 999_999, "staff:lan")
    with pytest.raises(review.ItemNotFound):
        review.get_item(engine, 999_999)


def test_two_staff_deciding_one_item_at_once_decide_it_once(
    engine: Engine, queued: dict[str, int]
) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def decide(actor: str) -> None:
        start.wait()
        try:
            review.accept(engine, queued["R09"], actor)
            outcomes.append("accepted")
        except review.ItemAlreadyDecided:
            outcomes.append("refused")

    threads = [threading.Thread(target=decide, args=(f"staff:{n}",)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "refused"]
    assert len(audit_entries(engine, "review.accept")) == 1
    assert scalar(engine, "SELECT COUNT(*) FROM identity_links WHERE source = 'staff'") == 1


# --- the schema ---------------------------------------------------------------------------------


def test_the_migrated_schema_matches_the_models_and_the_migration_reverses(
    engine: Engine,
) -> None:
    config = alembic_config(engine)
    command.check(config)  # raises if autogenerate would find any difference
    command.downgrade(config, "0001")
    assert "review_items" not in inspect(engine).get_table_names()
    command.upgrade(config, "head")
    command.check(config)
    columns = {c["name"] for c in inspect(engine).get_columns("review_items")}
    assert columns == {
        "id", "record_id", "kind", "candidate_personal_id", "score", "reasons", "status",
        "created_at", "decided_by", "decided_at", "note",
    }  # fmt: skip


# --- the commands -------------------------------------------------------------------------------


def test_review_commands_list_show_accept_and_reject_in_vietnamese_first(
    cli: CliRunner, engine: Engine, queued: dict[str, int]
) -> None:
    app = standalone_app()
    listed = cli.invoke(app, ["review", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Hàng chờ xử lý (review queue)" in listed.stdout and "Võ Khoa" in listed.stdout
    assert f"/ {len(QUEUED)}" in listed.stdout

    shown = cli.invoke(app, ["review", "show", str(queued["R08"])])
    assert shown.exit_code == 0, shown.output
    for text in ("Ngày sinh (date of birth)", "1991-05-07", "1991-07-05", "DOB_DAY_MONTH_SWAPPED"):
        assert text in shown.stdout
    assert "(accepting will set) date_of_birth: 1991-05-07 → 1991-07-05" in shown.stdout

    accepted = cli.invoke(app, ["review", "accept", str(queued["R08"])])
    assert accepted.exit_code == 0 and "Đã chấp nhận" in accepted.stdout
    assert "date_of_birth: 1991-05-07 → 1991-07-05" in accepted.stdout
    again = cli.invoke(app, ["review", "accept", str(queued["R08"])])
    assert again.exit_code == 2 and "already accepted by test:cli" in again.stderr

    no_note = cli.invoke(app, ["review", "reject", str(queued["R07"])])
    assert no_note.exit_code == 2 and "--note" in no_note.output
    rejected = cli.invoke(app, ["review", "reject", str(queued["R07"]), "--note", "khác người"])
    assert rejected.exit_code == 0 and "Đã từ chối" in rejected.stdout
    assert person(engine, "R07")["verification_status"] == "rejected"

    missing = cli.invoke(app, ["review", "show", "999999"])
    assert missing.exit_code == 2 and "no such review item" in missing.stderr
