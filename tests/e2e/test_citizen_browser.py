"""Citizen journeys in headless Chromium at phone width (375 px), through the VNeID stand-in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update

from nidb.store.models_web import ConsentChoice, CorrectionRequest, WebSession
from nidb.web.sessions import utcnow
from tests.e2e.conftest import LiveServer, Vneid, citizen_sign_in, nav_link, open_menu

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, page.url


def test_citizen_journey_record_card_access_correction_consent_sign_out(
    page: Any,
    live_server: LiveServer,
    register: Engine,
    vneid: Vneid,
    tmp_path: Path,
    snap: Callable[[Any, str], None],
) -> None:
    citizen_sign_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/cong-dan/")
    assert page.locator("h1").inner_text() == "Xin chào, Nguyễn Văn An"
    _no_sideways_scroll(page)

    nav_link(page, "Hồ sơ của tôi").click()
    assert page.get_by_text("Đã xác thực với CSDL quốc gia về dân cư").is_visible()
    assert page.locator("caption", has_text="Năm 2025").count() == 1
    _no_sideways_scroll(page)
    snap(page, "ho-so")

    nav_link(page, "Thẻ BHYT").click()
    assert page.get_by_role("img", name="Mã QR thẻ BHYT").is_visible()
    box = page.get_by_role("img", name="Mã QR thẻ BHYT").bounding_box()
    assert box is not None and 150 <= box["width"] <= 260  # big enough to scan, fits the phone
    _no_sideways_scroll(page)
    snap(page, "the-bhyt")

    nav_link(page, "Ai đã xem").click()
    assert page.get_by_text("Bệnh viện Bạch Mai").is_visible()
    snap(page, "truy-cap")

    nav_link(page, "Điều chỉnh").click()
    fake = tmp_path / "giay-khai-sinh.pdf"
    fake.write_text("<html><script>alert(1)</script></html>")
    page.get_by_label("Thông tin cần điều chỉnh").select_option("date_of_birth")
    page.get_by_label("Giá trị đúng").fill("18/03/1985")
    page.get_by_label("Lý do").fill("Giấy khai sinh ghi ngày 18/03/1985")
    page.get_by_label("Giấy tờ chứng minh").set_input_files(str(fake))
    page.get_by_role("button", name="Gửi yêu cầu").click()
    assert "Chỉ nhận tệp PDF, JPG hoặc PNG" in page.locator("#evidence-loi").inner_text()
    assert page.get_by_label("Giá trị đúng").input_value() == "18/03/1985"  # kept for retry
    snap(page, "dieu-chinh-loi")
    good = tmp_path / "giay-khai-sinh.png"
    good.write_bytes(PNG)
    page.get_by_label("Giấy tờ chứng minh").set_input_files(str(good))
    page.get_by_role("button", name="Gửi yêu cầu").click()
    assert page.get_by_text("Đã gửi yêu cầu điều chỉnh số").is_visible()
    assert page.get_by_role("cell", name="Đã tiếp nhận").is_visible()
    _no_sideways_scroll(page)

    nav_link(page, "Đồng ý chia sẻ").click()
    page.get_by_label("Chia sẻ quá trình đóng BHXH với ngân hàng khi tôi vay vốn").check()
    page.get_by_role("button", name="Lưu lựa chọn").click()
    assert page.get_by_text("Đã lưu lựa chọn đồng ý chia sẻ của bạn.").is_visible()
    assert page.get_by_role("cell", name="Đồng ý", exact=True).is_visible()
    snap(page, "dong-y")

    open_menu(page)

    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/cong-dan/dang-nhap?da_dang_xuat=1")
    page.goto(f"{live_server.url}/cong-dan/ho-so")
    assert "/cong-dan/dang-nhap" in page.url
    with register.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CorrectionRequest)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(ConsentChoice)).scalar_one() == 1


def test_citizen_session_expiry_and_csrf_refusal_in_the_browser(
    page: Any, live_server: LiveServer, register: Engine, vneid: Vneid
) -> None:
    citizen_sign_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/cong-dan/")
    with register.begin() as conn:
        conn.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    page.goto(f"{live_server.url}/cong-dan/ho-so")
    assert "het_han=1" in page.url
    assert page.get_by_text("Phiên làm việc đã hết hạn").is_visible()

    citizen_sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/cong-dan/dong-y")
    page.evaluate("document.querySelector('form.card input[name=csrf_token]').value = 'gia-mao'")
    page.get_by_label("qua thư điện tử").check()
    page.get_by_role("button", name="Lưu lựa chọn").click()
    assert page.get_by_role("heading", name="Yêu cầu bị từ chối").is_visible()
    with register.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ConsentChoice)).scalar_one() == 0


def test_the_citizen_journey_works_with_the_keyboard_alone(
    page: Any, live_server: LiveServer, register: Engine, vneid: Vneid
) -> None:
    page.goto(f"{live_server.url}/cong-dan/dang-nhap")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the VNeID button
    assert "VNeID" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{vneid.url}/authorize**")
    page.keyboard.press("Tab")
    page.keyboard.type("001085012345")
    page.keyboard.press("Tab")
    page.keyboard.type("123456")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/cong-dan/")
    # from the main content, Tab reaches the page links in order
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # skip link → main
    for _ in range(1):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/cong-dan/ho-so"
    page.keyboard.press("Enter")
    page.wait_for_url("**/cong-dan/ho-so")
    assert page.locator("h1").inner_text() == "Hồ sơ của tôi"
