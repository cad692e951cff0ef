"""The first detection rules on a hand-built register, on SQLite and PostgreSQL.

Each rule has at least one true case and one near miss that must not raise an alert.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, update
from typer.testing import CliRunner

from nidb.cli import app
from nidb.detect import RULES, UnknownRule, run_detection
from nidb.store import models
from tests.seed import Register, register

A, B, C, E = "0100000001", "0100000002", "0100000003", "0100000005"
CARD_A, CARD_B = "HT4010100000001", "DN4790100000002"


def _card(reg: Register, card: str, code: str, province: str) -> None:
    """A card of ``code`` valid through 2025, in the group its code starts with."""
    reg.card(
        code,
        card[:2],
        card_code=card,
        province=province,
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
    )


def _visit(
    vid: str, card: str, code: str, facility: str, start: datetime, end: datetime, inpatient: bool
) -> dict[str, Any]:
    return {
        "visit_id": vid,
        "card_code": card,
        "bhxh_code": code,
        "facility_code": facility,
        "admitted_at": start,
        "discharged_at": end,
        "inpatient": inpatient,
        "icd10": "J18.9",
        "total_cost": 1_000_000,
        "insurer_paid": 800_000,
        "patient_paid": 200_000,
    }


def load_register(engine: Engine) -> None:
    """A (dead 2025-03-10, card in Hà Nội), B (alive, card in TP.HCM), C and E (dead)."""
    d = datetime
    people = [
        ("001050000001", A, "Nguyễn Văn An", date(2025, 3, 10)),
        ("079050000002", B, "Trần Thị Bình", None),
        ("001050000003", C, "Lê Văn Cường", date(2025, 1, 31)),
        ("001050000005", E, "Phạm Thị Em", date(2025, 2, 15)),
    ]
    with register(engine) as reg:
        for pid, _, name, died in people:
            reg.citizen(pid, name, "1950-01-01", birth_province="001", died=died)
        for pid, code, name, _ in people:
            reg.person(code, name, "1950-01-01", None, record_id=f"R{code}", verified=pid)
        _card(reg, CARD_A, A, "01")
        _card(reg, CARD_B, B, "79")
        reg.conn.execute(
            insert(models.HealthVisit),
            [
                # A: after death (alert); the day before and the day of death (near misses)
                _visit("A-after", CARD_A, A, "01001", d(2025, 3, 15, 9), d(2025, 3, 15, 11), False),
                _visit("A-before", CARD_A, A, "01001", d(2025, 3, 9, 9), d(2025, 3, 9, 11), False),
                _visit("A-same", CARD_A, A, "01002", d(2025, 3, 10, 8), d(2025, 3, 10, 9), True),
                # B: B-1 and B-2 overlap (alert); B-3 is a transfer starting as B-1 ends and
                # B-4 an outpatient visit during B-1 (near misses)
                _visit("B-1", CARD_B, B, "79001", d(2025, 1, 1, 8), d(2025, 1, 5, 10), True),
                _visit("B-2", CARD_B, B, "79002", d(2025, 1, 3, 9), d(2025, 1, 4, 12), True),
                _visit("B-3", CARD_B, B, "79003", d(2025, 1, 5, 10), d(2025, 1, 8, 10), True),
                _visit("B-4", CARD_B, B, "79004", d(2025, 1, 2, 9), d(2025, 1, 2, 10), False),
            ],
        )
        for code, kind, start, end, status in (
            (A, "pension", date(2015, 1, 1), None, "active"),  # alert
            (B, "pension", date(2015, 1, 1), None, "active"),  # alive: no
            (C, "pension", date(2015, 1, 1), date(2025, 1, 31), "stopped"),  # no
            (E, "pension", date(2015, 1, 1), date(2025, 6, 30), "stopped"),  # alert
            (E, "sickness", date(2024, 5, 1), date(2024, 5, 10), "ended"),  # no
        ):
            reg.benefit(code, kind, start, end=end, monthly=5_000_000, status=status)


def alerts(engine: Engine) -> list[models.Alert]:
    with engine.connect() as conn:
        return [
            models.Alert(**row._mapping)
            for row in conn.execute(select(models.Alert.__table__).order_by(models.Alert.id))
        ]


def test_each_rule_raises_its_true_case_and_not_its_near_miss(engine: Engine) -> None:
    load_register(engine)
    results = {r.rule.name: r for r in run_detection(engine)}
    assert {n: (len(r.findings), r.new) for n, r in results.items()} == {
        "card_after_death": (1, 1),
        "benefit_after_death": (2, 2),
        "overlapping_inpatient": (1, 1),
        "two_provinces_same_day": (0, 0),
        # too few visits, cards and no employers for the other rules to judge
        **{name: (0, 0) for name in list(RULES)[4:]},
    }
    held = {
        (a.kind, a.subject_type, a.subject_id, a.province, a.detail["evidence_key"])
        for a in alerts(engine)
    }
    benefit_ids = {
        code: i
        for code, i in engine.connect()
        .execute(
            select(models.Benefit.bhxh_code, models.Benefit.id).where(
                models.Benefit.kind == "pension"
            )
        )
        .all()
    }
    assert held == {
        ("card_after_death", "card", CARD_A, "01", "visit:A-after"),
        ("benefit_after_death", "person", A, "01", f"benefit:{benefit_ids[A]}"),
        ("benefit_after_death", "person", E, None, f"benefit:{benefit_ids[E]}"),
        ("overlapping_inpatient", "card", CARD_B, "79", "visits:B-1|B-2"),
    }
    card = next(a for a in alerts(engine) if a.kind == "card_after_death")
    assert card.status == "open"
    vi, en = str(card.detail["explanation_vi"]), str(card.detail["explanation_en"])
    assert "Nguyễn Văn An" in vi and "2025-03-15" in vi and "2025-03-10" in vi and "01001" in vi
    assert "5 day(s) after the holder's death on 2025-03-10" in en and CARD_A in en
    evidence = card.detail["evidence"]
    assert isinstance(evidence, dict) and evidence["visit_id"] == "A-after"
    overlap = next(a for a in alerts(engine) if a.kind == "overlapping_inpatient")
    assert "79001" in str(overlap.detail["explanation_en"])
    assert "79002" in str(overlap.detail["explanation_vi"])


def test_running_twice_adds_nothing_and_a_dismissed_alert_stays_dismissed(engine: Engine) -> None:
    load_register(engine)
    run_detection(engine)
    with engine.begin() as conn:
        conn.execute(
            update(models.Alert)
            .where(models.Alert.kind == "card_after_death")
            .values(status="dismissed")
        )
    again = run_detection(engine)
    assert [r.new for r in again] == [0] * len(RULES)
    assert [len(r.findings) for r in again] == [1, 2, 1, 0] + [0] * (len(RULES) - 4)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.Alert)).scalar() == 4
    # a new visit after death is a new alert on the same card
    with engine.begin() as conn:
        conn.execute(
            insert(models.HealthVisit),
            [
                _visit(
                    "A-later",
                    CARD_A,
                    A,
                    "01003",
                    datetime(2025, 4, 1, 9),
                    datetime(2025, 4, 1, 10),
                    False,
                )
            ],
        )
    third = run_detection(engine, ["card_after_death"])
    assert [(r.rule.name, len(r.findings), r.new) for r in third] == [("card_after_death", 2, 1)]


def test_unknown_rule_is_refused(engine: Engine) -> None:
    with pytest.raises(UnknownRule, match="no_such_rule"):
        run_detection(engine, ["no_such_rule"])


def test_cli_prints_a_row_per_rule_and_is_idempotent(engine: Engine, cli: CliRunner) -> None:
    load_register(engine)
    first = cli.invoke(app, ["detect", "--rules", "card_after_death,overlapping_inpatient"])
    assert first.exit_code == 0, first.output
    assert "Phát hiện trục lợi" in first.output
    assert "card_after_death" in first.output and "overlapping_inpatient" in first.output
    assert "benefit_after_death" not in first.output
    second = cli.invoke(app, ["detect"])
    assert second.exit_code == 0, second.output
    assert "benefit_after_death" in second.output
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.Alert)).scalar() == 4
    bad = cli.invoke(app, ["detect", "--rules", "nope"])
    assert bad.exit_code == 2
    assert "nope" in bad.output


def test_one_card_in_two_provinces_within_hours_is_an_alert_and_a_day_apart_is_not(
    engine: Engine,
) -> None:
    load_register(engine)
    d = datetime  # the hospital's local time, as imported
    with engine.begin() as conn:
        conn.execute(
            insert(models.HealthVisit),
            [
                _visit("D-1", CARD_B, B, "79001", d(2025, 2, 1, 1), d(2025, 2, 1, 2), False),
                _visit("D-2", CARD_B, B, "01005", d(2025, 2, 1, 3), d(2025, 2, 1, 4), False),
                # near misses: same province; 10 hours later; 13.5 hours later
                _visit("D-3", CARD_B, B, "79010", d(2025, 2, 1, 5), d(2025, 2, 1, 6), False),
                _visit("D-4", CARD_B, B, "01006", d(2025, 2, 1, 14), d(2025, 2, 1, 15), False),
                _visit("D-5", CARD_B, B, "01007", d(2025, 2, 1, 17, 30), d(2025, 2, 1, 18), False),
            ],
        )
    results = {r.rule.name: r for r in run_detection(engine, ["two_provinces_same_day"])}
    found = results["two_provinces_same_day"].findings
    assert [f.evidence_key for f in found] == ["visits:D-1|D-2", "visits:D-2|D-3"]
    assert all(f.subject_id == CARD_B and f.province == "79" for f in found)
    assert "60 minutes later" in found[0].explanation_en
    assert "tỉnh 01" in found[0].explanation_vi


def test_two_provinces_uses_the_local_day_of_the_visits(engine: Engine) -> None:
    load_register(engine)
    d = datetime
    with engine.begin() as conn:
        conn.execute(
            insert(models.HealthVisit),
            [  # late afternoon, local time: the same day in Vietnam
                _visit(
                    "E-1", CARD_B, B, "79001", d(2025, 2, 3, 16, 0), d(2025, 2, 3, 16, 30), False
                ),
                _visit("E-2", CARD_B, B, "01005", d(2025, 2, 3, 17, 30), d(2025, 2, 3, 18), False),
                # just after midnight: another day, not an alert with E-2
                _visit(
                    "E-3", CARD_B, B, "79002", d(2025, 2, 4, 0, 10), d(2025, 2, 4, 0, 40), False
                ),
            ],
        )
    found = next(iter(run_detection(engine, ["two_provinces_same_day"]))).findings
    assert [f.evidence_key for f in found] == ["visits:E-1|E-2"]
