"""Walk every information-group grant against every endpoint: nothing leaks past a grant."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from nidb.exchange.catalogue import INFO_GROUPS, SERVICES
from nidb.exchange.extracts import EXTRACTABLE, run_pending
from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.keys import SigningKey
from nidb.sim.generate.claims import ClaimDraft, LineDraft, envelope, xml_tables
from tests.conftest import Exchange
from tests.seed import BHXH, PID

BODIES: dict[str, dict[str, Any]] = {
    "card.check/v1": {
        "card_code": BHXH,
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1985-03-17",
    },
    "person.summary/v1": {"personal_id": PID},
    "participation.history/v1": {"bhxh_code": BHXH},
    "employer.headcount/v1": {"employer_code": "TA0001A"},
    "visits.submit/v1": {
        "visits": [
            {
                "visit_id": "M1",
                "card_code": BHXH,
                "facility_code": "01001",
                "admitted_at": "2026-03-02T08:00:00+07:00",
                "discharged_at": "2026-03-02T09:00:00+07:00",
                "inpatient": False,
                "icd10": "J06",
                "total_cost": 100,
                "insurer_paid": 80,
                "patient_paid": 20,
            }
        ]
    },
    "claims.submit/v1": {
        "giamdinhhs": envelope(
            "01001",
            [
                xml_tables(
                    ClaimDraft(
                        "M1",
                        "01001",
                        BHXH,
                        "01001",
                        datetime(2026, 3, 2, 8),
                        datetime(2026, 3, 2, 9),
                        False,
                        lines=[LineDraft("service", "02.1896", "Khám bệnh", "1", 42_100)],
                    )
                )
            ],
        )
    },
    "claims.settlement/v1": {"year": 2026, "quarter": 1},
    "visits.history/v1": {"bhxh_code": BHXH},
    "fhir.coverage/v1": {
        "card_code": BHXH,
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1985-03-17",
    },
    "fhir.visits/v1": {"bhxh_code": BHXH},
}

GRANTABLE = {name: service for name, service in SERVICES.items() if not service.bulk}

# which group each disclosed piece belongs to
SECTION_GROUP = {
    "identity": "a",
    "household": "c",
    "social_insurance": "d",
    "health_insurance": "dd",
    "unemployment_insurance": "e",
    "card": "dd",
    "wage": "d",
    "bhxh_amount": "d",
    "bhyt_amount": "dd",
    "bhtn_amount": "e",
    "months_contributed": "d",  # inside social_insurance; e's own counter is inside its section
    "registered_workers": "g",
    "insured_workers": "g",
}
SCHEME_GROUP = {"BHXH": "d", "BHYT": "dd", "BHTN": "e"}


def disclosed_groups(body: Any, inside: str | None = None) -> set[str]:
    """The groups of every section, amount and period a reply body discloses."""
    found: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            group = SECTION_GROUP.get(key)
            if key == "months_contributed" and inside == "unemployment_insurance":
                group = "e"
            if group:
                found.add(group)
            if key == "scheme" and isinstance(value, str):
                found.add(SCHEME_GROUP[value])
            found |= disclosed_groups(value, key if key in SECTION_GROUP else inside)
    elif isinstance(body, list):
        for item in body:
            found |= disclosed_groups(item, inside)
    return found


def test_every_grant_against_every_endpoint(exchange: Exchange) -> None:
    checked = 0
    for index, group in enumerate(INFO_GROUPS):
        code = f"VN/GOV/TEST/P-{index:02d}"
        key = SigningKey.generate()
        add_partner(
            exchange.engine,
            code,
            f"đối tác {group}",
            "other",
            key.public_b64,
            "test",
            rate_limit=1000,
        )
        for service in GRANTABLE:
            add_grant(exchange.engine, code, service, "THANHTRA", group, "kiểm thử", "test")
        exchange.http.app.state.exchange.directory.refresh()
        client = exchange.client(code, key)
        for service_name in EXTRACTABLE:  # the bulk path obeys the same grants
            submitted = client.call(
                "extract.submit/v1",
                "THANHTRA",
                {"service": service_name, "subjects": [BODIES[service_name]]},
            )
            if SERVICES[service_name].required_group != group:
                assert (submitted.status, submitted.error_code) == (403, "E_NOT_GRANTED"), (
                    group,
                    service_name,
                )
                continue
            run_pending(exchange.engine)  # or the API's worker does: wait until it is done
            for _ in range(300):
                job = {"job_id": submitted.body["job_id"]}
                if client.call("extract.status/v1", "THANHTRA", job).body["status"] == "done":
                    break
                time.sleep(0.05)
            page = client.call(
                "extract.result/v1", "THANHTRA", {"job_id": submitted.body["job_id"]}
            )
            assert page.body["items"][0]["outcome"] == "ok"
            leaked = disclosed_groups(page.body["items"][0]["answer"]) - {group}
            assert not leaked, (group, service_name, leaked)
        for service_name, service in GRANTABLE.items():
            reply = client.call(service_name, "THANHTRA", BODIES[service_name])
            if service.required_group != group:
                assert (reply.status, reply.error_code) == (403, "E_NOT_GRANTED"), (
                    group,
                    service_name,
                )
                continue
            assert reply.status == 200, (group, service_name, reply.body)
            leaked = disclosed_groups(reply.body) - {group}
            assert not leaked, (group, service_name, leaked)
            checked += 1
    assert checked == len(GRANTABLE)  # each service answers exactly its own group


def test_health_group_alone_never_reads_contributions(exchange: Exchange) -> None:
    key = SigningKey.generate()
    add_partner(
        exchange.engine, "VN/GOV/BYT/BV-02002", "bệnh viện", "hospital", key.public_b64, "test"
    )
    for service in GRANTABLE:
        add_grant(exchange.engine, "VN/GOV/BYT/BV-02002", service, "KCB", "dd", "kiểm thử", "test")
    exchange.http.app.state.exchange.directory.refresh()
    client = exchange.client("VN/GOV/BYT/BV-02002", key)
    for service_name in GRANTABLE:
        reply = client.call(service_name, "KCB", BODIES[service_name])
        text = str(reply.body)
        for secret in ("contributions", "wage", "bhxh_amount", "2500000", "10000000"):
            assert secret not in text, (service_name, secret)


def test_wider_grants_show_more_but_only_what_is_granted(exchange: Exchange) -> None:
    key = SigningKey.generate()
    add_partner(exchange.engine, "VN/GOV/BTC/THUE", "Tổng cục Thuế", "tax", key.public_b64, "test")
    add_grant(
        exchange.engine,
        "VN/GOV/BTC/THUE",
        "person.summary/v1",
        "THUE",
        "a,c",
        "Luật Quản lý thuế",
        "test",
    )
    exchange.http.app.state.exchange.directory.refresh()
    reply = exchange.client("VN/GOV/BTC/THUE", key).call(
        "person.summary/v1", "THUE", {"bhxh_code": BHXH}
    )
    assert set(reply.body) == {"bhxh_code", "identity", "household"}
    assert reply.body["household"] == {"household_id": "HK-001"}
