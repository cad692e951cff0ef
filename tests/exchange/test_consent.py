"""Reads for a purpose that is no legal duty (a bank's loan appraisal) need the person's own
consent, given or withdrawn in the citizen portal; the grant alone is not enough."""

from __future__ import annotations

import time

from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.keys import SigningKey
from nidb.web.consents import save_choices
from tests.conftest import Exchange
from tests.seed import BHXH, PID

BANK = "VN/BANK/VCB/TINDUNG"


def _bank(exchange: Exchange) -> SigningKey:
    key = SigningKey.generate()
    add_partner(exchange.engine, BANK, "Ngân hàng TMCP Ngoại thương", "bank", key.public_b64, "t")
    for service in ("person.summary/v1", "participation.history/v1"):
        add_grant(exchange.engine, BANK, service, "TINDUNG", "a,d", "Nghị định 13/2023", "t")
    return key


def test_a_bank_reads_a_person_only_while_their_consent_is_in_force(exchange: Exchange) -> None:
    bank = exchange.client(BANK, _bank(exchange))
    asked = {"personal_id": PID}
    refused = bank.call("person.summary/v1", "TINDUNG", asked)
    assert (refused.status, refused.error_code) == (403, "E_NOT_GRANTED")
    assert save_choices(exchange.engine, PID, {"bank_loan": True}) == ["bank_loan"]
    answered = bank.call("person.summary/v1", "TINDUNG", asked)
    assert answered.status == 200 and answered.body["bhxh_code"] == BHXH
    history = bank.call("participation.history/v1", "TINDUNG", {"bhxh_code": BHXH})
    assert history.status == 200
    save_choices(exchange.engine, PID, {"bank_loan": False})  # withdrawn: the next read stops
    again = bank.call("participation.history/v1", "TINDUNG", {"bhxh_code": BHXH})
    assert (again.status, again.error_code) == (403, "E_NOT_GRANTED")
    # another consent topic is not this one
    save_choices(exchange.engine, PID, {"employer": True})
    assert bank.call("person.summary/v1", "TINDUNG", asked).error_code == "E_NOT_GRANTED"


def test_a_legal_duty_needs_no_consent(exchange: Exchange) -> None:
    ministry = exchange.client("VN/GOV/BLDTBXH/CSDL-ASXH")
    assert ministry.call("person.summary/v1", "GQCD", {"personal_id": PID}).status == 200


def test_a_bulk_extract_for_a_consent_purpose_answers_only_those_who_consented(
    exchange: Exchange,
) -> None:
    bank = exchange.client(BANK, _bank(exchange))
    body = {"service": "person.summary/v1", "subjects": [{"personal_id": PID}]}
    job = bank.call("extract.submit/v1", "TINDUNG", body).body["job_id"]
    deadline = time.monotonic() + 30
    while (done := bank.call("extract.status/v1", "TINDUNG", {"job_id": job})).body.get(
        "status"
    ) not in {"done", "failed"} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (done.body["found"], done.body["not_found"]) == (0, 1)
    page = bank.call("extract.result/v1", "TINDUNG", {"job_id": job})
    assert [i["outcome"] for i in page.body["items"]] == ["E_NOT_GRANTED"]
