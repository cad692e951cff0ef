"""The citizen's notification settings page over HTTP: bad input refused next to the field with
nothing stored, choices saved as consents, addresses saved, opt-out takes effect."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from nidb.store.models_notify import NotifyContact
from nidb.web.consents import current_choices
from nidb.web.sessions import COOKIE
from tests import seed
from tests.web.conftest import csrf_of

PAGE = "/cong-dan/cai-dat-thong-bao"


def signed_in(client: TestClient, engine: Engine) -> str:
    seed.insured_person(engine)
    client.cookies.set(COOKIE, seed.citizen_session(engine, seed.PID, "Nguyễn Văn An"))
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    assert "Cài đặt thông báo" in page.text
    return csrf_of(page.text)


def contacts(engine: Engine) -> list[tuple[str | None, str | None]]:
    with engine.connect() as conn:
        return [(e, p) for e, p in conn.execute(select(NotifyContact.email, NotifyContact.phone))]


def test_bad_addresses_are_refused_next_to_the_field(client: TestClient, engine: Engine) -> None:
    token = signed_in(client, engine)
    answer = client.post(
        PAGE,
        data={
            "csrf_token": token,
            "email": "khong-phai-thu",
            "phone": "0243826000",
            "notify_email": "1",
            "notify_sms": "1",
            "notify_access": "1",
        },
    )
    assert answer.status_code == 400
    assert "Địa chỉ thư điện tử không đúng dạng" in answer.text
    assert "Số điện thoại di động không đúng" in answer.text
    assert 'value="khong-phai-thu"' in answer.text  # what was typed stays in the form
    assert contacts(engine) == []
    assert not any(current_choices(engine, seed.PID).values())
    missing = client.post(PAGE, data={"csrf_token": token, "notify_sms": "1"})
    assert missing.status_code == 400 and "Nhập số điện thoại di động" in missing.text
    alone = client.post(PAGE, data={"csrf_token": token, "notify_access": "1"})
    assert alone.status_code == 400 and "Chọn ít nhất một kênh" in alone.text


def test_choices_and_addresses_are_saved_and_can_be_withdrawn(
    client: TestClient, engine: Engine
) -> None:
    token = signed_in(client, engine)
    saved = client.post(
        PAGE,
        data={
            "csrf_token": token,
            "email": " an.nguyen@example.vn ",
            "phone": "0912 345 678",
            "notify_email": "1",
            "notify_access": "1",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == PAGE
    assert contacts(engine) == [("an.nguyen@example.vn", "0912345678")]
    choices = current_choices(engine, seed.PID)
    assert (choices["notify_email"], choices["notify_sms"], choices["notify_access"]) == (
        True,
        False,
        True,
    )
    page = client.get(PAGE).text
    assert "Đã lưu cài đặt thông báo" in page and 'value="an.nguyen@example.vn"' in page
    client.post(PAGE, data={"csrf_token": token, "email": "an.nguyen@example.vn"})
    assert not any(current_choices(engine, seed.PID).values())  # opted out of everything
    consent_page = client.get("/cong-dan/dong-y").text
    assert "Báo cho tôi mỗi khi cơ quan, tổ chức hoặc cán bộ xem dữ liệu của tôi" in consent_page
    assert PAGE in consent_page


def test_the_page_needs_a_citizen(client: TestClient) -> None:
    answer = client.get(PAGE)
    assert answer.status_code in (302, 303, 401)


def test_an_employer_chooses_its_addresses_and_opts_out_of_sms(
    client: TestClient, engine: Engine
) -> None:
    from nidb.notify.contacts import employer_contact
    from tests.employers.test_pages import EMPLOYER, enrolled_with_password, sign_in

    enrolled_with_password(engine)
    assert sign_in(client).status_code == 303  # type: ignore[attr-defined]
    home = client.get("/don-vi/").text
    assert "/don-vi/cai-dat-thong-bao" in home
    page = client.get("/don-vi/cai-dat-thong-bao")
    assert page.status_code == 200 and "Nhận thông báo" in page.text
    token = csrf_of(page.text)
    bad = client.post(
        "/don-vi/cai-dat-thong-bao",
        data={"csrf_token": token, "email": "ke toan@", "email_on": "1", "sms_on": "1"},
    )
    assert bad.status_code == 400 and "Địa chỉ thư điện tử không đúng dạng" in bad.text
    with engine.connect() as conn:
        before = employer_contact(conn, EMPLOYER)
    assert before.email_on and before.sms_on  # statutory reminders: on unless opted out
    saved = client.post(
        "/don-vi/cai-dat-thong-bao",
        data={"csrf_token": token, "email": "ketoan@congty.vn", "phone": "", "email_on": "1"},
    )
    assert saved.status_code == 303
    with engine.connect() as conn:
        after = employer_contact(conn, EMPLOYER)
    assert (after.email, after.email_on, after.sms_on) == ("ketoan@congty.vn", True, False)
    assert "Đã lưu cài đặt nhận thông báo" in client.get("/don-vi/cai-dat-thong-bao").text
