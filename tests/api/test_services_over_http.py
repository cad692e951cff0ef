"""Partner services answer signed requests with signed replies, filtered by grant."""

from __future__ import annotations

from datetime import date

from nidb.accesslog import access_history, verify_chain
from tests.conftest import HOSPITAL, MINISTRY, Exchange
from tests.seed import BHXH, PID

CARD = {
    "card_code": f"DN401{BHXH}",
    "full_name": "NGUYỄN VĂN AN",
    "date_of_birth": "17/03/1985",
    "gender": "Nam",
}


def test_a_hospital_checks_a_valid_card_and_gets_a_signed_answer(exchange: Exchange) -> None:
    reply = exchange.client().call("card.check/v1", "KCB", CARD)
    assert reply.status == 200
    assert reply.body["result_code"] == "000" and reply.body["valid"] is True
    card = reply.body["card"]
    assert card["facility_code"] == "01001" and card["benefit_level"] == 4
    assert card["five_years_reached"] is True
    assert reply.header["in_reply_to"] and reply.header["sender"] == "VN/GOV/BHXH/CSDLBH"


def test_card_check_codes_name_birth_date_gender_and_unknown_card(exchange: Exchange) -> None:
    client = exchange.client()
    cases = [
        ({"full_name": "Nguyễn Văn Bình"}, "061"),
        ({"full_name": "Trần Văn An"}, "060"),
        ({"date_of_birth": "1986"}, "070"),
        ({"date_of_birth": "1985"}, "000"),  # year-only agrees with the full date
        ({"gender": "Nữ"}, "080"),
        ({"card_code": "DN4019999999999"}, "050"),
        ({"card_code": "HT301" + BHXH}, "054"),
        ({"card_code": "DN479" + BHXH}, "052"),
        ({"card_code": BHXH}, "000"),  # the BHXH code alone is the card number since 2021
        ({"visit_date": date(date.today().year + 1, 1, 5).isoformat()}, "010"),
    ]
    for change, expected in cases:
        reply = client.call("card.check/v1", "KCB", {**CARD, **change})
        assert reply.body["result_code"] == expected, change


def test_a_ministry_reads_only_the_groups_it_holds(exchange: Exchange) -> None:
    client = exchange.client(MINISTRY)
    summary = client.call("person.summary/v1", "GQCD", {"personal_id": PID})
    assert summary.status == 200
    assert set(summary.body) == {
        "bhxh_code",
        "identity",
        "social_insurance",
        "unemployment_insurance",
    }
    assert summary.body["social_insurance"]["months_contributed"] == 3
    history = client.call("participation.history/v1", "GQCD", {"bhxh_code": BHXH})
    assert {p["scheme"] for p in history.body["periods"]} == {"BHXH", "BHTN"}  # no BHYT: no đ
    assert set(history.body["contributions"][0]) == {
        "period",
        "employer_code",
        "wage",
        "bhxh_amount",
        "bhtn_amount",
    }


def test_unknown_person_is_a_signed_404_and_is_logged(exchange: Exchange) -> None:
    reply = exchange.client(MINISTRY).call("person.summary/v1", "GQCD", {"bhxh_code": "9999999999"})
    assert reply.status == 404 and reply.error_code == "E_SUBJECT_NOT_FOUND"


def test_every_read_is_in_the_persons_access_history_and_the_chain_holds(
    exchange: Exchange,
) -> None:
    exchange.client().call("card.check/v1", "KCB", CARD)
    exchange.client(MINISTRY).call("person.summary/v1", "GQCD", {"bhxh_code": BHXH})
    history = access_history(exchange.engine, BHXH)
    assert [(h.actor, h.service, h.purpose) for h in history] == [
        (MINISTRY, "person.summary/v1", "GQCD"),
        (HOSPITAL, "card.check/v1", "KCB"),
    ]
    report = verify_chain(exchange.engine)
    assert report.intact and report.entries == 2


def visit(visit_id: str, **change: object) -> dict[str, object]:
    return {
        "visit_id": visit_id,
        "card_code": f"DN401{BHXH}",
        "facility_code": "01001",
        "admitted_at": "2026-03-02T08:00:00+07:00",
        "discharged_at": "2026-03-02T10:30:00+07:00",
        "inpatient": False,
        "icd10": "J06.9",
        "total_cost": 350_000,
        "insurer_paid": 280_000,
        "patient_paid": 70_000,
        **change,
    }


def test_a_hospital_sends_its_visits_once_and_not_another_hospitals(exchange: Exchange) -> None:
    from nidb.exchange.partners import add_grant

    add_grant(exchange.engine, HOSPITAL, "visits.submit/v1", "KCB", "h", "QĐ 130/QĐ-BYT", "test")
    exchange.http.app.state.exchange.directory.refresh()
    client = exchange.client()
    batch = [
        visit("V1"),
        visit("V2", facility_code="79002"),
        visit("V3", discharged_at="2026-03-01T10:00:00+07:00"),
        visit("V4", insurer_paid=400_000),
        visit("V5", card_code="XX12345678901"),
    ]
    reply = client.call("visits.submit/v1", "KCB", {"visits": batch})
    assert reply.status == 200
    assert [(r["visit_id"], r["result"], r.get("reason")) for r in reply.body["results"]] == [
        ("V2", "rejected", "FACILITY_NOT_SENDER"),
        ("V3", "rejected", "DISCHARGE_BEFORE_ADMISSION"),
        ("V4", "rejected", "PAID_MORE_THAN_COST"),
        ("V5", "rejected", "CARD_CODE_INVALID"),
        ("V1", "accepted", None),
    ]
    again = client.call("visits.submit/v1", "KCB", {"visits": [visit("V1")]})
    assert (again.body["accepted"], again.body["duplicate"]) == (0, 1)
    from sqlalchemy import select

    from nidb.store import models

    with exchange.engine.connect() as conn:
        stored = conn.execute(
            select(
                models.HealthVisit.bhxh_code,
                models.HealthVisit.icd10,
                models.HealthVisit.admitted_at,
            )
        ).all()
    assert [(s[0], s[1], s[2].hour) for s in stored] == [(BHXH, "J069", 1)]  # stored in UTC


def test_a_bad_visit_field_refuses_the_batch_with_the_field_named(exchange: Exchange) -> None:
    from nidb.exchange.partners import add_grant

    add_grant(exchange.engine, HOSPITAL, "visits.submit/v1", "KCB", "h", "QĐ 130/QĐ-BYT", "test")
    exchange.http.app.state.exchange.directory.refresh()
    reply = exchange.client().call(
        "visits.submit/v1", "KCB", {"visits": [visit("V1", icd10="flu")]}
    )
    assert reply.status == 422 and "visits.0.icd10" in reply.body["error"]["detail"]
