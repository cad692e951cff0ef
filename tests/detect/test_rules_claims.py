"""Claims and cost rules on hand-built visits, on SQLite and PostgreSQL: each rule raises its
true case and not its near misses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from nidb.detect import run_detection
from nidb.store import models
from tests.detect.test_rules import _card as _add_card
from tests.detect.test_rules import _visit
from tests.seed import register


def _card(card: str, code: str, province: str) -> dict[str, str]:
    return {"card_code": card, "bhxh_code": code, "province": province}


def _insert(engine: Engine, cards: list[dict[str, str]], visits: list[dict[str, Any]]) -> None:
    with register(engine) as reg:
        for card in cards:
            _add_card(reg, card["card_code"], card["bhxh_code"], card["province"])
        if visits:
            reg.conn.execute(insert(models.HealthVisit), visits)


def _findings(engine: Engine, rule: str) -> list[Any]:
    return next(r for r in run_detection(engine, [rule])).findings


def _cost_visit(vid: str, card: str, facility: str, day: int, icd: str, cost: int) -> dict:  # type: ignore[type-arg]
    start = datetime(2025, 1, 1, 8) + timedelta(days=day)
    visit = _visit(vid, card, card[-10:], facility, start, start + timedelta(hours=1), False)
    return {
        **visit,
        "icd10": icd,
        "total_cost": cost,
        "insurer_paid": cost * 4 // 5,
        "patient_paid": cost - cost * 4 // 5,
    }


def _spread(k: int) -> int:
    """Costs around 250,000 đồng, spread like a log-normal (a fixed, repeatable pattern)."""
    return int(250_000 * 1.3 ** ((k * 7) % 11 - 5))


CARD = "DN4790100000002"


def test_the_same_claim_twice_is_one_alert_and_near_misses_are_not(engine: Engine) -> None:
    d = datetime
    base = _visit("V-1", CARD, CARD[-10:], "79001", d(2025, 3, 1, 8), d(2025, 3, 1, 9), False)
    stay = _visit("S-1", CARD, CARD[-10:], "79002", d(2025, 4, 1, 8), d(2025, 4, 5, 9), True)
    _insert(
        engine,
        [_card(CARD, CARD[-10:], "79")],
        [
            base,
            {
                **base,
                "visit_id": "V-2",
                "admitted_at": d(2025, 3, 1, 8, 20),
                "total_cost": 1_005_000,
            },  # the same claim again, 0.5% more: alert
            {**base, "visit_id": "V-3", "total_cost": 1_200_000},  # 20% more: no
            {**base, "visit_id": "V-4", "facility_code": "79009"},  # another facility: no
            {**base, "visit_id": "V-5", "admitted_at": d(2025, 3, 2, 8)},  # next day: no
            {**base, "visit_id": "V-6", "icd10": "I10"},  # another diagnosis: no
            stay,
            {**stay, "visit_id": "S-2"},  # an inpatient stay claimed twice: alert, no overlap
        ],
    )
    results = {r.rule.name: r for r in run_detection(engine)}
    found = results["duplicate_claim"].findings
    assert [f.evidence_key for f in found] == ["visits:S-1|S-2", "visits:V-1|V-2"]
    assert all(f.subject_id == CARD and f.province == "79" for f in found)
    assert "hai lần" in found[1].explanation_vi and "J18.9" in found[1].explanation_en
    assert "1,005,000" in found[1].explanation_en
    assert results["overlapping_inpatient"].findings == []


def test_a_visit_costing_hundreds_of_times_its_chapter_is_an_outlier(engine: Engine) -> None:
    cards = [_card(f"DN47901{i:08d}", f"01{i:08d}", "79") for i in range(45)]
    visits = [
        _cost_visit(f"P-{i}", c["card_code"], "79001", i, "J06.9", _spread(i))
        for i, c in enumerate(cards[:40])
    ]
    visits += [
        _cost_visit("X-big", cards[40]["card_code"], "79002", 3, "J20.9", 800_000_000),
        _cost_visit("X-tenfold", cards[41]["card_code"], "79002", 4, "J02.9", 2_500_000),
        # another chapter with too few peers to judge: never an outlier
        _cost_visit("Y-alone", cards[42]["card_code"], "79002", 5, "I10", 900_000_000),
    ]
    _insert(engine, cards, visits)
    found = _findings(engine, "cost_outlier")
    assert [(f.subject_type, f.subject_id, f.province) for f in found] == [("visit", "X-big", "79")]
    assert "chương X" in found[0].explanation_vi and "chapter X" in found[0].explanation_en
    assert found[0].evidence["z"] >= 6


def test_a_facility_billing_a_chapter_five_times_its_peers_is_an_outlier(
    engine: Engine,
) -> None:
    cards = [_card(f"DN47901{i:08d}", f"01{i:08d}", "79") for i in range(40)]
    visits = []
    for f in range(7):
        facility = f"79{f + 1:03d}"
        factor = 5 if f == 0 else 1
        visits += [
            _cost_visit(
                f"F{f}-{k}",
                cards[k]["card_code"],
                facility,
                f * 50 + k,
                "J06.9",
                _spread(k + f) * factor,
            )
            for k in range(35)
        ]
    # a small facility billing high: too few visits to judge
    visits += [
        _cost_visit(f"G-{k}", cards[k]["card_code"], "79100", 400 + k, "J06.9", 5 * _spread(k))
        for k in range(10)
    ]
    _insert(engine, cards, visits)
    found = _findings(engine, "facility_cost_outlier")
    assert [(f.subject_id, f.evidence_key, f.province) for f in found] == [
        ("79001", "chapter:X|outpatient", "79")
    ]
    assert "gấp 5.0 lần" in found[0].explanation_vi


def test_a_card_used_far_more_often_than_its_peers_is_an_outlier(engine: Engine) -> None:
    codes = [f"01{i:08d}" for i in range(40)]
    cards = [_card(f"DN40101{c[2:]}", c, "01") for c in codes]
    with register(engine) as reg:
        for c in codes:
            reg.person(c, "A", "1990-01-01", None, record_id=f"R{c}", name_base="A")
    counts = {0: 30, 1: 9}  # card 0: 30 visits (alert); card 1: 9 (under the floor of 12)
    visits = []
    for i, card in enumerate(cards):
        for k in range(counts.get(i, i % 3)):
            visits.append(
                _cost_visit(f"C{i}-{k}", card["card_code"], "01001", k * 5, "J06.9", 200_000)
            )
    _insert(engine, cards, visits)
    found = _findings(engine, "visits_per_card_outlier")
    assert [(f.subject_id, f.province) for f in found] == [(cards[0]["card_code"], "01")]
    assert found[0].evidence["visits"] == 30 and found[0].evidence["age_band"] == "18-39"
    assert "30 lượt" in found[0].explanation_vi


def test_rules_find_nothing_in_an_empty_register(engine: Engine) -> None:
    results = run_detection(engine)
    assert len(results) == 10 and all(r.findings == [] for r in results)
