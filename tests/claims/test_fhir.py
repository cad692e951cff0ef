"""The card check and the visit history in HL7 FHIR R4, through the signed exchange: the bundles
validate with fhir.resources, follow the grants, and every read is in the access log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claim import Claim as FhirClaim
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from sqlalchemy import select

from nidb.claims.assess import assess_claims
from nidb.claims.catalogue import import_catalogue
from nidb.claims.fhir import CARD_RESULT_SYSTEM
from nidb.exchange.partners import add_grant
from nidb.sim.generate.claims import LineDraft, envelope, write_catalogues, xml_tables
from nidb.store import models
from tests.claims.test_intake import draft
from tests.conftest import HOSPITAL, Exchange
from tests.seed import BHXH, PID

CARD_CHECK = {"card_code": BHXH, "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-17"}


def _grant(exchange: Exchange, service: str, groups: str) -> None:
    add_grant(exchange.engine, HOSPITAL, service, "KCB", groups, "Luật BHYT Điều 28", "test")
    exchange.http.app.state.exchange.directory.refresh()  # type: ignore[attr-defined]


def resources(body: dict[str, Any]) -> dict[str, list[Any]]:
    """The bundle validated by fhir.resources (R4B = R4 for these types), resources by type."""
    bundle = Bundle.model_validate(body)
    assert bundle.type == "collection"
    found: dict[str, list[Any]] = {}
    for entry in bundle.entry or []:
        resource = entry.resource
        found.setdefault(resource.get_resource_type(), []).append(resource)
    return found


def logged(exchange: Exchange, service: str) -> list[Any]:
    with exchange.engine.connect() as conn:
        return list(
            conn.execute(
                select(models.AccessLogEntry.subject, models.AccessLogEntry.result).where(
                    models.AccessLogEntry.service == service
                )
            )
        )


def test_the_card_check_in_fhir_is_a_patient_a_coverage_and_the_result(
    exchange: Exchange,
) -> None:
    client = exchange.client()
    assert client.call("fhir.coverage/v1", "KCB", CARD_CHECK).status == 403  # not granted
    _grant(exchange, "fhir.coverage/v1", "dd")
    reply = client.call("fhir.coverage/v1", "KCB", CARD_CHECK)  # the reply's signature checked
    assert reply.status == 200, reply.body
    found = resources(reply.body)
    (patient,) = found["Patient"]
    (coverage,) = found["Coverage"]
    (outcome,) = found["OperationOutcome"]
    assert isinstance(patient, Patient) and patient.identifier[0].value == BHXH
    assert isinstance(coverage, Coverage) and coverage.status == "active"
    assert coverage.subscriberId == f"DN401{BHXH}"
    assert coverage.beneficiary.reference == f"urn:uuid:patient-bhxh-{BHXH}"
    assert {c.value for c in coverage.class_fhir} == {"DN", "4"}
    assert isinstance(outcome, OperationOutcome)
    coding = outcome.issue[0].details.coding[0]
    assert (coding.system, coding.code, coding.display) == (
        CARD_RESULT_SYSTEM, "000", "Thông tin thẻ chính xác",
    )  # fmt: skip
    wrong = client.call("fhir.coverage/v1", "KCB", {**CARD_CHECK, "full_name": "Trần Thị Mơ"})
    issue = resources(wrong.body)["OperationOutcome"][0].issue[0]
    assert (issue.severity, issue.details.coding[0].code) == ("error", "060")
    unknown = client.call("fhir.coverage/v1", "KCB", {**CARD_CHECK, "card_code": "0999999999"})
    assert set(resources(unknown.body)) == {"OperationOutcome"}  # no card, no patient
    assert [row.subject for row in logged(exchange, "fhir.coverage/v1")].count(BHXH) == 2


@pytest.fixture
def assessed(exchange: Exchange, tmp_path: Path) -> Exchange:
    for kind, path in write_catalogues(tmp_path, ["01"]).items():
        import_catalogue(exchange.engine, kind, path, "test")
    _grant(exchange, "claims.submit/v1", "h")
    dear = LineDraft("drug", "40.17", "Paracetamol 500mg", "10", 500)
    claims = [draft("CLEAN"), draft("DEAR", lines=[dear])]
    sent = exchange.client().call(
        "claims.submit/v1",
        "KCB",
        {"giamdinhhs": envelope("01001", [xml_tables(c) for c in claims])},
    )
    assert sent.body["accepted"] == 2, sent.body
    assess_claims(exchange.engine, "test")
    return exchange


def test_the_visit_history_in_fhir_has_a_claim_and_its_response_per_visit(
    assessed: Exchange,
) -> None:
    client = assessed.client()
    assert client.call("fhir.visits/v1", "KCB", {"personal_id": PID}).status == 403
    _grant(assessed, "fhir.visits/v1", "h")
    reply = client.call("fhir.visits/v1", "KCB", {"personal_id": PID, "months": 12})
    assert reply.status == 200, reply.body
    found = resources(reply.body)
    claims = {c.identifier[0].value: c for c in found["Claim"]}
    assert set(claims) == {"01001/CLEAN", "01001/DEAR"}
    assert all(isinstance(c, FhirClaim) for c in claims.values())
    dear = claims["01001/DEAR"]
    assert dear.total.currency == "VND" and dear.total.value == 5_000
    assert dear.insurance[0].coverage.identifier is None  # the card is group (đ): not granted
    responses = {r.request.reference: r for r in found["ClaimResponse"]}
    assert all(isinstance(r, ClaimResponse) for r in responses.values())
    response = responses[f"urn:uuid:claim-{dear.id}"]
    assert response.outcome == "partial"
    totals = {t.category.coding[0].code: t.amount.value for t in response.total}
    assert totals["submitted"] == 5_000 and totals["eligible"] == 3_500
    assert "over_price" in response.processNote[0].text
    assert "cao hơn giá thanh toán BHYT" in response.processNote[0].text
    clean = responses[f"urn:uuid:claim-{claims['01001/CLEAN'].id}"]
    assert clean.outcome == "complete" and not clean.processNote
    assert [row.subject for row in logged(assessed, "fhir.visits/v1")].count(BHXH) == 1


def test_a_caller_holding_the_card_group_sees_the_card_on_each_fhir_claim(
    assessed: Exchange,
) -> None:
    _grant(assessed, "fhir.visits/v1", "h,dd")
    reply = assessed.client().call("fhir.visits/v1", "KCB", {"bhxh_code": BHXH})
    found = resources(reply.body)
    assert {c.insurance[0].coverage.identifier.value for c in found["Claim"]} == {f"DN401{BHXH}"}
    unknown = assessed.client().call("fhir.visits/v1", "KCB", {"bhxh_code": "0999999999"})
    assert unknown.status == 404
