"""A facility reads a patient's recent visits, filtered by its grant; the patient sees the read."""

from __future__ import annotations

from datetime import timedelta

from nidb.exchange.partners import add_grant
from nidb.sim.generate.claims import envelope, xml_tables
from nidb.web.sessions import COOKIE
from tests import seed
from tests.claims.test_intake import DAY, draft
from tests.conftest import HOSPITAL, Exchange
from tests.seed import BHXH, PID


def _grant(exchange: Exchange, service: str, groups: str) -> None:
    add_grant(exchange.engine, HOSPITAL, service, "KCB", groups, "Luật BHYT Điều 28", "test")
    exchange.http.app.state.exchange.directory.refresh()  # type: ignore[attr-defined]


def test_visit_history_of_the_last_months_filtered_by_grant_and_shown_to_the_citizen(
    exchange: Exchange,
) -> None:
    _grant(exchange, "claims.submit/v1", "h")
    client = exchange.client()
    old = DAY - timedelta(days=400)
    claims = [draft("NEW"), draft("OLD", admitted=old, discharged=old + timedelta(hours=1))]
    sent = client.call(
        "claims.submit/v1",
        "KCB",
        {"giamdinhhs": envelope("01001", [xml_tables(c) for c in claims])},
    )
    assert sent.body["accepted"] == 2

    refused = client.call("visits.history/v1", "KCB", {"personal_id": PID, "months": 12})
    assert refused.status == 403  # not granted yet

    _grant(exchange, "visits.history/v1", "h")
    reply = client.call("visits.history/v1", "KCB", {"personal_id": PID, "months": 12})
    assert reply.status == 200, reply.body
    assert [v["visit_key"] for v in reply.body["visits"]] == ["NEW"]  # OLD is 13 months back
    assert "card_code" not in reply.body["visits"][0]  # (đ) not granted
    longer = client.call("visits.history/v1", "KCB", {"bhxh_code": BHXH, "months": 24})
    assert [v["visit_key"] for v in longer.body["visits"]] == ["NEW", "OLD"]
    unknown = client.call("visits.history/v1", "KCB", {"bhxh_code": "0999999999"})
    assert unknown.status == 404

    exchange.http.cookies.set(COOKIE, seed.citizen_session(exchange.engine, PID, "Nguyễn Văn An"))
    page = exchange.http.get("/cong-dan/truy-cap").text
    assert "Lịch sử khám chữa bệnh BHYT" in page
    assert "Bệnh viện Bạch Mai" in page
    assert "Thông tin y tế cơ bản" in page  # the group read, in words


def test_a_caller_holding_the_card_group_also_sees_the_card_of_each_visit(
    exchange: Exchange,
) -> None:
    _grant(exchange, "claims.submit/v1", "h")
    _grant(exchange, "visits.history/v1", "h,dd")
    client = exchange.client()
    client.call("claims.submit/v1", "KCB", {"giamdinhhs": envelope("01001", [xml_tables(draft())])})
    reply = client.call("visits.history/v1", "KCB", {"bhxh_code": BHXH})
    assert reply.body["visits"][0]["card_code"] == f"DN401{BHXH}"
