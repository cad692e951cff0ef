"""Hostile input to the claims services, past the signature: schemathesis on their HTTP
operations, and Hypothesis mutating real XML 130 envelopes (the random strings schemathesis
draws never get past the XML parser). Never a server error; a refused claim stores nothing;
every stored claim is whole (its total is the sum of its stored lines)."""

from __future__ import annotations

import base64
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from nidb.api.app import create_app
from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.canonical import NotCanonical
from nidb.protocol.client import ExchangeClient
from nidb.protocol.envelope import NIDB_MEMBER, new_header, sign
from nidb.protocol.keys import SigningKey
from nidb.sim.generate.claims import envelope, xml_tables
from nidb.sim.population.server import BackgroundServer
from nidb.store.models_claims import Claim, ClaimLine
from tests import seed
from tests.claims.test_intake import draft

HOSPITAL = "VN/GOV/BYT/BV-01001"
CLAIMS_SERVICES = (
    "claims.submit/v1",
    "claims.settlement/v1",
    "visits.history/v1",
    "fhir.coverage/v1",
    "fhir.visits/v1",
)
BUDGET_SECONDS = 45.0


@pytest.fixture
def live(engine: Engine) -> Iterator[tuple[str, SigningKey]]:
    seed.insured_person(engine)
    key = SigningKey.generate()
    add_partner(engine, HOSPITAL, "Bệnh viện", "hospital", key.public_b64, "test", 100_000)
    for service in CLAIMS_SERVICES:
        add_grant(engine, HOSPITAL, service, "KCB", "dd,h", "QĐ 130/QĐ-BYT", "test")
    with BackgroundServer(create_app(engine, SigningKey.generate()), lifespan="on") as server:
        yield server.url, key


def whole(engine: Engine) -> None:
    """Every stored claim has its lines, and its total is theirs: nothing half-written."""
    with engine.connect() as conn:
        sums = dict(
            conn.execute(
                select(ClaimLine.claim_id, func.sum(ClaimLine.amount)).group_by(ClaimLine.claim_id)
            ).all()
        )
        for claim_id, total in conn.execute(select(Claim.id, Claim.claimed_total)):
            assert sums.get(claim_id) == total, (claim_id, total, sums.get(claim_id))


@pytest.mark.slow
def test_schemathesis_on_the_claims_services_never_fails(
    live: tuple[str, SigningKey], engine: Engine
) -> None:
    url, key = live
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=120)
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.path.removeprefix("/x/") in CLAIMS_SERVICES
    ]
    assert len(operations) == len(CLAIMS_SERVICES)
    statuses: Counter[tuple[str, int]] = Counter()
    deadline = time.monotonic() + BUDGET_SECONDS
    for operation in operations:
        _fuzz(operation, key, deadline, statuses)
    print(sorted(statuses.items()))
    reached = {label for (label, status) in statuses if status not in (401, 403)}
    assert reached == {f"POST /x/{s}" for s in CLAIMS_SERVICES}
    whole(engine)


def _fuzz(operation: Any, key: SigningKey, deadline: float, statuses: Counter[Any]) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    documented = operation.definition.raw.get("responses", {})
    service = operation.path.removeprefix("/x/")

    @given(case=operation.as_strategy())
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def never_a_server_error(case: schemathesis.Case) -> None:
        if time.monotonic() > deadline and any(k[0] == label for k in statuses):
            return
        body = case.body.get("body") if isinstance(case.body, dict) else None
        header = new_header(HOSPITAL, NIDB_MEMBER, service, "KCB", datetime.now(UTC))
        with contextlib.suppress(NotCanonical):  # a float: no partner can sign it; sent as drawn
            case.body = sign(header, body if isinstance(body, dict) else {}, key)
        response = case.call()
        assert response.status_code < 500, (label, response.text[:300])
        assert str(response.status_code) in documented, (label, response.status_code)
        statuses[(label, response.status_code)] += 1

    never_a_server_error()


HOSTILE = st.sampled_from(
    [
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><X>&e;</X>',
        '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/dtd"><X/>',
        '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">%p;]><X/>',
        '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><X>&c;</X>',
        '<?xml-stylesheet href="http://127.0.0.1:9/x"?><X/>',
        "<X><![CDATA[",
        "\x00\x01<X/>",
        "<X>" + "<Y>" * 5000 + "</Y>" * 5000 + "</X>",
    ]
)
FIELDS = ("SO_LUONG", "DON_GIA", "DON_GIA_BH", "THANH_TIEN_BH", "NGAY_VAO", "NGAY_RA",
          "MA_THE_BHYT", "MA_LK", "T_TONGCHI_BH", "MA_BENH_CHINH")  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """A real envelope with one table or one field replaced by something hostile or absurd."""
    tables = xml_tables(draft("FZ"))
    kind = draw(st.sampled_from(["table", "field", "base64", "drop", "envelope"]))
    if kind == "envelope":  # the envelope itself hostile
        return kind, draw(HOSTILE).replace("<X", "<GIAMDINHHS").replace("</X>", "</GIAMDINHHS>")
    name = draw(st.sampled_from(sorted(tables)))
    if kind == "table":
        tables[name] = draw(HOSTILE)
    elif kind == "field":
        tag = draw(st.sampled_from(FIELDS))
        value = draw(
            st.one_of(
                st.text(max_size=40),
                st.integers(min_value=-(10**20), max_value=10**20).map(str),
                st.floats(allow_nan=True, allow_infinity=True).map(str),
            )
        )
        escaped = value.replace("&", "&amp;").replace("<", "&lt;")
        start, end = f"<{tag}>", f"</{tag}>"
        text = tables[name]
        if start in text:
            head, rest = text.split(start, 1)
            tables[name] = head + start + escaped + end + rest.split(end, 1)[1]
    elif kind == "base64":
        raw = draw(st.binary(max_size=200))
        tables[name] = "RAW:" + draw(
            st.sampled_from([base64.b64encode(raw).decode(), "!!" + raw.hex(), "===="])
        )
    else:
        del tables[name]
    return kind, envelope("01001", [tables])


@pytest.mark.slow
def test_mutated_envelopes_are_refused_with_codes_and_store_nothing_half(
    live: tuple[str, SigningKey], engine: Engine
) -> None:
    url, key = live
    client = ExchangeClient(url, HOSPITAL, key, timeout=30)
    outcomes: Counter[str] = Counter()

    @given(case=mutated())
    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def refused_or_whole(case: tuple[str, str]) -> None:
        _kind, text = case
        try:
            reply = client.call("claims.submit/v1", "KCB", {"giamdinhhs": text})
        except httpx.HTTPError as error:  # pragma: no cover - a failure to report
            raise AssertionError(f"transport error: {error}") from error
        assert reply.status in (200, 422), (reply.status, reply.body)
        if reply.status == 422:
            assert reply.body["error"]["code"] == "E_BODY_INVALID"
            outcomes["envelope refused"] += 1
            return
        (result,) = reply.body["results"]
        outcomes[result["result"]] += 1
        if result["result"] == "rejected":
            assert result["errors"] and all(
                e["code"] and e["message_vi"] and e["message_en"] for e in result["errors"]
            )
        whole(engine)

    refused_or_whole()
    client.close()
    print(dict(outcomes))
    assert outcomes["rejected"] > 10 and outcomes["envelope refused"] > 5
