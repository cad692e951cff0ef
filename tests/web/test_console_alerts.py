"""The auditor's pages of access-anomaly alerts: the list and one page per alert with its reads,
scoped by role (``can(role, "access.read")``) and area, in Vietnamese only."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from nidb.detect import detect_access
from nidb.exchange.partners import add_partner
from nidb.protocol.keys import SigningKey
from nidb.store import models
from tests.detect.access_seed import code, log_reads
from tests.web.conftest import csrf_of, staff_sign_in_http

DAY = date(2026, 11, 18)


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    assert staff_sign_in_http(client, username).status_code == 303


HOSPITAL = "VN/GOV/BYT/BV-01001"


@pytest.fixture
def alerts(engine: Engine, make_staff_user: Callable[..., str]) -> dict[str, int]:
    """An area alert of a Hanoi clerk (3 persons of other provinces) and a volume alert of a
    hospital with no history (80 persons); auditors of Hanoi and of the centre, a reviewer."""
    make_staff_user("canbo.hn", "reviewer", province_code="01")
    make_staff_user("kt.hn", "auditor", province_code="01")
    make_staff_user("kt.tw", "auditor", scope_level="central", province_code=None)
    make_staff_user("rv.hn", "reviewer", province_code="01")
    make_staff_user("qt.tw", "admin", scope_level="central", province_code=None)
    add_partner(engine, HOSPITAL, "BV", "hospital", SigningKey.generate().public_b64, "test")
    log_reads(engine, "staff:canbo.hn", DAY, [code("01", i) for i in range(4)])
    log_reads(
        engine, "staff:canbo.hn", DAY, [code("79", 1), code("79", 2), code("48", 3)], time(14)
    )
    log_reads(engine, HOSPITAL, DAY, [code("01", 100 + i) for i in range(80)], time(10))
    assert detect_access(engine, [DAY]).new == 2
    table = models.Alert.__table__
    with engine.connect() as conn:
        return {row.kind: row.id for row in conn.execute(select(table.c.kind, table.c.id))}


def test_a_province_auditor_sees_their_staffs_alert_and_its_reads(
    client: TestClient, alerts: dict[str, int]
) -> None:
    sign_in(client, "kt.hn")
    listing = client.get("/can-bo/kiem-toan/canh-bao/")
    assert listing.status_code == 200
    assert "Xem dữ liệu người ngoài địa bàn" in listing.text and "canbo.hn" in listing.text
    assert HOSPITAL not in listing.text  # a partner's alert is the centre's
    page = client.get(f"/can-bo/kiem-toan/canh-bao/{alerts['access.area']}")
    assert page.status_code == 200
    text = page.text
    assert "Cán bộ canbo.hn thuộc Hà Nội đã xem dữ liệu của 3 người ngoài địa bàn" in text
    assert "TP. Hồ Chí Minh: 2 người" in text
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d{10})</td><td>([^<]+)</td>", text)
    assert [r[1] for r in rows] == [code("79", 1), code("79", 2), code("48", 3)]
    assert rows[0][0] == "18/11/2026 14:00:00" and rows[0][2] == "Xem một mục đối soát danh tính"
    # Vietnamese only: no rule code, no ISO date, no English status
    for raw in ("access.area", "2026-11-18", "review.view/v1", "open", "staff:"):
        assert raw not in text.replace("/can-bo/", ""), raw


def test_alerts_outside_the_area_answer_404_and_the_centre_sees_all(
    client: TestClient, alerts: dict[str, int]
) -> None:
    sign_in(client, "kt.hn")
    hidden = client.get(f"/can-bo/kiem-toan/canh-bao/{alerts['access.volume']}")
    assert hidden.status_code == 404
    assert client.get("/can-bo/kiem-toan/canh-bao/abc").status_code == 404
    assert client.get("/can-bo/kiem-toan/canh-bao/99999999").status_code == 404
    sign_in(client, "kt.tw")
    listing = client.get("/can-bo/kiem-toan/canh-bao/", params={"trang_thai": "all"}).text
    assert HOSPITAL in listing and "canbo.hn" in listing
    page = client.get(f"/can-bo/kiem-toan/canh-bao/{alerts['access.volume']}")
    assert page.status_code == 200
    assert "đã xem dữ liệu của 80 người khác nhau trong ngày 18/11/2026" in page.text
    assert page.text.count("<tr><td>18/11/2026 10:") == 80


def test_only_roles_that_may_read_the_access_log_see_alerts(
    client: TestClient, alerts: dict[str, int]
) -> None:
    sign_in(client, "rv.hn")
    assert client.get("/can-bo/kiem-toan/canh-bao/").status_code == 403
    assert client.get(f"/can-bo/kiem-toan/canh-bao/{alerts['access.area']}").status_code == 403


def test_the_list_filters_by_status(
    client: TestClient, engine: Engine, alerts: dict[str, int]
) -> None:
    from nidb.detect.alerts import decide

    decide(engine, alerts["access.area"], "confirmed", "test", "Đã xác minh với cán bộ")
    sign_in(client, "kt.hn")
    assert "canbo.hn" not in client.get("/can-bo/kiem-toan/canh-bao/").text
    confirmed = client.get("/can-bo/kiem-toan/canh-bao/", params={"trang_thai": "confirmed"})
    assert "canbo.hn" in confirmed.text and "Đã xác nhận" in confirmed.text
    odd = client.get("/can-bo/kiem-toan/canh-bao/", params={"trang_thai": "<b>x", "trang": "-1"})
    assert odd.status_code == 200 and "<b>x" not in odd.text


def _decide(client: TestClient, alert: int, **form: str) -> tuple[int, str]:
    page = client.get(f"/can-bo/kiem-toan/canh-bao/{alert}")
    answer = client.post(
        f"/can-bo/kiem-toan/canh-bao/{alert}/quyet-dinh",
        data={"csrf_token": csrf_of(page.text), **form},
        follow_redirects=True,
    )
    return answer.status_code, answer.text


def _status(engine: Engine, alert: int) -> tuple[str, str | None, str | None]:
    table = models.Alert.__table__
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.id == alert)).one()
    return row.status, row.decided_by, row.note


def test_an_auditor_confirms_an_alert_in_the_console_with_a_reason(
    client: TestClient, engine: Engine, alerts: dict[str, int]
) -> None:
    area = alerts["access.area"]
    sign_in(client, "kt.hn")
    status, text = _decide(client, area, decision="confirmed", note="")
    assert status == 400 and "Vui lòng ghi lý do của quyết định." in text
    status, text = _decide(client, area, decision="maybe", note="x")
    assert status == 400 and "Vui lòng chọn Xác nhận hoặc Bác bỏ." in text
    status, text = _decide(client, area, decision="dismissed", note="a\x00b")
    assert status == 400 and "ký tự điều khiển" in text
    assert _status(engine, area) == ("open", None, None)  # nothing written by a bad form

    status, text = _decide(client, area, decision="confirmed", note="Đã hỏi cán bộ: không có lý do")
    assert status == 200 and f"Đã xác nhận cảnh báo số {area}." in text
    assert "Đã xác nhận — staff:kt.hn" not in text and "Đã xác nhận" in text
    assert _status(engine, area) == ("confirmed", "staff:kt.hn", "Đã hỏi cán bộ: không có lý do")
    audit = models.AuditEntry.__table__
    with engine.connect() as conn:
        actions = conn.execute(
            select(audit.c.action).where(audit.c.subject_id == str(area))
        ).scalars()
        assert list(actions) == ["alert.confirmed"]
    # a decision is final: a second one changes nothing and says so in Vietnamese
    status, text = _decide(client, area, decision="dismissed", note="Đổi ý")
    assert status in (200, 409)
    assert _status(engine, area)[0] == "confirmed"
    assert 'action="/can-bo/kiem-toan/canh-bao/' not in text  # no form on a decided alert


def test_nobody_decides_an_alert_about_themselves_and_readers_cannot_decide(
    client: TestClient, engine: Engine, alerts: dict[str, int], make_staff_user: Callable[..., str]
) -> None:
    from nidb.detect.alerts import AlertError, decide

    area = alerts["access.area"]
    with pytest.raises(AlertError, match="là về chính bạn"):
        decide(engine, area, "dismissed", "staff:canbo.hn", "Tôi có lý do")
    sign_in(client, "rv.hn")  # a reviewer reads no alert, decides none
    answer = client.post(
        f"/can-bo/kiem-toan/canh-bao/{area}/quyet-dinh",
        data={"decision": "dismissed", "note": "x", "csrf_token": "x"},
    )
    assert answer.status_code in (403, 400)
    sign_in(client, "kt.hn")  # out of area: the centre's partner alert is not found
    token = csrf_of(client.get(f"/can-bo/kiem-toan/canh-bao/{area}").text)
    answer = client.post(
        f"/can-bo/kiem-toan/canh-bao/{alerts['access.volume']}/quyet-dinh",
        data={"decision": "dismissed", "note": "x", "csrf_token": token},
    )
    assert answer.status_code == 404
    sign_in(client, "qt.tw")  # an administrator of the centre may decide
    status, text = _decide(
        client, alerts["access.volume"], decision="dismissed", note="Đợt khám sức khỏe"
    )
    assert status == 200 and "Đã bác bỏ cảnh báo số" in text
    assert _status(engine, area) == ("open", None, None)
