"""schemathesis over every operation of the API, past signatures and sign-in (issue 16, item 11).

Partner operations get what schemathesis generates as their envelope's ``body``, signed as a
registered partner granted every service (a fresh message id, issued now): the gate admits it
and the service's own validation answers. Staff operations get a central admin's bearer token.
The answer must never be a server error, and must be one the spec documents. The test reports
how many operations it reached past authentication (an answer other than 401/403).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine

from nidb.api.app import create_app
from nidb.contributions.gateway import CALLBACK_PATH as EMPLOYER_CALLBACK_PATH
from nidb.exchange.catalogue import SERVICES
from nidb.exchange.partners import add_grant, add_partner
from nidb.exchange.tokens import create_token
from nidb.protocol.canonical import NotCanonical, canonical_json
from nidb.protocol.envelope import NIDB_MEMBER, new_header, sign
from nidb.protocol.keys import SigningKey
from nidb.services.payments import CALLBACK_PATH, payment_settings
from nidb.sim.population.server import BackgroundServer
from tests import seed

PARTNER = "VN/GOV/BLDTBXH/CSDL-FUZZ"
PURPOSE = "GQCD"
BUDGET_SECONDS = 60.0
"""The whole run, both halves, stays near two minutes per database."""


@pytest.fixture
def live(engine: Engine) -> Iterator[tuple[str, str, SigningKey]]:
    seed.insured_person(engine)
    key = SigningKey.generate()
    add_partner(engine, PARTNER, "Fuzz", "molisa", key.public_b64, "test", rate_limit=100_000)
    for service in (name for name, spec in SERVICES.items() if not spec.bulk):
        add_grant(engine, PARTNER, service, PURPOSE, "a,b,c,d,dd,e,g,h,i", "test", "test")
    token = create_token(engine, "fuzz", "admin", scope_level="central")
    with BackgroundServer(create_app(engine, SigningKey.generate()), lifespan="on") as server:
        yield server.url, token, key


def _signed(case: schemathesis.Case, key: SigningKey) -> dict[str, Any]:
    service = case.path[len("/x/") :]
    body = case.body.get("body") if isinstance(case.body, dict) else None
    header = new_header(PARTNER, NIDB_MEMBER, service, PURPOSE, datetime.now(UTC))
    try:
        return sign(header, body if isinstance(body, dict) else {}, key)
    except NotCanonical:  # a float in the body: no partner can sign it; sent as generated
        return case.body if isinstance(case.body, dict) else {}


@pytest.mark.slow
def test_every_operation_past_authentication_never_fails(
    live: tuple[str, str, SigningKey],
) -> None:
    url, token, key = live
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=120)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    reached: Counter[str] = Counter()
    statuses: Counter[tuple[str, int]] = Counter()
    deadline = time.monotonic() + BUDGET_SECONDS
    per_operation = 25
    for operation in operations:
        _fuzz(operation, key, token, deadline, per_operation, reached, statuses, url)
    labels = sorted(f"{o.method.upper()} {o.path}" for o in operations)
    print(f"\n{len(reached)} of {len(operations)} operations reached past authentication")
    for label in labels:
        codes = sorted((s, n) for (op, s), n in statuses.items() if op == label)
        print(f"  {label}: {codes}")
    assert set(reached) == set(labels), set(labels) - set(reached)


GATEWAY_CALLBACKS = (CALLBACK_PATH, EMPLOYER_CALLBACK_PATH)
"""The payment gateway's callbacks (online services; employers' contributions), HMAC-signed."""


def _gateway_signed(body: dict[str, Any]) -> bytes | None:
    try:
        return canonical_json({**body, "timestamp": int(time.time())})
    except NotCanonical:
        return None


def _hmac(raw: bytes) -> str:
    secret = payment_settings().secret.encode()
    return "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()


def _fuzz(
    operation: Any,
    key: SigningKey,
    token: str,
    deadline: float,
    per_operation: int,
    reached: Counter[str],
    statuses: Counter[tuple[str, int]],
    url: str,
) -> None:
    """Run one operation's examples (a function, so the closure binds this operation)."""
    label = f"{operation.method.upper()} {operation.path}"
    documented = operation.definition.raw.get("responses", {})

    @given(case=operation.as_strategy())
    @settings(
        max_examples=per_operation,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same cases on every run: CI checks what was checked here
    )
    def never_a_server_error(case: schemathesis.Case) -> None:
        if time.monotonic() > deadline and label in reached:
            return  # over budget: an operation still runs until one call got past authentication
        headers = {"Authorization": f"Bearer {token}"}
        if case.path.startswith("/x/"):
            case.body = _signed(case, key)
        elif case.path in GATEWAY_CALLBACKS and isinstance(case.body, dict):
            # the gateway's side: canonical JSON, stamped now, HMAC under the shared secret
            raw = _gateway_signed(case.body)
            if raw is not None:
                response = httpx.post(
                    f"{url}{case.path}",
                    content=raw,
                    headers={"content-type": "application/json", "X-Signature": _hmac(raw)},
                )
                _check(response)
                return
        response = case.call(headers=headers)
        _check(response)

    def _check(response: Any) -> None:
        assert response.status_code < 500, (label, response.text[:300])
        assert str(response.status_code) in documented, (label, response.status_code)
        statuses[(label, response.status_code)] += 1
        if response.status_code not in (401, 403):
            reached[label] += 1

    never_a_server_error()
