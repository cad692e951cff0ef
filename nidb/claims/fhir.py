"""The card check and the visit history as HL7 FHIR R4 resources, for hospital systems that
speak FHIR (``fhir.coverage/v1``, ``fhir.visits/v1``).

Each is the same partner service as its JSON twin (``card.check/v1``, ``visits.history/v1``):
the same grants (groups), the same consent check, the same signed envelope and access-log
entry; only the answer's body is a FHIR ``Bundle`` (type ``collection``):

- ``fhir.coverage/v1``: a ``Patient`` (identifier: the BHXH code), a ``Coverage`` (the card:
  status, period, the card code as identifier and subscriberId, the participant group and the
  benefit level as classes, the registered facility, payor Vietnam Social Security) and an
  ``OperationOutcome`` whose issue carries the look-up result code (``000`` … ``120``, system
  ``CARD_RESULT_SYSTEM``) with its Vietnamese wording. A refused card (050, 051) has no Patient
  nor Coverage: the outcome alone.
- ``fhir.visits/v1``: a ``Patient``, then per visit a ``Claim`` (facility, dates, ICD-10
  diagnosis, total claimed in VND) and, for an assessed XML 130 claim, its ``ClaimResponse``
  (outcome ``complete`` when accepted whole, ``partial`` when reduced, ``error`` when rejected;
  ``disposition`` in Vietnamese; totals submitted / eligible / benefit; each reduction as a
  ``processNote`` with the rule's code, title, explanation and amount).

Built and validated with ``fhir.resources`` (its R4B models: for these five resource types R4B is
R4 unchanged), so a resource that does not conform fails here, not at the hospital.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from nidb.claims.history import visit_history
from nidb.claims.rules import TITLES
from nidb.exchange.answer import Answer
from nidb.exchange.cardcheck import card_check
from nidb.store.models_claims import Claim, ClaimLine

FHIR_VERSION = "4.0.1"
BHXH_SYSTEM = "urn:vn:bhxh:ma-so-bhxh"
"""Identifier system of BHXH codes (mã số BHXH)."""
CARD_SYSTEM = "urn:vn:bhxh:ma-the-bhyt"
"""Identifier system of health-insurance card codes (mã thẻ BHYT)."""
FACILITY_SYSTEM = "urn:vn:byt:ma-co-so-kcb"
"""Identifier system of health facilities (mã cơ sở KCB, 5 digits)."""
VISIT_SYSTEM = "urn:vn:byt:ma-lien-ket"
"""Identifier system of a visit at its facility (MA_LK), prefixed by the facility code."""
CARD_RESULT_SYSTEM = "urn:vn:bhxh:ket-qua-tra-cuu-the"
"""The card look-up's result codes (maKetQua)."""
GROUP_SYSTEM = "urn:vn:bhxh:ma-doi-tuong"
LEVEL_SYSTEM = "urn:vn:bhxh:muc-huong"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
PAYOR = {
    "display": "Bảo hiểm xã hội Việt Nam",
    "identifier": {"system": "urn:vn:co-quan", "value": "BHXHVN"},
}
OUTCOMES = {"accepted": "complete", "reduced": "partial", "rejected": "error"}
OUTCOME_WORDS = {
    "accepted": "Chấp nhận thanh toán toàn bộ",
    "reduced": "Chấp nhận thanh toán có giảm trừ",
    "rejected": "Từ chối thanh toán",
}
CARD_STATUS = {"active": "active", "suspended": "cancelled", "revoked": "entered-in-error"}


def _money(amount: int | None) -> dict[str, Any]:
    return {"value": amount or 0, "currency": "VND"}


def _validated(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle checked against fhir.resources' models (raises if it does not conform), as JSON."""
    from fhir.resources.R4B.bundle import Bundle

    model = Bundle.model_validate(bundle)
    result: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return result


def _bundle(entries: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.isoformat(),
        "meta": {"tag": [{"system": "urn:vn:nidb:fhir-version", "code": FHIR_VERSION}]},
        "entry": [
            {"fullUrl": f"urn:uuid:{e['resourceType'].lower()}-{e['id']}", "resource": e}
            for e in entries
        ],
    }


def _patient(bhxh_code: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": f"bhxh-{bhxh_code}",
        "identifier": [{"system": BHXH_SYSTEM, "value": bhxh_code}],
    }


def _ref(resource: dict[str, Any]) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['resourceType'].lower()}-{resource['id']}"}


def _coverage(card: dict[str, Any], patient: dict[str, Any]) -> dict[str, Any]:
    status = card["status"]
    valid = card["valid_from"] <= date.today().isoformat() <= card["valid_to"]
    return {
        "resourceType": "Coverage",
        "id": f"the-{card['card_code']}",
        "identifier": [{"system": CARD_SYSTEM, "value": card["card_code"]}],
        "status": CARD_STATUS.get(status, "active" if valid else "cancelled"),
        "subscriberId": card["card_code"],
        "beneficiary": _ref(patient),
        "period": {"start": card["valid_from"], "end": card["valid_to"]},
        "payor": [PAYOR],
        "class": [
            {
                "type": {"coding": [{"system": COVERAGE_CLASS, "code": "group"}]},
                "value": card["group_code"],
                "name": f"Mã đối tượng {card['group_code']}",
            },
            {
                "type": {"coding": [{"system": COVERAGE_CLASS, "code": "plan"}]},
                "value": str(card["benefit_level"]),
                "name": f"Mức hưởng {card['benefit_level']}",
            },
        ],
        "network": card["facility_code"],
    }


def coverage_bundle(answer: Answer, now: datetime | None = None) -> Answer:
    """The card check's answer as a FHIR Bundle (Patient, Coverage, OperationOutcome)."""
    now = now or datetime.now(UTC)
    body = answer.body
    code = body["result_code"]
    outcome = {
        "resourceType": "OperationOutcome",
        "id": f"ket-qua-{code}",
        "issue": [
            {
                "severity": "information" if body["valid"] else "error",
                "code": "informational" if body["valid"] else "business-rule",
                "details": {
                    "coding": [
                        {"system": CARD_RESULT_SYSTEM, "code": code, "display": body["message_vi"]}
                    ],
                    "text": body["message_vi"],
                },
            }
        ],
    }
    entries: list[dict[str, Any]] = []
    if answer.subject is not None and body.get("card"):
        patient = _patient(answer.subject)
        entries = [patient, _coverage(body["card"], patient)]
    entries.append(outcome)
    return Answer(_validated(_bundle(entries, now)), answer.subject, answer.fields, answer.result)


def fhir_card_check(conn: Connection, body: Any, today: date) -> Answer:
    """``card.check/v1``'s question, answered in FHIR."""
    answer = card_check(
        conn, body.card_code, body.full_name, body.date_of_birth, body.gender,
        body.visit_date or today,
    )  # fmt: skip
    return coverage_bundle(answer)


def fhir_visits(
    conn: Connection, bhxh_code: str, months: int, groups: tuple[str, ...], today: date
) -> Answer:
    """``visits.history/v1``'s answer in FHIR: a Claim per visit, a ClaimResponse if assessed."""
    history = visit_history(conn, bhxh_code, months, groups, today)
    patient = _patient(bhxh_code)
    entries: list[dict[str, Any]] = [patient]
    visits = history.body["visits"]
    assessed = _assessed(conn, [v for v in visits if v["assessment"]])
    for visit in visits:
        claim = _claim(visit, patient)
        entries.append(claim)
        found = assessed.get((visit["facility_code"], visit["visit_key"]))
        if found is not None:
            entries.append(_claim_response(found, claim, patient))
    return Answer(_validated(_bundle(entries, datetime.now(UTC))), history.subject, history.fields)


def _assessed(conn: Connection, visits: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for visit in visits:
        row = conn.execute(
            select(
                Claim.id, Claim.facility_code, Claim.ma_lk, Claim.outcome, Claim.claimed_total,
                Claim.accepted_total, Claim.insurer_total, Claim.reasons, Claim.assessed_at,
            ).where(
                Claim.facility_code == visit["facility_code"], Claim.ma_lk == visit["visit_key"]
            )
        ).first()  # fmt: skip
        if row is None or row.outcome is None:
            continue
        lines = conn.execute(
            select(ClaimLine.line_no, ClaimLine.reductions)
            .where(ClaimLine.claim_id == row.id, ClaimLine.reductions.is_not(None))
            .order_by(ClaimLine.line_no)
        ).all()
        found[(row.facility_code, row.ma_lk)] = (row, lines)
    return found


def _visit_id(facility: str, key: str) -> str:
    # FHIR ids: [A-Za-z0-9-.]{1,64}; MA_LK may hold other characters
    safe = "".join(c if c.isalnum() or c in "-." else "-" for c in key)
    return f"{facility}-{safe}"[:64]


def _claim(visit: dict[str, Any], patient: dict[str, Any]) -> dict[str, Any]:
    facility = visit["facility_code"]
    claim: dict[str, Any] = {
        "resourceType": "Claim",
        "id": _visit_id(facility, visit["visit_key"]),
        "identifier": [{"system": VISIT_SYSTEM, "value": f"{facility}/{visit['visit_key']}"}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": CLAIM_TYPE,
                    "code": "institutional" if visit["inpatient"] else "professional",
                }
            ]
        },
        "use": "claim",
        "patient": _ref(patient),
        "billablePeriod": {"start": visit["admitted_at"], "end": visit["discharged_at"]},
        "created": visit["discharged_at"],
        "provider": {
            "identifier": {"system": FACILITY_SYSTEM, "value": facility},
            "display": f"Cơ sở KCB {facility}",
        },
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [
            {
                "sequence": 1,
                "focal": True,
                "coverage": {
                    "identifier": {"system": CARD_SYSTEM, "value": visit["card_code"]},
                    "display": f"Thẻ BHYT {visit['card_code']}",
                }
                if "card_code" in visit
                else {"display": "Thẻ BHYT"},
            }
        ],
        "total": _money(visit["total_cost"]),
    }
    if visit.get("icd10"):
        claim["diagnosis"] = [
            {
                "sequence": 1,
                "diagnosisCodeableConcept": {"coding": [{"system": ICD10, "code": visit["icd10"]}]},
            }
        ]
    return claim


def _claim_response(
    found: tuple[Any, list[Any]], claim: dict[str, Any], patient: dict[str, Any]
) -> dict[str, Any]:
    row, lines = found
    reductions = [
        (item["rule"], f"Dòng {line.line_no}: {item['explanation_vi']}", item["amount"])
        for line in lines
        for item in line.reductions or []
    ] + [(r["rule"], r["explanation_vi"], r["amount"]) for r in row.reasons or []]
    created = row.assessed_at or datetime.now(UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": f"kq-{claim['id']}"[:64],
        "status": "active",
        "type": claim["type"],
        "use": "claim",
        "patient": _ref(patient),
        "created": created.isoformat(),
        "insurer": PAYOR,
        "request": _ref(claim),
        "outcome": OUTCOMES[row.outcome],
        "disposition": OUTCOME_WORDS[row.outcome],
        "total": [
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                "amount": _money(row.claimed_total),
            },
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": "eligible"}]},
                "amount": _money(row.accepted_total),
            },
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]},
                "amount": _money(row.insurer_total),
            },
        ],
    }
    if reductions:
        # each reduction as a note: XML 130 lines are not carried as Claim.item here, so there
        # is no item to adjudicate; "submitted" minus "eligible" in the totals is their sum
        response["processNote"] = [
            {"number": n, "type": "display", "text": f"[{code}] {TITLES.get(code, ('', ''))[0]}: "
             f"{text} ({amount} VND)"}
            for n, (code, text, amount) in enumerate(reductions, 1)
        ]  # fmt: skip
    return response
