"""The data-sharing platform (NDXP): nidb lists its services, a ministry calls one through the
platform, and nidb answers it as if called directly; nidb and the platform over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from nidb.api.app import create_app as create_nidb
from nidb.cli import app
from nidb.connectors.platforms import NdxpClient, PlatformRefused
from nidb.exchange.catalogue import SERVICES
from nidb.exchange.ndxp import PROVIDER_CODE, register
from nidb.exchange.partners import add_grant, add_partner
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey
from nidb.sim.platforms.ndxp import Platform, create_app
from tests import seed
from tests.platforms.conftest import KEY, serve

MINISTRY = "VN/GOV/BLDTBXH/CSDL-ASXH"
MINISTRY_KEY = "khoa-bo-ldtbxh"


@dataclass
class Live:
    platform: Platform
    url: str
    nidb_url: str
    ministry: SigningKey


@pytest.fixture
def live(engine: Engine) -> Iterator[Live]:
    seed.insured_person(engine)
    ministry = SigningKey.generate()
    add_partner(engine, MINISTRY, "Bộ LĐTBXH", "molisa", ministry.public_b64, "test")
    add_grant(engine, MINISTRY, "person.summary/v1", "GQCD", "a", "Nghị định 43/2021", "test")
    held = Platform()
    with (
        serve(create_nidb(engine, SigningKey.generate()), lifespan="on") as nidb,
        serve(
            create_app({PROVIDER_CODE: KEY, "OTHER": "k2"}, {MINISTRY: MINISTRY_KEY}, held)
        ) as platform,
    ):
        yield Live(held, platform.url, nidb.url, ministry)


@pytest.fixture
def listed(live: Live) -> Live:
    with NdxpClient(live.url, KEY) as client:
        answer = register(client, live.nidb_url)
    assert {s["code"] for s in answer["services"]} == set(SERVICES)
    return live


def ministry(live: Live, api_key: str = MINISTRY_KEY, sender: str = MINISTRY) -> ExchangeClient:
    http = httpx.Client(
        base_url=f"{live.url}/v1/gateway/{PROVIDER_CODE}", headers={"x-api-key": api_key}
    )
    return ExchangeClient("unused", sender, live.ministry, http=http)


def test_a_service_listed_by_nidb_is_called_through_the_platform(listed: Live) -> None:
    catalogue = httpx.get(f"{listed.url}/v1/catalogue").json()["providers"]
    assert [p["provider"] for p in catalogue] == [PROVIDER_CODE]
    assert catalogue[0]["base_url"].rstrip("/") == listed.nidb_url
    reply = ministry(listed).call("person.summary/v1", "GQCD", {"personal_id": seed.PID})
    assert reply.status == 200, reply.body  # signed by nidb, checked against its /keys (relayed)
    assert reply.body["identity"]["full_name"] == "Nguyễn Văn An"
    not_granted = ministry(listed).call(
        "participation.history/v1", "GQCD", {"personal_id": seed.PID}
    )
    assert not_granted.status == 403 and not_granted.error_code  # nidb's own grant check
    calls = listed.platform.calls
    assert {c["consumer"] for c in calls} == {MINISTRY}
    assert [c["path"] for c in calls if c["path"].startswith("/x/")] == [
        "/x/person.summary/v1",
        "/x/participation.history/v1",
    ]


def test_the_platform_refuses_what_it_must(listed: Live) -> None:
    envelope = ministry(listed).envelope("person.summary/v1", "GQCD", {"personal_id": seed.PID})
    gateway = f"{listed.url}/v1/gateway/{PROVIDER_CODE}/x"
    cases = [
        (httpx.post(f"{gateway}/person.summary/v1", json=envelope), 401, "API_KEY_MISSING"),
        (
            httpx.post(f"{gateway}/no.such/v1", json=envelope, headers={"x-api-key": MINISTRY_KEY}),
            404,
            "SERVICE_NOT_LISTED",
        ),
        (
            httpx.post(
                f"{listed.url}/v1/gateway/NOBODY/x/person.summary/v1",
                json=envelope,
                headers={"x-api-key": MINISTRY_KEY},
            ),
            404,
            "PROVIDER_NOT_LISTED",
        ),
        (
            httpx.post(
                f"{gateway}/person.summary/v1",
                content=b"not json",
                headers={"x-api-key": MINISTRY_KEY},
            ),
            400,
            "NOT_AN_ENVELOPE",
        ),
    ]
    for answer, status, code in cases:
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
        assert "(" in answer.json()["message"]
    other = ExchangeClient("unused", "VN/OTHER", SigningKey.generate(), http=httpx.Client())
    forged = other.envelope("person.summary/v1", "GQCD", {"personal_id": seed.PID})
    mismatch = httpx.post(
        f"{gateway}/person.summary/v1", json=forged, headers={"x-api-key": MINISTRY_KEY}
    )
    assert (mismatch.status_code, mismatch.json()["code"]) == (403, "SENDER_MISMATCH")
    assert not [c for c in listed.platform.calls if c["path"].startswith("/x/")]


def test_listing_needs_the_provider_own_key_and_a_valid_listing(live: Live) -> None:
    with NdxpClient(live.url, "k2") as client, pytest.raises(PlatformRefused) as refused:
        register(client, live.nidb_url)
    assert (refused.value.status, refused.value.code) == (403, "NOT_YOUR_LISTING")
    with NdxpClient(live.url, KEY) as client, pytest.raises(PlatformRefused) as invalid:
        register(client, "not a url")
    assert (invalid.value.status, invalid.value.code) == (422, "INVALID_REQUEST")
    assert "yêu cầu không hợp lệ" in invalid.value.message_vi


def test_a_provider_that_is_down_is_a_coded_502(listed: Live) -> None:
    with NdxpClient(listed.url, KEY) as client:
        register(client, "http://127.0.0.1:9")
    answer = httpx.get(
        f"{listed.url}/v1/gateway/{PROVIDER_CODE}/keys", headers={"x-api-key": MINISTRY_KEY}
    )
    assert (answer.status_code, answer.json()["code"]) == (502, "PROVIDER_UNREACHABLE")


def test_ndxp_register_command(live: Live, cli: CliRunner) -> None:
    args = ["platforms", "ndxp-register", "--public-url", live.nidb_url, "--url", live.url]
    done = cli.invoke(app, [*args, "--api-key", KEY])
    assert done.exit_code == 0, done.output
    assert f"đã đăng ký {len(SERVICES)} dịch vụ" in done.output
    assert PROVIDER_CODE in live.platform.catalogue
    refused = cli.invoke(app, [*args, "--api-key", "k2"])
    assert refused.exit_code == 1 and "NOT_YOUR_LISTING" in refused.output
