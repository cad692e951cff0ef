"""The employers' signed API over HTTP, and the I-VAN stand-in forwarding to a running nidb."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from nidb.employers.accounts import enrol
from nidb.protocol.client import ExchangeClient
from nidb.protocol.employers import DECLARATION_PATH, STATUS_PATH, employer_member
from nidb.protocol.keys import SigningKey
from nidb.store.models_employment import DeclaredWage
from tests.conftest import LiveServer
from tests.employers.support import (
    EMPLOYER,
    enrolled,
    increase,
    new_worker,
    seed_employers,
    signed,
)

ROOT = Path(__file__).resolve().parents[2]
BINH, CUONG = "001090000101", "001092000202"


def _check(client: TestClient, key: SigningKey, response: httpx.Response) -> Any:
    server = client.get("/keys").json()["public_key"]
    from nidb.protocol.keys import VerifyKey

    checker = ExchangeClient(
        "", employer_member(EMPLOYER), key, VerifyKey.from_b64(server), http=httpx.Client()
    )
    return checker.check(response.status_code, response.json())


def test_a_signed_declaration_is_applied_and_its_status_read(
    engine: Engine, client: TestClient
) -> None:
    seed_employers(engine)
    key = enrolled(engine)
    response = client.post(DECLARATION_PATH, json=signed(key, increase("API-1", new_worker(BINH))))
    reply = _check(client, key, response)
    assert reply.status == 200 and reply.body["status"] == "applied"
    assert reply.header["receiver"] == employer_member(EMPLOYER)
    status = client.post(
        STATUS_PATH,
        json=signed(key, {"declaration_no": "API-1"}, service="employer.status/v1"),
    )
    assert status.status_code == 200 and status.json()["body"]["status"] == "applied"
    missing = client.post(
        STATUS_PATH, json=signed(key, {"declaration_no": "NONE"}, service="employer.status/v1")
    )
    assert missing.status_code == 404
    assert missing.json()["body"]["error"]["code"] == "E_SUBJECT_NOT_FOUND"


def test_a_refused_declaration_answers_422_with_rows(engine: Engine, client: TestClient) -> None:
    seed_employers(engine)
    key = enrolled(engine)
    bad = increase("API-2", new_worker(BINH, wage="nhiều"))
    response = client.post(DECLARATION_PATH, json=signed(key, bad))
    assert response.status_code == 422
    (error,) = response.json()["body"]["errors"]
    assert (error["row"], error["field"], error["value"], error["rule"]) == (
        1,
        "wage",
        "nhiều",
        "WAGE_INVALID",
    )


def test_unsigned_wrong_key_replayed_and_junk_are_refused_with_codes(
    engine: Engine, client: TestClient
) -> None:
    seed_employers(engine)
    key = enrolled(engine)
    envelope = signed(key, increase("API-3", new_worker(BINH)))
    unsigned = {**envelope, "signature": ""}
    assert client.post(DECLARATION_PATH, json=unsigned).json()["body"]["error"]["code"] == (
        "E_UNSIGNED"
    )
    wrong = signed(SigningKey.generate(), increase("API-3", new_worker(BINH)))
    refused = client.post(DECLARATION_PATH, json=wrong)
    assert refused.status_code == 401
    error = refused.json()["body"]["error"]
    assert error["code"] == "E_BAD_SIGNATURE" and error["message_vi"].startswith("Chữ ký")
    assert client.post(DECLARATION_PATH, json=envelope).status_code == 200
    replay = client.post(DECLARATION_PATH, json=envelope)
    assert replay.status_code == 409 and replay.json()["body"]["error"]["code"] == "E_REPLAY"
    junk = client.post(DECLARATION_PATH, content=b"{not json")
    assert junk.status_code == 400 and junk.json()["body"]["error"]["code"] == "E_MALFORMED"


def test_the_api_is_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "requestBody" in paths[DECLARATION_PATH]["post"]
    assert STATUS_PATH in paths


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def ivan(live_server: LiveServer, tmp_path: Path) -> Iterator[str]:
    """`nidb sim ivan` in its own process, forwarding to the running nidb."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nidb",
            "sim",
            "ivan",
            "--port",
            str(port),
            "--nidb-url",
            live_server.url,
            "--keys-dir",
            str(tmp_path / "keys"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/openapi.json", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the I-VAN stand-in did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_declaration_through_the_ivan_stand_in_is_applied(
    live_server: LiveServer, ivan: str
) -> None:
    engine = live_server.engine
    seed_employers(engine)
    customer = httpx.post(f"{ivan}/v1/admin/employers", json={"employer_code": EMPLOYER}).json()
    with engine.begin() as conn:
        enrol(conn, EMPLOYER, customer["public_key"], "test:staff")
    auth = {"authorization": f"Bearer {customer['token']}"}
    sent = httpx.post(
        f"{ivan}/v1/declarations",
        json=increase("IVAN-1", new_worker(BINH)),
        headers=auth,
        timeout=30,
    ).json()
    assert sent.get("nidb_status") == 200, sent
    assert sent["nidb_status"] == 200 and sent["reply"]["status"] == "applied"
    with engine.connect() as conn:
        wages = conn.execute(select(DeclaredWage.personal_id)).scalars().all()
    assert wages == [BINH]
    replay = httpx.post(f"{ivan}/v1/admin/resend-last", timeout=30).json()
    assert replay["nidb_status"] == 409 and replay["reply"]["error"]["code"] == "E_REPLAY"
    status = httpx.post(
        f"{ivan}/v1/status", json={"declaration_no": "IVAN-1"}, headers=auth, timeout=30
    ).json()
    assert status["reply"]["attempts"] == 1
    httpx.post(f"{ivan}/v1/admin/employers/{EMPLOYER}/rotate")  # a key nidb never enrolled
    wrong = httpx.post(
        f"{ivan}/v1/declarations",
        json=increase("IVAN-2", new_worker(CUONG)),
        headers=auth,
        timeout=30,
    ).json()
    assert wrong["nidb_status"] == 401 and wrong["reply"]["error"]["code"] == "E_BAD_SIGNATURE"
    stranger = httpx.post(f"{ivan}/v1/declarations", json={}, headers={"authorization": "x"})
    assert stranger.status_code == 401
