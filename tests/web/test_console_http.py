"""The staff console over HTTP (TestClient), on SQLite and PostgreSQL: the role and area matrix
of every route, the review decision, bad input storing nothing, dashboards, auditor pages and
correction requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from nidb.store import models
from nidb.store.models_web import CorrectionRequest
from nidb.web.console.dashboard_queries import clear_cache
from nidb.web.console.scope import StaffScope
from tests.web.conftest import csrf_of, staff_sign_in_http
from tests.web.console_seed import STAFF, Seeded, seed_register, seed_staff


@pytest.fixture
def seeded(engine: Engine) -> Iterator[Seeded]:
    clear_cache()
    yield seed_register(engine)
    clear_cache()


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    response = staff_sign_in_http(client, username)
    assert response.status_code == 303, response.text


def count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        return int(conn.execute(query.where(*where)).scalar_one())  # type: ignore[arg-type]


def item_status(engine: Engine, item_id: int) -> str:
    items = models.ReviewItem.__table__
    with engine.connect() as conn:
        return str(conn.execute(select(items.c.status).where(items.c.id == item_id)).scalar_one())


# --- the area, without a database ---------------------------------------------------------------


def test_a_merged_province_sees_the_old_provinces_merged_into_it() -> None:
    hcm = StaffScope("province", ("79", "74", "77"))
    assert hcm.allows_bhxh_code("7412345678") and hcm.allows_bhxh_code("7912345678")
    assert not hcm.allows_bhxh_code("0112345678") and not hcm.allows_bhxh_code(None)


def test_district_staff_see_their_district_where_a_record_has_one_else_their_province() -> None:
    district = StaffScope("district", ("01",), "001")
    assert district.allows("01") and district.allows("01", "001")
    assert not district.allows("01", "002") and not district.allows("79")
    assert StaffScope("central", ()).allows("79", "123")


# --- the role × area matrix of every route ------------------------------------------------------

OK, FORBIDDEN, HIDDEN = 200, 403, 404
ROUTES = {
    # path (with {hn_item}, {hcm_item}, {hn_req}, {hcm_req}) → expected status per user
    "/can-bo/": dict.fromkeys(STAFF, OK),
    "/can-bo/doi-soat/": {**dict.fromkeys(STAFF, OK), "pd.hn": FORBIDDEN},
    "/can-bo/doi-soat/{hn_item}": {
        **dict.fromkeys(STAFF, OK), "rv.hcm": HIDDEN, "pd.hn": FORBIDDEN,
    },
    "/can-bo/doi-soat/{hcm_item}": {
        **dict.fromkeys(STAFF, HIDDEN), "rv.hcm": OK, "rv.tw": OK, "kt.tw": OK, "qt.tw": OK,
        "pd.hn": FORBIDDEN,
    },
    "/can-bo/doi-soat/999999": {**dict.fromkeys(STAFF, HIDDEN), "pd.hn": FORBIDDEN},
    "/can-bo/doi-soat/abc": {**dict.fromkeys(STAFF, HIDDEN), "pd.hn": FORBIDDEN},
    "/can-bo/bang-dieu-khien/": dict.fromkeys(STAFF, OK),
    "/can-bo/kiem-toan/": {
        **dict.fromkeys(STAFF, FORBIDDEN), "kt.hn": OK, "kt.tw": OK, "qt.tw": OK,
    },
    "/can-bo/kiem-toan/truy-cap?ma_bhxh=0198765432": {
        **dict.fromkeys(STAFF, FORBIDDEN), "kt.hn": OK, "kt.tw": OK, "qt.tw": OK,
    },
    "/can-bo/kiem-toan/truy-cap?ma_bhxh=7998765432": {
        **dict.fromkeys(STAFF, FORBIDDEN), "kt.hn": HIDDEN, "kt.tw": OK, "qt.tw": OK,
    },
    "/can-bo/kiem-toan/nhat-ky": {**dict.fromkeys(STAFF, FORBIDDEN), "kt.tw": OK, "qt.tw": OK},
    "/can-bo/dieu-chinh/": {**dict.fromkeys(STAFF, OK), "pd.hn": FORBIDDEN},
    "/can-bo/dieu-chinh/{hn_req}": {
        **dict.fromkeys(STAFF, OK), "rv.hcm": HIDDEN, "pd.hn": FORBIDDEN,
    },
    "/can-bo/dieu-chinh/{hcm_req}": {
        **dict.fromkeys(STAFF, HIDDEN), "rv.hcm": OK, "rv.tw": OK, "kt.tw": OK, "qt.tw": OK,
        "pd.hn": FORBIDDEN,
    },
}  # fmt: skip


def test_every_route_answers_each_role_and_area_as_the_matrix_says(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine)
    names = {
        "hn_item": seeded.items["R-HN-1"],
        "hcm_item": seeded.items["R-HCM-1"],
        "hn_req": seeded.corrections["01"],
        "hcm_req": seeded.corrections["79"],
    }
    wrong = []
    for user in STAFF:
        sign_in(client, user)
        for route, expected in ROUTES.items():
            response = client.get(route.format(**names))
            if response.status_code != expected[user]:
                wrong.append((user, route, response.status_code, expected[user]))
            if response.status_code == FORBIDDEN:
                assert "Không có quyền" in response.text
            if response.status_code == HIDDEN:
                assert "Không tìm thấy" in response.text
                assert "Nguyễn Văn An" not in response.text and "Trần" not in response.text
    assert wrong == []
    client.cookies.clear()
    assert client.get("/can-bo/doi-soat/").status_code == 303  # signed out: to sign-in


# --- the queue ---------------------------------------------------------------------------------


def test_the_queue_lists_only_records_of_the_staff_members_province(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("rv.hn", "rv.hcm", "rv.tw"))
    sign_in(client, "rv.hn")
    page = client.get("/can-bo/doi-soat/").text
    assert "Nguyen Van An" in page and "Trần Thị Bình" not in page and "Lê Văn Cường" not in page
    assert "1 mục" in page
    sign_in(client, "rv.hcm")  # 79 holds the old Bình Dương (74) since the 2025 merger
    page = client.get("/can-bo/doi-soat/").text
    assert "Trần Thị Bình" in page and "Lê Văn Cường" in page and "Nguyen Van An" not in page
    sign_in(client, "rv.tw")
    assert "3 mục" in client.get("/can-bo/doi-soat/").text
    home = client.get("/can-bo/").text
    assert '<span class="count" id="so-muc-doi-soat">3</span>' in home
    sign_in(client, "rv.hn")
    home = client.get("/can-bo/").text
    assert '<span class="count" id="so-muc-doi-soat">1</span>' in home
    assert '<span class="count" id="so-canh-bao">1</span>' in home
    assert '<span class="count" id="so-yeu-cau">1</span>' in home


def test_bad_queue_filters_get_a_vietnamese_message(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("rv.hn",))
    sign_in(client, "rv.hn")
    for query, message in (
        ("loai=xyz", "Loại mục không hợp lệ"),
        ("trang_thai=bogus", "Trạng thái không hợp lệ"),
        ("trang=-1", "Số trang phải là số nguyên dương"),
        ("trang=abc", "Số trang phải là số nguyên dương"),
    ):
        response = client.get(f"/can-bo/doi-soat/?{query}")
        assert response.status_code == 400 and message in response.text, query


def test_an_item_shows_both_sides_and_looking_at_it_is_logged(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("rv.hn",))
    sign_in(client, "rv.hn")
    item = seeded.items["R-HN-1"]
    page = client.get(f"/can-bo/doi-soat/{item}").text
    assert "Nguyen Van An" in page and "Nguyễn Văn An" in page
    assert '<tr class="differs">' in page and "tên khác dấu" in page
    audit = models.AuditEntry.__table__
    access = models.AccessLogEntry.__table__
    assert (
        count(engine, audit, audit.c.action == "review.view", audit.c.actor == "staff:rv.hn") == 1
    )
    assert (
        count(engine, access, access.c.subject == "0112345678", access.c.actor == "staff:rv.hn")
        == 1
    )


def _decide(client: TestClient, item: int, **form: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/can-bo/doi-soat/{item}")
    return client.post(
        f"/can-bo/doi-soat/{item}/quyet-dinh", data={"csrf_token": csrf_of(page.text), **form}
    )


def test_accepting_an_item_decides_it_once_and_a_second_decision_is_refused(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("rv.hn",))
    sign_in(client, "rv.hn")
    item = seeded.items["R-HN-1"]
    waiting = '<span class="count" id="so-muc-doi-soat">{}</span>'
    assert waiting.format(1) in client.get("/can-bo/").text  # counted, and cached
    response = _decide(client, item, decision="accept", note="Đúng người, tên không dấu")
    assert response.status_code == 303 and response.headers["location"] == "/can-bo/doi-soat/"
    assert f"Đã chấp nhận mục đối soát số {item}." in client.get("/can-bo/doi-soat/").text
    assert item_status(engine, item) == "accepted"
    assert waiting.format(0) in client.get("/can-bo/").text  # a decision clears the counts
    again = _decide(client, item, decision="reject", note="thử lại")
    assert again.status_code == 409
    assert "đã được chấp nhận bởi staff:rv.hn" in again.text
    assert item_status(engine, item) == "accepted"
    audit = models.AuditEntry.__table__
    assert count(engine, audit, audit.c.action.in_(("review.accept", "review.reject"))) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"decision": "reject", "note": "  "}, "Vui lòng ghi lý do từ chối"),
        ({"note": "không chọn"}, "Vui lòng chọn Chấp nhận hoặc Từ chối"),
        ({"decision": "approve-all"}, "Vui lòng chọn Chấp nhận hoặc Từ chối"),
        ({"decision": "accept", "note": "x" * 1001}, "Ghi chú dài quá 1000 ký tự"),
    ],
)
def test_a_bad_decision_form_gets_a_vietnamese_message_and_stores_nothing(
    client: TestClient, engine: Engine, seeded: Seeded, form: dict[str, str], message: str
) -> None:
    seed_staff(engine, ("rv.hn",))
    sign_in(client, "rv.hn")
    item = seeded.items["R-HN-1"]
    audit = models.AuditEntry.__table__
    before = count(engine, audit)
    response = _decide(client, item, **form)
    assert response.status_code == 400 and message in response.text
    assert item_status(engine, item) == "open"
    decisions = count(engine, audit, audit.c.action.in_(("review.accept", "review.reject")))
    assert decisions == 0 and count(engine, audit) == before + 2  # the two views only


def test_deciding_outside_the_area_without_the_role_or_without_csrf_stores_nothing(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("rv.hcm", "kt.tw", "rv.hn"))
    item = seeded.items["R-HN-1"]
    sign_in(client, "rv.hn")
    token = csrf_of(client.get("/can-bo/doi-soat/").text)
    refused = client.post(
        f"/can-bo/doi-soat/{item}/quyet-dinh", data={"decision": "accept", "csrf_token": "x"}
    )
    assert refused.status_code == 403 and "Yêu cầu bị từ chối" in refused.text
    sign_in(client, "rv.hcm")
    token = csrf_of(client.get("/can-bo/doi-soat/").text)
    hidden = client.post(
        f"/can-bo/doi-soat/{item}/quyet-dinh", data={"decision": "accept", "csrf_token": token}
    )
    assert hidden.status_code == 404
    sign_in(client, "kt.tw")
    page = client.get(f"/can-bo/doi-soat/{item}").text
    assert "Ghi quyết định" not in page and "chỉ được xem" in page
    forbidden = client.post(
        f"/can-bo/doi-soat/{item}/quyet-dinh",
        data={"decision": "accept", "csrf_token": csrf_of(page)},
    )
    assert forbidden.status_code == 403
    assert item_status(engine, item) == "open"


# --- dashboards --------------------------------------------------------------------------------


def test_the_dashboard_counts_progress_alerts_and_backlog_in_the_area(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("kt.hn", "kt.tw"))
    sign_in(client, "kt.hn")
    page = client.get("/can-bo/bang-dieu-khien/").text
    assert "<svg" in page and 'role="img"' in page
    assert "Đã xác thực 1 / 2 hồ sơ (50,0 %)" in page
    assert "Hà Nội" in page and "Hồ Chí Minh" not in page and "Bình Dương" not in page
    assert "Thẻ BHYT dùng sau khi chủ thẻ mất" in page and "card_after_death" not in page
    sign_in(client, "kt.tw")
    page = client.get("/can-bo/bang-dieu-khien/?sap_xep=ty_le").text
    assert "Đã xác thực 2 / 5 hồ sơ (40,0 %)" in page
    assert 'aria-sort="descending"' in page
    # by today's 34 provinces, as the reports count: Bình Dương's codes (74) were merged into
    # Hồ Chí Minh (79) on 1 July 2025, so HCM is 1/3 and comes after Hà Nội (1/2)
    table = page[page.index('<table id="bang-tien-do">') :]
    table = table[: table.index("</table>")]
    assert "Bình Dương" not in table and table.count("Hồ Chí Minh") == 1
    assert table.index("Hà Nội") < table.index("Hồ Chí Minh")
    assert "1 / 3" in table or "33,3" in table
    bad = client.get("/can-bo/bang-dieu-khien/?sap_xep=drop")
    assert bad.status_code == 400 and "Cách sắp xếp không hợp lệ" in bad.text


# --- auditor pages -----------------------------------------------------------------------------


def test_an_auditor_reads_a_persons_access_history_and_the_read_is_logged(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("kt.hn", "rv.hn"))
    sign_in(client, "rv.hn")
    client.get(f"/can-bo/doi-soat/{seeded.items['R-HN-1']}")  # a reviewer reads 0112345678
    sign_in(client, "kt.hn")
    page = client.get("/can-bo/kiem-toan/truy-cap?ma_bhxh=0112345678").text
    assert "staff:rv.hn" in page and "review.view/v1" in page
    again = client.get("/can-bo/kiem-toan/truy-cap?ma_bhxh=0112345678").text
    assert "staff:kt.hn" in again and "access.history/v1" in again
    for code, status, message in (
        ("12345", 400, "Mã số BHXH phải gồm đúng 10 chữ số"),
        ("<script>", 400, "Mã số BHXH phải gồm đúng 10 chữ số"),
        ("7912345678", 404, "Không tìm thấy người có mã số BHXH 7912345678"),
        ("0100000000", 404, "Không tìm thấy người có mã số BHXH 0100000000"),
    ):
        response = client.get("/can-bo/kiem-toan/truy-cap", params={"ma_bhxh": code})
        assert response.status_code == status and message in response.text, code
        assert "<script>" not in response.text


def test_the_audit_log_filters_by_actor_action_and_date(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("kt.tw", "rv.hn"))
    sign_in(client, "rv.hn")
    _decide(client, seeded.items["R-HN-1"], decision="reject", note="Không phải người này")
    sign_in(client, "kt.tw")
    page = client.get(
        "/can-bo/kiem-toan/nhat-ky", params={"nguoi": "staff:rv.hn", "hanh_dong": "review.reject"}
    ).text
    # actions in words, not codes (issue 17)
    assert page.count("<td>Từ chối mục đối soát</td>") == 1 and "Xem mục đối soát" not in page
    today = client.get("/can-bo/kiem-toan/nhat-ky", params={"tu_ngay": "2020-01-01"}).text
    assert "Từ chối mục đối soát" in today and "Xem mục đối soát" in today
    past = client.get(
        "/can-bo/kiem-toan/nhat-ky", params={"tu_ngay": "2020-01-01", "den_ngay": "2020-01-02"}
    ).text
    assert "Không có mục nhật ký nào khớp bộ lọc" in past
    for params, message in (
        ({"tu_ngay": "31/12/2026"}, "Ngày không hợp lệ"),
        ({"tu_ngay": "2026-02-01", "den_ngay": "2026-01-01"}, "Đến ngày phải sau"),
        ({"nguoi": "x" * 101}, "dài quá 100 ký tự"),
    ):
        response = client.get("/can-bo/kiem-toan/nhat-ky", params=params)
        assert response.status_code == 400 and message in response.text


# --- correction requests -----------------------------------------------------------------------


def _decide_correction(client: TestClient, request_id: int, **form: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/can-bo/dieu-chinh/{request_id}")
    return client.post(
        f"/can-bo/dieu-chinh/{request_id}/quyet-dinh",
        data={"csrf_token": csrf_of(page.text), **form},
    )


def test_a_correction_request_is_decided_once_with_its_audit_entry_and_event(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("rv.hn",))
    sign_in(client, "rv.hn")
    request_id = seeded.corrections["01"]
    listing = client.get("/can-bo/dieu-chinh/").text
    assert f"Yêu cầu {request_id}" in listing and "079085000002" not in listing
    bad = _decide_correction(client, request_id, decision="rejected", note="")
    assert bad.status_code == 400 and "Vui lòng ghi lý do từ chối" in bad.text
    table = CorrectionRequest.__table__
    assert count(engine, table, table.c.status == "submitted") == 2
    done = _decide_correction(client, request_id, decision="accepted", note="Khớp giấy tờ")
    assert done.status_code == 303
    assert (
        count(engine, table, table.c.status == "accepted", table.c.decided_by == "staff:rv.hn") == 1
    )
    audit, outbox = models.AuditEntry.__table__, models.OutboxEvent.__table__
    assert count(engine, audit, audit.c.action == "correction.accepted") == 1
    assert count(engine, outbox, outbox.c.topic == "correction.decided") == 1
    again = client.post(
        f"/can-bo/dieu-chinh/{request_id}/quyet-dinh",
        data={"csrf_token": csrf_of(listing), "decision": "rejected", "note": "đổi ý"},
    )
    assert again.status_code == 409 and "đã được quyết định trước đó" in again.text
    assert count(engine, audit, audit.c.action.like("correction.%")) == 1


def test_the_navigation_shows_only_the_links_the_role_may_use(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("pd.hn", "kt.tw"))
    sign_in(client, "pd.hn")
    home = client.get("/can-bo/").text
    assert 'href="/can-bo/ho-so/"' in home and 'href="/can-bo/doi-soat/"' not in home
    assert 'href="/can-bo/kiem-toan/"' not in home
    sign_in(client, "kt.tw")
    home = client.get("/can-bo/bang-dieu-khien/").text
    assert 'href="/can-bo/kiem-toan/"' in home and 'href="/can-bo/ho-so/"' not in home


def test_the_queue_pages_in_id_order_for_central_and_province_staff(
    client: TestClient, engine: Engine, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nidb.web.console import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 1)
    seed_staff(engine, ("rv.tw", "rv.hcm"))
    sign_in(client, "rv.tw")
    names = ["Nguyen Van An", "Trần Thị Bình", "Lê Văn Cường"]  # items in id order
    for number, name in enumerate(names, start=1):
        page = client.get(f"/can-bo/doi-soat/?trang={number}").text
        assert f"trang {number} / 3" in page and name in page
        assert all(other not in page for other in names if other != name)
    assert "Lê Văn Cường" in client.get("/can-bo/doi-soat/?trang=99").text  # the last page
    sign_in(client, "rv.hcm")
    page = client.get("/can-bo/doi-soat/?trang=2").text
    assert "trang 2 / 2" in page and "Lê Văn Cường" in page and "Trần Thị Bình" not in page


def test_opening_a_correction_request_is_in_the_citizens_access_history(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    # docs/console.md: a staff read of a citizen's request is logged with the citizen as subject
    seed_staff(engine, ("rv.hn",))
    sign_in(client, "rv.hn")
    request_id = seeded.corrections["01"]
    assert client.get(f"/can-bo/dieu-chinh/{request_id}").status_code == 200
    access = models.AccessLogEntry.__table__
    with engine.connect() as conn:
        subjects = (
            conn.execute(
                select(access.c.subject).where(
                    access.c.actor == "staff:rv.hn", access.c.service == "correction.view/v1"
                )
            )
            .scalars()
            .all()
        )
    assert len(subjects) == 1 and subjects[0] is not None and len(subjects[0]) == 10
