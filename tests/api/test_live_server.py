"""nidb's API over real HTTP: `nidb serve` in its own process, and schemathesis on the spec."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from nidb.api.app import create_app
from nidb.cli import app as cli_app
from nidb.exchange.tokens import create_token
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import SigningKey
from nidb.sim.population.server import BackgroundServer
from nidb.store.db import ensure_schema, make_engine
from tests.seed import BHXH, insured_person


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_nidb_serve_answers_a_hospital_over_http(tmp_path: Path) -> None:
    """The whole path a partner takes: register with the CLI, sign, call, verify the reply."""
    url = f"sqlite:///{tmp_path / 'nidb.sqlite3'}"
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": url,
        "NIDB_DATA_DIR": str(tmp_path),
        "NIDB_ACTOR": "test",
    }
    engine = make_engine(url)
    ensure_schema(engine)
    insured_person(engine)
    hospital = SigningKey.generate()
    runner = CliRunner()
    for args in (
        [
            "partner",
            "add",
            "VN/GOV/BYT/BV-01001",
            "--name",
            "BV Bạch Mai",
            "--kind",
            "hospital",
            "--public-key",
            hospital.public_b64,
        ],
        [
            "partner",
            "grant",
            "VN/GOV/BYT/BV-01001",
            "--service",
            "card.check/v1",
            "--purpose",
            "KCB",
            "--groups",
            "đ",
            "--legal-basis",
            "Luật BHYT",
        ],
    ):
        result = runner.invoke(cli_app, args, env=env)
        assert result.exit_code == 0, result.output
    bad = runner.invoke(
        cli_app,
        [
            "partner",
            "grant",
            "VN/GOV/BYT/BV-01001",
            "--service",
            "card.check/v1",
            "--purpose",
            "KCB",
            "--groups",
            "z",
            "--legal-basis",
            "x",
        ],
        env=env,
    )
    assert bad.exit_code == 2 and "Nhóm thông tin" in bad.output
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nidb", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # a loaded CI machine: wait on the condition, long
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "nidb serve did not start"
            time.sleep(0.2)
        client = ExchangeClient(
            base, "VN/GOV/BYT/BV-01001", hospital
        )  # fetches nidb's key at /keys
        reply = client.call(
            "card.check/v1",
            "KCB",
            {"card_code": BHXH, "full_name": "Nguyễn Văn An", "date_of_birth": "1985"},
        )
        assert reply.status == 200 and reply.body["result_code"] == "000"
        # the plain ASGI fast path refuses what the FastAPI route refuses, and passes the rest on
        huge = httpx.post(f"{base}/x/card.check/v1", content=b'{"a":"' + b"x" * 400_000 + b'"}')
        assert huge.status_code == 400 and huge.json()["body"]["error"]["code"] == "E_MALFORMED"
        assert httpx.post(f"{base}/x/nothing/v1", content=b"{}").status_code == 404
        assert httpx.get(f"{base}/openapi.json").status_code == 200
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    verified = runner.invoke(cli_app, ["audit", "verify"], env=env)
    assert verified.exit_code == 0 and "2 bản ghi" in verified.output  # the check and the refusal


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("live")
    engine = make_engine(f"sqlite:///{folder / 'nidb.sqlite3'}")
    ensure_schema(engine)
    insured_person(engine)
    token = create_token(engine, "fuzz", "admin", scope_level="central")
    with BackgroundServer(create_app(engine, SigningKey.generate()), lifespan="on") as server:
        yield server.url, token
    engine.dispose()


def test_no_input_makes_the_server_fail(live_api: tuple[str, str]) -> None:
    """Whatever the OpenAPI spec lets a client send to any operation, the answer is never 5xx.

    Staff operations are called with an admin token, so they are fuzzed past authentication.
    """
    url, token = live_api
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=120)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def never_a_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        never_a_server_error()
