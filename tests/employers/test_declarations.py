"""Declarations (D02-LT / TK1-TS): each kind, checked against the register and the population
data, applied in one transaction with audit and outbox events (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from nidb.employers.codes import issue_bhxh_code
from nidb.employers.declarations import Outcome, submit
from nidb.store import models
from nidb.store.models_employers import EmployerDeclaration, IssuedBhxhCode
from nidb.store.models_employment import DeclaredWage
from tests.employers.support import (
    EMPLOYER,
    OTHER_EMPLOYER,
    increase,
    new_worker,
    seed_employers,
)
from tests.seed import register

BINH, CUONG, DUC = "001090000101", "001092000202", "079088000303"


@pytest.fixture
def employers(engine: Engine) -> Engine:
    seed_employers(engine)
    return engine


def _submit(engine: Engine, body: dict[str, Any], employer: str = EMPLOYER) -> Outcome:
    with engine.begin() as conn:
        return submit(conn, employer, body, actor="test", channel="api")


def _rows(engine: Engine, table: Any, **where: Any) -> list[Any]:
    with engine.connect() as conn:
        query = select(table.__table__)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return list(conn.execute(query))


def _wages(engine: Engine, pid: str) -> list[tuple[date, date | None, int]]:
    return sorted(
        (r.from_month, r.to_month, r.wage) for r in _rows(engine, DeclaredWage, personal_id=pid)
    )


def test_an_increase_issues_a_code_opens_wages_periods_and_a_card(employers: Engine) -> None:
    outcome = _submit(employers, increase("D02-001", new_worker(BINH), new_worker(CUONG)))
    assert outcome.status == "applied", outcome.errors
    codes = {r["personal_id"]: r["bhxh_code"] for r in outcome.results}
    assert len(set(codes.values())) == 2 and all(c.startswith("01") for c in codes.values())
    assert _wages(employers, BINH) == [(date(2026, 11, 1), None, 9_000_000)]
    periods = _rows(employers, models.ParticipationPeriod, bhxh_code=codes[BINH])
    assert sorted(p.scheme for p in periods) == ["BHTN", "BHXH", "BHYT"]
    assert {(p.participant_type, p.start_month, p.end_month) for p in periods} == {
        ("DN", date(2026, 11, 1), None)
    }
    (card,) = _rows(employers, models.HealthCard, bhxh_code=codes[BINH])
    assert card.card_code == f"DN401{codes[BINH]}" and card.facility_code == "01001"
    assert (card.valid_from, card.valid_to, card.status) == (
        date(2026, 11, 1),
        date(2026, 12, 31),
        "active",
    )
    person = _rows(employers, models.Person, bhxh_code=codes[BINH])[0]
    assert person.verified_personal_id == BINH and person.full_name == "Trần Thị Bình"
    issued = _rows(employers, IssuedBhxhCode, bhxh_code=codes[BINH])
    assert issued[0].personal_id == BINH
    with employers.connect() as conn:
        topics = conn.execute(select(models.OutboxEvent.topic)).scalars().all()
        actions = conn.execute(select(models.AuditEntry.action)).scalars().all()
    assert topics.count("employment.worker_increased") == 2 and "card.issued" in topics
    assert "employer.declaration_applied" in actions


def test_a_known_participant_keeps_the_code_the_register_holds(employers: Engine) -> None:
    with register(employers) as reg:
        reg.person("0112345678", "Lê Văn Cường", "1992-11-03", declared_id=CUONG, verified=CUONG)
    outcome = _submit(employers, increase("D02-002", new_worker(CUONG, bhxh_code="0112345678")))
    assert outcome.results[0]["bhxh_code"] == "0112345678"
    assert outcome.results[0]["new_code"] is False
    wrong = _submit(employers, increase("D02-003", new_worker(BINH, bhxh_code="0112345678")))
    assert [e["rule"] for e in wrong.errors] == ["BHXH_CODE_NOT_THEIRS"]


def test_workers_read_together_each_keep_their_own_code(employers: Engine) -> None:
    """A declaration's checks read all its workers at once (codes, population records, runs):
    a verified code, a code known only by an open link and none stay each with their worker,
    and the reads do not grow with the number of workers."""
    with register(employers) as reg:
        reg.person("0112345678", "Lê Văn Cường", "1992-11-03", declared_id=CUONG, verified=CUONG)
        reg.link("0187654321", DUC, source="declared")
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(employers, "before_cursor_execute", record)
    try:
        outcome = _submit(
            employers, increase("D02-050", new_worker(BINH), new_worker(CUONG), new_worker(DUC))
        )
    finally:
        event.remove(employers, "before_cursor_execute", record)
    assert outcome.status == "applied", outcome.errors
    codes = {r["personal_id"]: (r["bhxh_code"], r["new_code"]) for r in outcome.results}
    assert codes[CUONG] == ("0112345678", False) and codes[DUC] == ("0187654321", False)
    assert codes[BINH][1] is True and codes[BINH][0] not in ("0112345678", "0187654321")
    reads = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT")
        and ("FROM citizens" in s or "FROM identity_links" in s)
    ]
    assert len(reads) == 2, reads  # the population records, and the codes of all three


def test_the_worker_must_match_the_population_data(employers: Engine) -> None:
    body = increase(
        "D02-010",
        new_worker(BINH, full_name="Trần Thị Bính"),
        new_worker(CUONG, date_of_birth="1993-11-03"),
        {**new_worker(DUC), "personal_id": "001099999999"},
        {**new_worker(DUC), "wage": -5, "contract_type": "forever", "facility_code": ""},
    )
    outcome = _submit(employers, body)
    assert outcome.status == "refused"
    found = {(e["row"], e["field"], e["rule"]) for e in outcome.errors}
    assert {
        (1, "full_name", "NAME_MISMATCH"),
        (2, "date_of_birth", "BIRTH_DATE_MISMATCH"),
        (3, "personal_id", "PERSON_NOT_IN_POPULATION"),
        (4, "wage", "WAGE_INVALID"),
        (4, "contract_type", "CONTRACT_TYPE"),
        (4, "facility_code", "FACILITY_CODE"),
    } <= found
    error = next(e for e in outcome.errors if e["rule"] == "NAME_MISMATCH")
    assert error["value"] == "Trần Thị Bính" and "dân cư" in error["message_vi"]
    assert "population" in error["message_en"]
    assert _rows(employers, DeclaredWage) == [] and _rows(employers, models.HealthCard) == []


def test_a_name_written_without_tones_still_matches(employers: Engine) -> None:
    outcome = _submit(employers, increase("D02-011", new_worker(BINH, full_name="TRAN THI BINH")))
    assert outcome.status == "applied", outcome.errors


def test_a_refused_declaration_is_corrected_and_sent_again_under_its_number(
    employers: Engine,
) -> None:
    bad = _submit(employers, increase("D02-020", new_worker(BINH, wage=0)))
    assert bad.status == "refused"
    good = _submit(employers, increase("D02-020", new_worker(BINH)))
    assert good.status == "applied" and good.declaration_id == bad.declaration_id
    again = _submit(employers, increase("D02-020", new_worker(BINH)))
    assert again.repeated and again.results == good.results
    assert len(_wages(employers, BINH)) == 1
    other = _submit(employers, increase("D02-020", new_worker(CUONG)))
    assert [e["rule"] for e in other.errors] == ["DECLARATION_NO_USED"]
    (row,) = _rows(employers, EmployerDeclaration, declaration_no="D02-020")
    assert (row.status, row.attempts) == ("applied", 2)


def test_a_worker_is_not_increased_twice(employers: Engine) -> None:
    _submit(employers, increase("D02-030", new_worker(BINH)))
    twice = _submit(employers, increase("D02-031", new_worker(BINH), month="2026-12"))
    assert [e["rule"] for e in twice.errors] == ["WORKER_ALREADY_DECLARED"]
    dup = _submit(employers, increase("D02-032", new_worker(CUONG), new_worker(CUONG)))
    assert [e["rule"] for e in dup.errors] == ["DUPLICATE_IN_DECLARATION"]


def test_full_time_at_two_employers_in_the_same_months_is_flagged(employers: Engine) -> None:
    _submit(employers, increase("A-1", new_worker(DUC)))
    outcome = _submit(employers, increase("B-1", new_worker(DUC), month="2026-12"), OTHER_EMPLOYER)
    assert outcome.status == "applied"
    assert [f["rule"] for f in outcome.flags] == ["DOUBLE_FULL_TIME"]
    alerts = _rows(employers, models.Alert, kind="double_full_time")
    assert alerts[0].province == "79" and alerts[0].detail["employer_code"] == OTHER_EMPLOYER
    part_time = _submit(
        employers, increase("B-2", new_worker(BINH, full_time=False)), OTHER_EMPLOYER
    )
    assert part_time.flags == []


def test_a_salary_change_splits_the_run(employers: Engine) -> None:
    _submit(employers, increase("D02-040", new_worker(BINH), month="2026-09"))
    change = {
        "declaration_no": "D02-041",
        "kind": "salary_change",
        "month": "2026-11",
        "workers": [{"personal_id": BINH, "wage": 11_500_000}],
    }
    assert _submit(employers, change).status == "applied"
    assert _wages(employers, BINH) == [
        (date(2026, 9, 1), date(2026, 10, 1), 9_000_000),
        (date(2026, 11, 1), None, 11_500_000),
    ]
    early = {**change, "declaration_no": "D02-042", "month": "2026-08"}
    assert [e["rule"] for e in _submit(employers, early).errors] == ["CHANGE_BEFORE_START"]


def _decrease(number: str, reason: str, month: str = "2027-02") -> dict[str, Any]:
    return {
        "declaration_no": number,
        "kind": "decrease",
        "month": month,
        "workers": [{"personal_id": BINH, "reason": reason}],
    }


def test_a_contract_end_closes_wages_periods_and_the_card(employers: Engine) -> None:
    code = _submit(employers, increase("D02-050", new_worker(BINH))).results[0]["bhxh_code"]
    with employers.begin() as conn:  # the card renewed for the next year
        conn.execute(models.HealthCard.__table__.update().values(valid_to=date(2027, 12, 31)))
    outcome = _submit(employers, _decrease("D02-051", "contract_end"))
    assert outcome.status == "applied", outcome.errors
    assert _wages(employers, BINH) == [(date(2026, 11, 1), date(2027, 1, 1), 9_000_000)]
    periods = _rows(employers, models.ParticipationPeriod, bhxh_code=code)
    assert {p.end_month for p in periods} == {date(2027, 1, 1)}
    (card,) = _rows(employers, models.HealthCard, bhxh_code=code)
    assert (card.valid_to, card.status) == (date(2027, 1, 31), "active")
    again = _submit(employers, _decrease("D02-052", "contract_end"))
    assert [e["rule"] for e in again.errors] == ["WORKER_NOT_DECLARED"]


def test_maternity_leave_stops_wages_but_keeps_cover(employers: Engine) -> None:
    code = _submit(employers, increase("D02-060", new_worker(BINH))).results[0]["bhxh_code"]
    assert _submit(employers, _decrease("D02-061", "maternity", "2026-12")).status == "applied"
    assert _wages(employers, BINH) == [(date(2026, 11, 1), date(2026, 11, 1), 9_000_000)]
    periods = _rows(employers, models.ParticipationPeriod, bhxh_code=code)
    assert {p.end_month for p in periods} == {None}
    back = _submit(employers, increase("D02-062", new_worker(BINH), month="2027-06"))
    assert back.status == "applied" and back.results[0]["bhxh_code"] == code


def test_a_decrease_must_follow_the_start_and_name_a_known_reason(employers: Engine) -> None:
    _submit(employers, increase("D02-070", new_worker(BINH)))
    same_month = _submit(employers, _decrease("D02-071", "death", "2026-11"))
    assert [e["rule"] for e in same_month.errors] == ["DECREASE_BEFORE_START"]
    unknown = _submit(employers, _decrease("D02-072", "holiday"))
    assert [e["rule"] for e in unknown.errors] == ["DECREASE_REASON"]


def test_death_revokes_the_card(employers: Engine) -> None:
    code = _submit(employers, increase("D02-080", new_worker(BINH))).results[0]["bhxh_code"]
    assert _submit(employers, _decrease("D02-081", "death", "2026-12")).status == "applied"
    (card,) = _rows(employers, models.HealthCard, bhxh_code=code)
    assert card.status == "revoked"


def test_a_correction_brings_the_record_to_the_population_data(employers: Engine) -> None:
    with register(employers) as reg:
        reg.person("0112345678", "Le Van Cuong", "1992", declared_id=CUONG, verified=CUONG)
    _submit(employers, increase("D02-090", new_worker(CUONG)))
    fix = {
        "declaration_no": "D02-091",
        "kind": "correction",
        "workers": [
            {"personal_id": CUONG, "full_name": "Lê Văn Cường", "date_of_birth": "03/11/1992"}
        ],
    }
    outcome = _submit(employers, fix)
    assert outcome.status == "applied", outcome.errors
    (person,) = _rows(employers, models.Person, bhxh_code="0112345678")
    assert (person.full_name, person.date_of_birth) == ("Lê Văn Cường", "1992-11-03")
    wrong = {
        **fix,
        "declaration_no": "D02-092",
        "workers": [{"personal_id": CUONG, "date_of_birth": "1991-01-01"}],
    }
    assert [e["rule"] for e in _submit(employers, wrong).errors] == ["BIRTH_DATE_MISMATCH"]


def test_register_unit_updates_the_employer(employers: Engine) -> None:
    body = {
        "declaration_no": "TK3-1",
        "kind": "register_unit",
        "unit": {"address": "12 Hàng Bài, Hà Nội", "registered_workers": 25},
    }
    assert _submit(employers, body).status == "applied"
    (employer,) = _rows(employers, models.Employer, employer_code=EMPLOYER)
    assert (employer.address, employer.registered_workers) == ("12 Hàng Bài, Hà Nội", 25)
    bad = {**body, "declaration_no": "TK3-2", "unit": {"registered_workers": -1, "x": 1}}
    assert {e["rule"] for e in _submit(employers, bad).errors} == {
        "WORKERS_NUMBER",
        "FIELD_UNKNOWN",
    }


def test_a_closed_employer_cannot_declare(employers: Engine) -> None:
    with employers.begin() as conn:
        conn.execute(models.Employer.__table__.update().values(status="closed"))
    assert [e["rule"] for e in _submit(employers, increase("Z", new_worker(BINH))).errors] == [
        "EMPLOYER_NOT_ACTIVE"
    ]


def test_an_issued_code_is_never_issued_again(employers: Engine) -> None:
    with register(employers) as reg:
        reg.person("0100000101", "Ai Đó", "1970")
    with employers.begin() as conn:
        first = issue_bhxh_code(conn, BINH, "01", "test")
        second = issue_bhxh_code(conn, BINH, "01", "test")
        assert first != second and "0100000101" not in (first, second)
        count = conn.execute(select(func.count()).select_from(IssuedBhxhCode)).scalar()
    assert count == 2


def test_a_code_held_by_any_table_is_held(employers: Engine) -> None:
    from nidb.employers.codes import is_held

    with register(employers) as reg:
        reg.card("0199999999", valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))
        reg.link("0188888888", BINH, source="declared")
    with employers.connect() as conn:
        assert is_held(conn, "0199999999") and is_held(conn, "0188888888")
        assert not is_held(conn, "0177777777")
