"""nidb.store.direct: a statement run on psycopg directly reads and writes what SQLAlchemy's
execution of the same statement would, in the caller's transaction."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, Numeric, bindparam, event, insert, literal, select, text

from nidb.store import models
from nidb.store.direct import MULTI_VALUES_ROWS, Direct

_AUDIT = models.AuditEntry.__table__
_INSERT_AUDIT = Direct(insert(models.AuditEntry))
_AUDITS_OF = Direct(
    select(_AUDIT.c.subject_id, _AUDIT.c.detail, _AUDIT.c.purpose)
    .where(_AUDIT.c.subject_id.in_(bindparam("p_subjects", expanding=True)))
    .order_by(_AUDIT.c.id)
)
_CLAIM = Direct(
    text(
        "INSERT INTO employer_messages (message_id, employer_code, kid) "
        "VALUES (:message_id, :employer_code, :kid) "
        "ON CONFLICT (message_id) DO NOTHING RETURNING message_id"
    )
)


def _entry(subject: str, **detail: Any) -> dict[str, Any]:
    return {
        "actor": "test:direct",
        "action": "person.update",
        "subject_type": "person",
        "subject_id": subject,
        "purpose": "kiểm thử",
        "detail": detail,
    }


def _audits(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(_AUDIT.c.subject_id, _AUDIT.c.detail, _AUDIT.c.occurred_at).order_by(
                    _AUDIT.c.id
                )
            )
        ]


def test_rows_written_and_read_are_those_of_sqlalchemy(engine: Engine) -> None:
    with engine.begin() as conn:
        _INSERT_AUDIT.run(conn, _entry("0100000001", field="địa chỉ", values=[1, None]))
        _INSERT_AUDIT.run(conn, [_entry("0100000002"), _entry("0100000003", n=3)])
        conn.execute(insert(models.AuditEntry), _entry("0100000004", by="sqlalchemy"))
        rows = _AUDITS_OF.rows(conn, {"p_subjects": ["0100000001", "0100000003", "0100000009"]})
        reference = list(
            conn.execute(_AUDITS_OF.statement, {"p_subjects": ["0100000001", "0100000003"]})
        )
    assert [tuple(r) for r in rows] == [tuple(r) for r in reference]
    assert rows[0].subject_id == "0100000001" and rows[0].detail == {
        "field": "địa chỉ",
        "values": [1, None],
    }
    written = _audits(engine)
    assert [(s, d) for s, d, _ in written] == [
        ("0100000001", {"field": "địa chỉ", "values": [1, None]}),
        ("0100000002", {}),
        ("0100000003", {"n": 3}),
        ("0100000004", {"by": "sqlalchemy"}),
    ]
    assert all(at is not None for _, _, at in written)


def test_a_column_left_out_gets_its_python_default(engine: Engine) -> None:
    entry = _entry("0100000005")
    del entry["detail"]  # the model's default: an empty object
    with engine.begin() as conn:
        _INSERT_AUDIT.run(conn, entry)
        _INSERT_AUDIT.run(conn, [entry, entry])
    assert [d for _, d, _ in _audits(engine)] == [{}, {}, {}]


def test_writes_go_with_the_callers_transaction(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        _INSERT_AUDIT.run(conn, _entry("0100000006"))
        raise RuntimeError("the caller fails after the write")
    assert _audits(engine) == []
    with engine.connect() as conn:  # autobegun like SQLAlchemy's: conn.commit() commits it
        _INSERT_AUDIT.run(conn, _entry("0100000007"))
        conn.commit()
    assert [s for s, _, _ in _audits(engine)] == ["0100000007"]


def test_returning_gives_the_row_or_none(engine: Engine) -> None:
    values = {"message_id": "m-1", "employer_code": "TA0001A", "kid": "k1"}
    with engine.begin() as conn:
        assert _CLAIM.one(conn, values).message_id == "m-1"
        assert _CLAIM.first(conn, values) is None
        with pytest.raises(LookupError):
            _CLAIM.one(conn, values)


def test_postgresql_runs_it_on_psycopg_and_other_engines_through_sqlalchemy(
    engine: Engine,
) -> None:
    statement = Direct(select(_AUDIT.c.id).where(_AUDIT.c.subject_id == bindparam("p_subject")))
    with engine.begin() as conn:
        assert statement.rows(conn, {"p_subject": "x"}) == []
    compiled = bool(statement._forms)
    assert compiled == (engine.dialect.name == "postgresql")


def test_a_statement_listener_sees_every_statement(engine: Engine) -> None:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.begin() as conn:
            _INSERT_AUDIT.run(conn, _entry("0100000008"))
            _AUDITS_OF.rows(conn, {"p_subjects": ["0100000008"]})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert any(s.startswith("INSERT INTO audit_log") for s in seen)
    assert any(s.startswith("SELECT audit_log.subject_id") for s in seen)


def test_a_connection_the_server_dropped_is_not_handed_out_again(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a server connection to drop: PostgreSQL")
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        conn.rollback()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        with pytest.raises(psycopg.OperationalError):
            _AUDITS_OF.rows(conn, {"p_subjects": ["0100000001"]})
        assert conn.invalidated
    with engine.begin() as conn:  # a fresh connection from the pool
        assert _AUDITS_OF.rows(conn, {"p_subjects": ["0100000001"]}) == []


@pytest.mark.parametrize("count", [2, MULTI_VALUES_ROWS, MULTI_VALUES_ROWS + 1])
def test_several_rows_are_written_in_their_order(engine: Engine, count: int) -> None:
    """A few rows are one INSERT with a VALUES row each, more an executemany: either way every
    row is written, in order (an outbox is delivered in the order of its ids)."""
    subjects = [f"01{n:08d}" for n in range(count)]
    with engine.begin() as conn:
        _INSERT_AUDIT.run(conn, [_entry(s, n=n) for n, s in enumerate(subjects)])
    assert [(s, d) for s, d, _ in _audits(engine)] == [
        (s, {"n": n}) for n, s in enumerate(subjects)
    ]


def test_a_column_sqlalchemy_would_convert_on_the_way_out_is_refused(engine: Engine) -> None:
    """psycopg's values are SQLAlchemy's for the register's types; a type SQLAlchemy converts
    when reading (here a Numeric read as float) would come back unconverted: refused."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite goes through SQLAlchemy")
    as_float = Direct(select(literal(1.5, Numeric(asdecimal=False)).label("x")))
    with engine.begin() as conn, pytest.raises(ValueError, match="result processing"):
        as_float.rows(conn, {})
