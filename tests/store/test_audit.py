"""nidb.store.audit: the audit entry and the outbox event go with the caller's transaction."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from nidb.store import models
from nidb.store.audit import write_audit, write_event


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        audits = conn.execute(select(func.count()).select_from(models.AuditEntry)).scalar_one()
        events = conn.execute(select(func.count()).select_from(models.OutboxEvent)).scalar_one()
    return audits, events


def _write_both(conn: Connection, subject: str) -> None:
    write_audit(
        conn,
        actor="test:store",
        action="person.update",
        subject_type="person",
        subject_id=subject,
        purpose="kiểm thử",
        detail={"field": "address", "before": "cũ", "after": "mới"},
    )
    write_event(conn, "person.updated", subject, {"bhxh_code": subject})


def test_both_rows_are_written_with_what_was_given_when_the_caller_commits(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        _write_both(conn, "0100000001")
    with engine.connect() as conn:
        entry = conn.execute(select(models.AuditEntry.__table__)).one()
        event = conn.execute(select(models.OutboxEvent.__table__)).one()
    assert (entry.actor, entry.action, entry.subject_type, entry.subject_id, entry.purpose) == (
        "test:store", "person.update", "person", "0100000001", "kiểm thử",
    )  # fmt: skip
    assert entry.detail == {"field": "address", "before": "cũ", "after": "mới"}
    assert (event.topic, event.subject_key, event.payload) == (
        "person.updated", "0100000001", {"bhxh_code": "0100000001"},
    )  # fmt: skip
    assert event.dispatched_at is None and event.created_at is not None


def test_a_rolled_back_transaction_takes_the_audit_entry_and_the_event_with_it(
    engine: Engine,
) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        _write_both(conn, "0100000002")
        assert conn.execute(select(func.count()).select_from(models.AuditEntry)).scalar_one() == 1
        raise RuntimeError("the change itself failed")
    assert _counts(engine) == (0, 0)


def test_a_failing_change_after_the_appends_leaves_neither(engine: Engine) -> None:
    """The appends and the change they describe commit together or not at all: a change that
    breaks a constraint rolls both appends back."""
    benefit = {"bhxh_code": "0100000003", "kind": "pension", "start_date": date(2020, 1, 1),
               "status": "active"}  # fmt: skip
    with pytest.raises(IntegrityError), engine.begin() as conn:
        _write_both(conn, "0100000003")
        conn.execute(insert(models.Benefit).values(**benefit))
        conn.execute(insert(models.Benefit).values(**benefit))  # the same benefit key twice
    assert _counts(engine) == (0, 0)
