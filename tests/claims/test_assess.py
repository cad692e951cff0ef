"""The automatic assessment explains every reduction and pays whole đồng by the card's level."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from nidb.claims.assess import assess_claims
from nidb.claims.catalogue import import_catalogue
from nidb.claims.intake import submit_claims
from nidb.sim.generate.claims import ClaimDraft, LineDraft, envelope, write_catalogues, xml_tables
from nidb.store.models_claims import Claim, ClaimLine
from tests import seed

TODAY = date.today()
DAY = datetime.now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=2)
YEAR = (date(TODAY.year, 1, 1), date(TODAY.year, 12, 31))
LAST_YEAR = (date(TODAY.year - 1, 1, 1), date(TODAY.year - 1, 12, 31))
CARDS = {  # bhxh code: (group, level, facility, validity, status)
    "0100000001": ("DN", 4, "01001", YEAR, "active"),
    "0100000002": ("DN", 4, "01001", LAST_YEAR, "active"),
    "0100000003": ("DN", 4, "01001", YEAR, "suspended"),
    "0100000004": ("HT", 3, "01005", YEAR, "active"),
    "0100000005": ("DN", 4, "01001", YEAR, "active"),  # five continuous years since 2015
}
EXAM = LineDraft("service", "02.1896", "Khám bệnh", "1", 42_100)
CT = LineDraft("service", "18.0200", "Chụp CT sọ não", "1", 522_000)
PARACETAMOL = LineDraft("drug", "40.17", "Paracetamol 500mg", "10", 350)


def card(bhxh: str) -> str:
    group, level, _facility, _valid, _status = CARDS[bhxh]
    return f"{group}{level}01{bhxh}"


@pytest.fixture
def register(engine: Engine, tmp_path: Path) -> Engine:
    with seed.register(engine) as reg:
        for bhxh, (group, level, facility, (start, end), status) in CARDS.items():
            reg.card(
                bhxh,
                group,
                valid_from=start,
                valid_to=end,
                level=level,
                facility=facility,
                status=status,
                five_years_from=date(2015, 1, 1) if bhxh == "0100000005" else None,
            )
    for kind, path in write_catalogues(tmp_path, ["01"]).items():
        import_catalogue(engine, kind, path, "test")
    return engine


def submit(engine: Engine, facility: str, *drafts: ClaimDraft) -> dict[str, Any]:
    with engine.begin() as conn:
        answer = submit_claims(
            conn, f"VN/GOV/BYT/BV-{facility}", envelope(facility, [xml_tables(d) for d in drafts])
        )
    assert answer.body["rejected"] == 0, answer.body
    return answer.body


def draft(ma_lk: str, bhxh: str, lines: list[LineDraft], **change: Any) -> ClaimDraft:
    values: dict[str, Any] = {
        "ma_lk": ma_lk,
        "facility": "01001",
        "card_code": card(bhxh),
        "registered_facility": CARDS[bhxh][2],
        "admitted": DAY,
        "discharged": DAY + timedelta(hours=2),
        "inpatient": False,
        "lines": lines,
    }
    values.update(change)
    return ClaimDraft(**values)


def outcome(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        claims = {r.id: dict(r._mapping) for r in conn.execute(select(Claim.__table__))}
        for line in conn.execute(select(ClaimLine.__table__).order_by(ClaimLine.line_no)):
            claims[line.claim_id].setdefault("lines", []).append(dict(line._mapping))
    return {c["ma_lk"]: c for c in claims.values()}


def test_each_claim_ends_accepted_reduced_or_rejected_with_its_reason(register: Engine) -> None:
    submit(
        register,
        "01001",
        draft("CLEAN", "0100000001", [EXAM, CT]),
        draft(
            "CHEAP",
            "0100000001",
            [EXAM, PARACETAMOL],
            admitted=DAY - timedelta(days=1),
            discharged=DAY - timedelta(days=1) + timedelta(hours=1),
        ),
        draft(
            "OVERPRICED",
            "0100000001",
            [CT, LineDraft("drug", "40.17", "Paracetamol", "10", 500)],
            admitted=DAY - timedelta(days=3),
            discharged=DAY - timedelta(days=3) + timedelta(hours=1),
        ),
        draft(
            "TWICE",
            "0100000001",
            [CT, EXAM, EXAM],
            admitted=DAY - timedelta(days=4),
            discharged=DAY - timedelta(days=4) + timedelta(hours=1),
        ),
        draft(
            "UNLISTED",
            "0100000001",
            [CT, LineDraft("drug", "99.9999", "Thuốc lạ", "2", 150_000)],
            admitted=DAY - timedelta(days=5),
            discharged=DAY - timedelta(days=5) + timedelta(hours=1),
        ),
        draft("EXPIRED", "0100000002", [EXAM]),
        draft("SUSPENDED", "0100000003", [EXAM]),
        draft("WRONGROUTE", "0100000004", [CT], route_code="3"),
        draft(
            "EMERGENCY",
            "0100000004",
            [CT],
            route_code="2",
            admitted=DAY - timedelta(days=6),
            discharged=DAY - timedelta(days=6) + timedelta(hours=1),
        ),
    )
    result = assess_claims(register, "test")
    assert result.by_outcome == {"accepted": 3, "reduced": 4, "rejected": 2}
    got = outcome(register)

    clean = got["CLEAN"]  # 564,100 đồng > 15% of the base salary: the DN card's 80%
    assert (clean["outcome"], clean["accepted_total"]) == ("accepted", 564_100)
    assert clean["insurer_total"] == 33_680 + 417_600
    assert got["CHEAP"]["insurer_total"] == got["CHEAP"]["accepted_total"] == 45_600  # < 15%: 100%

    over = got["OVERPRICED"]
    assert over["outcome"] == "reduced" and over["accepted_total"] == 522_000 + 3_500
    (reduction,) = over["lines"][0]["reductions"]  # drugs (XML2) come first
    assert reduction["rule"] == "over_price" and reduction["amount"] == 1_500
    assert "giảm trừ 1.500 đồng" in reduction["explanation_vi"]

    twice = got["TWICE"]["lines"]
    assert twice[2]["accepted_amount"] == 0
    assert twice[2]["reductions"][0]["rule"] == "duplicate_line"
    assert "trùng dòng 2" in twice[2]["reductions"][0]["explanation_vi"]

    unlisted = got["UNLISTED"]["lines"][0]["reductions"][0]
    assert unlisted["rule"] == "not_in_catalogue" and unlisted["amount"] == 300_000

    for key, rule in (("EXPIRED", "card_invalid"), ("SUSPENDED", "card_suspended")):
        assert got[key]["outcome"] == "rejected" and got[key]["insurer_total"] == 0
        assert got[key]["reasons"][0]["rule"] == rule
        assert "từ chối" in got[key]["reasons"][0]["explanation_vi"]

    wrong = got["WRONGROUTE"]  # outpatient at a central hospital, not referred: nothing paid
    assert wrong["outcome"] == "reduced" and wrong["accepted_total"] == 0
    assert wrong["lines"][0]["reductions"][0]["rule"] == "wrong_route"
    emergency = got["EMERGENCY"]  # the same at an emergency: the HT card's 95%
    assert emergency["outcome"] == "accepted" and emergency["insurer_total"] == 495_900


def test_the_later_of_two_overlapping_inpatient_stays_is_rejected_with_detects_rule(
    register: Engine,
) -> None:
    stay = [LineDraft("service", "03.1900", "Ngày giường", "3", 199_100)]
    start = DAY - timedelta(days=10)
    submit(
        register,
        "01001",
        draft(
            "STAY1",
            "0100000001",
            stay,
            inpatient=True,
            admitted=start,
            discharged=start + timedelta(days=3),
        ),
    )
    submit(
        register,
        "01002",
        draft(
            "STAY2",
            "0100000001",
            stay,
            facility="01002",
            inpatient=True,
            admitted=start + timedelta(days=1),
            discharged=start + timedelta(days=2),
            route_code="1",
            referral=True,
        ),
    )
    assess_claims(register, "test")
    got = outcome(register)
    assert got["STAY1"]["outcome"] == "accepted"
    assert got["STAY2"]["outcome"] == "rejected"
    reason = got["STAY2"]["reasons"][0]
    assert reason["rule"] == "overlapping_inpatient"
    assert "nội trú chồng lấn" in reason["explanation_vi"]


def test_a_resubmitted_claim_is_assessed_again_and_an_assessed_one_is_left_alone(
    register: Engine,
) -> None:
    submit(register, "01001", draft("A", "0100000001", [CT, CT]))
    assess_claims(register, "test")
    assert outcome(register)["A"]["outcome"] == "reduced"
    assert len(assess_claims(register, "test").claims) == 0
    submit(register, "01001", draft("A", "0100000001", [CT]))
    again = assess_claims(register, "test")
    assert len(again.claims) == 1 and outcome(register)["A"]["outcome"] == "accepted"


def test_five_continuous_years_and_the_years_copayments_above_six_base_salaries_pay_in_full(
    register: Engine,
) -> None:
    albumin = LineDraft("drug", "40.32", "Human albumin 20% 50ml", "120", 650_000)
    earlier = DAY - timedelta(days=20)
    submit(
        register,
        "01001",
        draft(
            "BIG",
            "0100000005",
            [albumin],
            admitted=earlier,
            discharged=earlier + timedelta(hours=3),
        ),
        draft("AFTER", "0100000005", [CT]),
        draft("OTHER", "0100000001", [CT]),  # same cost, no five years: 80%
    )
    assess_claims(register, "test")
    got = outcome(register)
    assert got["BIG"]["insurer_total"] == 78_000_000 * 50 // 100 * 80 // 100  # ratio 50%, 80%
    assert got["AFTER"]["insurer_total"] == 522_000  # the co-payments passed 14.040.000 đồng
    assert got["OTHER"]["insurer_total"] == 417_600
