"""The person and the BHXH codes of a personal ID: one rule, on SQLite and PostgreSQL.

Records verified as the ID always count; open identity links count only when the caller asks
for them; closed links never; a code retired by a merge holds nothing, so it is never an answer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select

from nidb.identity.merge import merge_codes, unmerge
from nidb.store import models, people

PID = "001090012345"
OTHER = "079085000002"


def person(
    conn: Connection, record_id: str, code: str, *, verified_as: str | None, status: str
) -> None:
    conn.execute(
        insert(models.Person).values(
            record_id=record_id, bhxh_code=code, full_name="Nguyễn Văn An",
            name_base="nguyen van an", date_of_birth="1990-05-17", dob_precision="day",
            birth_year=1990, gender="M", declared_id=PID, verification_status=status,
            verified_personal_id=verified_as,
        )
    )  # fmt: skip


def link(conn: Connection, code: str, pid: str, source: str, *, closed: bool = False) -> None:
    now = datetime.now(UTC)
    conn.execute(
        insert(models.IdentityLink).values(
            bhxh_code=code, personal_id=pid, source=source, valid_from=now,
            valid_to=now if closed else None,
        )
    )  # fmt: skip


def codes(engine: Engine, pid: str = PID) -> tuple[list[str], list[str]]:
    """(verified only, with open links)."""
    with engine.connect() as conn:
        return (
            people.codes_of(conn, pid, include_open_links=False),
            people.codes_of(conn, pid, include_open_links=True),
        )


def test_a_record_verified_as_the_id_gives_its_code_whatever_the_strictness(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        person(conn, "R1", "0100000001", verified_as=PID, status="verified")
        link(conn, "0100000001", PID, "verified")
    assert codes(engine) == (["0100000001"], ["0100000001"])
    with engine.connect() as conn:
        assert people.is_verified(conn, PID)
        assert [r.record_id for r in people.records_of(conn, PID)] == ["R1"]
        assert conn.execute(people.verified_personal_ids("0100000001")).scalars().all() == [PID]


def test_an_open_declared_link_counts_only_when_open_links_are_included(engine: Engine) -> None:
    with engine.begin() as conn:
        person(conn, "R1", "0100000001", verified_as=None, status="unverified")
        link(conn, "0100000001", PID, "declared")
    assert codes(engine) == ([], ["0100000001"])
    with engine.connect() as conn:
        assert not people.is_verified(conn, PID)
        assert people.records_of(conn, PID) == []


def test_a_closed_link_never_counts(engine: Engine) -> None:
    with engine.begin() as conn:
        person(conn, "R1", "0100000001", verified_as=None, status="unverified")
        link(conn, "0100000001", PID, "declared", closed=True)
    assert codes(engine) == ([], [])


def test_a_record_waiting_for_review_or_rejected_is_not_verified_as_the_id(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        person(conn, "R1", "0100000001", verified_as=None, status="review")
        person(conn, "R2", "0100000002", verified_as=None, status="rejected")
        # a personal ID left on a record that is not verified does not make it so
        person(conn, "R3", "0100000003", verified_as=PID, status="review")
    assert codes(engine) == ([], [])
    with engine.connect() as conn:
        assert not people.is_verified(conn, PID)
        assert conn.execute(people.verified_personal_ids("0100000003")).all() == []


def test_two_codes_of_one_person_verified_first_then_linked_each_in_order(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        person(conn, "R1", "7900000009", verified_as=PID, status="verified")
        person(conn, "R2", "0100000005", verified_as=PID, status="verified")
        person(conn, "R3", "0100000001", verified_as=None, status="unverified")
        link(conn, "0100000001", PID, "declared")
        link(conn, "7900000009", PID, "verified")  # also verified: listed once, with them
        link(conn, "0200000002", OTHER, "declared")  # someone else's
    assert codes(engine) == (
        ["0100000005", "7900000009"],
        ["0100000005", "7900000009", "0100000001"],
    )
    with engine.connect() as conn:
        assert [r.bhxh_code for r in people.records_of(conn, PID)] == ["0100000005", "7900000009"]


def test_a_code_retired_by_a_merge_is_never_an_answer_and_returns_on_undo(engine: Engine) -> None:
    with engine.begin() as conn:
        person(conn, "R1", "0100000001", verified_as=PID, status="verified")
        person(conn, "R2", "7900000002", verified_as=None, status="unverified")
        link(conn, "0100000001", PID, "verified")
        link(conn, "7900000002", PID, "declared")
    assert codes(engine) == (["0100000001"], ["0100000001", "7900000002"])
    merged = merge_codes(engine, "0100000001", "7900000002", actor="staff:lan", reason="trùng sổ")
    assert codes(engine) == (["0100000001"], ["0100000001"])
    unmerge(engine, merged.merge_id, actor="staff:lan", reason="gộp nhầm")
    assert codes(engine) == (["0100000001"], ["0100000001", "7900000002"])


def test_the_person_is_the_population_database_row(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(models.Citizen).values(
                personal_id=PID, full_name="Nguyễn Văn An", name_base="nguyen van an",
                date_of_birth="1990-05-17", dob_precision="day", birth_year=1990, gender="M",
                birth_province="001", status="alive",
            )
        )  # fmt: skip
    with engine.connect() as conn:
        found = people.citizen(conn, PID)
        assert found is not None and found.full_name == "Nguyễn Văn An"
        assert people.citizen(conn, OTHER) is None
        assert people.codes_of(conn, PID, include_open_links=True) == []


def test_verified_as_is_the_condition_other_queries_share(engine: Engine) -> None:
    with engine.begin() as conn:
        person(conn, "R1", "0100000001", verified_as=PID, status="verified")
        person(conn, "R2", "0100000002", verified_as=PID, status="review")
    with engine.connect() as conn:
        found = conn.execute(
            select(models.Person.record_id).where(people.verified_as(PID))
        ).scalars()
        assert list(found) == ["R1"]
