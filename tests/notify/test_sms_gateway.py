"""The SMS-gateway stand-in over real HTTP: key, number and text checks, idempotency, faults."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from nidb.sim.population.server import BackgroundServer
from nidb.sim.sms.app import create_app

KEY = "khoa-sms-thu-nghiem"


@pytest.fixture
def gateway() -> Iterator[str]:
    server = BackgroundServer(create_app(KEY)).start()
    try:
        yield server.url
    finally:
        server.stop()


def send(url: str, key: str = KEY, **body: object) -> httpx.Response:
    payload = {"to": "0912345678", "text": "Xin chào", **body}
    return httpx.post(
        f"{url}/v1/messages", json=payload, headers={"Authorization": f"Bearer {key}"}
    )


def test_send_returns_a_message_id_and_the_box_lists_it(gateway: str) -> None:
    sent = send(gateway, text="Thẻ BHYT của bạn đã được gia hạn")
    assert sent.status_code == 201
    message_id = sent.json()["message_id"]
    assert message_id.startswith("SMS-")
    box = httpx.get(f"{gateway}/messages").json()
    assert box["total"] == 1
    assert box["messages"][0]["message_id"] == message_id
    assert box["messages"][0]["text"] == "Thẻ BHYT của bạn đã được gia hạn"
    assert httpx.get(f"{gateway}/messages", params={"to": "0987654321"}).json()["messages"] == []


def test_refusals_are_coded_and_permanent(gateway: str) -> None:
    wrong_key = send(gateway, key="not-the-key")
    assert wrong_key.status_code == 401 and wrong_key.json()["code"] == "E_KEY"
    landline = send(gateway, to="0243826000")
    assert landline.status_code == 422
    assert landline.json()["code"] == "E_NUMBER" and landline.json()["field"] == "to"
    assert "0243826000" in landline.json()["message_vi"]
    too_long = send(gateway, text="x" * 700)
    assert too_long.status_code == 422 and too_long.json()["code"] == "E_TEXT"
    assert httpx.get(f"{gateway}/messages").json()["total"] == 0


def test_the_same_client_reference_is_one_message(gateway: str) -> None:
    first = send(gateway, client_ref="nidb-notify-1")
    again = send(gateway, client_ref="nidb-notify-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["message_id"] == again.json()["message_id"]
    assert httpx.get(f"{gateway}/messages").json()["total"] == 1


def test_transient_faults_on_demand(gateway: str) -> None:
    assert httpx.put(f"{gateway}/admin/faults", json={"fail_next": 2}).status_code == 200
    assert send(gateway).status_code == 503
    busy = send(gateway)
    assert busy.status_code == 503 and busy.json()["code"] == "E_BUSY"
    assert send(gateway).status_code == 201
    httpx.put(f"{gateway}/admin/faults", json={"fail_next": 1, "status": 429})
    assert send(gateway).status_code == 429
    assert httpx.get(f"{gateway}/stats").json()["failed"] == 3


def test_a_short_key_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        create_app("short")
