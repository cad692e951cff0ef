"""The whole loop: a hospital scans the citizen's e-card QR, checks the card through the signed
exchange, and the citizen then sees that read in "Ai đã xem dữ liệu của tôi"."""

from __future__ import annotations

import html
import json

from fastapi.testclient import TestClient

from tests.conftest import Exchange
from tests.web.conftest import Vneid, citizen_sign_in_http


def test_a_scanned_e_card_checks_valid_and_the_read_shows_in_the_citizens_history(
    exchange: Exchange,
    vneid: Vneid,
) -> None:
    with TestClient(exchange.http.app, follow_redirects=False) as citizen:
        assert citizen_sign_in_http(citizen).status_code == 303
        page = citizen.get("/cong-dan/the-bhyt").text
        start = page.index('data-payload="') + len('data-payload="')
        scanned = json.loads(html.unescape(page[start : page.index('"', start)]))
        assert "Chưa có ai truy cập dữ liệu của bạn." in citizen.get("/cong-dan/truy-cap").text

        body = {k: scanned[k] for k in ("card_code", "full_name", "date_of_birth", "gender")}
        reply = exchange.client().call(scanned["svc"], "KCB", body)
        assert reply.status == 200 and reply.body["result_code"] == "000"

        history = citizen.get("/cong-dan/truy-cap").text
    assert "Bệnh viện Bạch Mai" in history
    assert "Tra cứu thẻ BHYT khi khám chữa bệnh" in history
    assert "Khám bệnh, chữa bệnh BHYT" in history
