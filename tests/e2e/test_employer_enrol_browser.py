"""Staff enrol an employer from the console, and an employer meets the sign-in lockout, in
headless Chromium. Screenshots at 1280 and 375 px go to /tmp/shots-emplogin/ for review; no
page scrolls sideways at either width."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nidb.protocol.keys import SigningKey
from tests.e2e.conftest import LiveServer, open_menu, staff_sign_in
from tests.employers.support import EMPLOYER, seed_employers
from tests.employers.test_pages import PASSWORD, enrolled_with_password

SHOTS = Path("/tmp/shots-emplogin")


def _shots(page: Any, name: str, database: str) -> None:
    """Screenshots at both widths (one set, of SQLite), and no sideways scrolling at either."""
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        if database == "sqlite":
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (name, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def _database(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def test_staff_find_enrol_and_revoke_an_employers_key(
    page: Any,
    live_server: LiveServer,
    database_url: str,
    make_staff_user: Callable[..., str],
) -> None:
    database = _database(database_url)
    base = live_server.url
    seed_employers(live_server.engine)
    make_staff_user("rv.hn", "reviewer", province_code="01")
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(page, base, "rv.hn")
    page.get_by_role("link", name="Đăng ký giao dịch điện tử của đơn vị").click()
    page.wait_for_url(f"{base}/can-bo/don-vi/")
    page.get_by_label("Mã đơn vị hoặc mã số thuế").fill("0101234567")
    page.get_by_role("button", name="Tìm đơn vị").click()
    assert "Chưa đăng ký" in page.locator("#ket-qua-don-vi").inner_text()
    _shots(page, "01-tim-don-vi", database)
    page.get_by_role("link", name=EMPLOYER).click()
    page.wait_for_url(f"{base}/can-bo/don-vi/{EMPLOYER}")
    assert "Công ty TNHH An Bình" in page.locator("h1").inner_text()
    _shots(page, "02-chua-dang-ky", database)

    key_field = page.get_by_label("Khoá công khai Ed25519 của đơn vị (base64url)")
    key_field.fill("khong-phai-khoa")
    page.get_by_label("Chưa đặt mật khẩu").check()
    page.get_by_role("button", name="Đăng ký cho đơn vị").click()
    error = page.locator("#public_key-loi").inner_text()
    assert "Khoá công khai không hợp lệ" in error and "Public key must be" in error
    _shots(page, "03-khoa-sai", database)

    key = SigningKey.generate()
    page.get_by_label("Khoá công khai Ed25519 của đơn vị (base64url)").fill(key.public_b64)
    page.get_by_label("Cấp mật khẩu ngẫu nhiên").check()
    page.get_by_role("button", name="Đăng ký cho đơn vị").click()
    issued = page.locator("#mat-khau-moi").inner_text()
    assert len(issued) == 19
    assert "Đã đăng ký" in page.locator("#trang-thai-dang-ky").inner_text()
    assert key.kid in page.locator("#bang-khoa").inner_text()
    _shots(page, "04-da-dang-ky-mat-khau-cap", database)

    page.reload()  # shown once: a reload is a GET of the page, without it
    assert page.locator("#mat-khau-moi").count() == 0
    page.get_by_label("Lý do thu hồi").fill("Mất thiết bị ký")
    page.get_by_role("button", name="Thu hồi khoá").click()
    page.wait_for_url(f"{base}/can-bo/don-vi/{EMPLOYER}")
    assert "Đã thu hồi" in page.locator("#bang-khoa").inner_text()
    assert "Mất thiết bị ký" in page.locator("#bang-khoa").inner_text()
    assert "không còn khoá nào đang hiệu lực" in page.locator("#khong-con-khoa").inner_text()
    _shots(page, "05-da-thu-hoi-khoa", database)

    open_menu(page)
    page.get_by_role("button", name="Đăng xuất").click()
    page.goto(f"{base}/don-vi/dang-nhap")  # the employer signs in with what staff handed over
    page.get_by_label("Mã đơn vị").fill(EMPLOYER)
    page.get_by_label("Mật khẩu").fill(issued)
    page.get_by_label("Mật khẩu").press("Enter")
    page.wait_for_url(f"{base}/don-vi/doi-mat-khau")  # an issued password is changed first
    assert "do cơ quan BHXH cấp" in page.locator("#phai-doi").inner_text()
    _shots(page, "07-don-vi-doi-mat-khau", database)
    page.get_by_label("Mật khẩu hiện tại").fill(issued)
    page.locator("#new_password").fill("Don-vi-An-Binh-2026")  # its label is a prefix of the next
    page.get_by_label("Nhập lại mật khẩu mới").fill("Don-vi-An-Binh-2026")
    page.get_by_role("button", name="Đổi mật khẩu").click()
    page.wait_for_url(f"{base}/don-vi/")
    assert "Đã đổi mật khẩu." in page.locator(".flashes").inner_text()


def test_an_employer_sees_the_lockout_in_vietnamese(
    page: Any, live_server: LiveServer, database_url: str
) -> None:
    database = _database(database_url)
    base = live_server.url
    enrolled_with_password(live_server.engine)
    page.set_viewport_size({"width": 1280, "height": 900})
    for attempt in range(5):
        page.goto(f"{base}/don-vi/dang-nhap")
        page.get_by_label("Mã đơn vị").fill(EMPLOYER)
        page.get_by_label("Mật khẩu").fill(f"Sai-mat-khau-{attempt}")
        page.get_by_label("Mật khẩu").press("Enter")
        page.wait_for_load_state()
    page.goto(f"{base}/don-vi/dang-nhap")
    page.get_by_label("Mã đơn vị").fill(EMPLOYER)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_label("Mật khẩu").press("Enter")
    page.wait_for_load_state()
    alert = page.get_by_role("alert").inner_text()
    assert "Tài khoản tạm thời bị khóa do nhập sai mật khẩu nhiều lần." in alert
    assert "Vui lòng thử lại sau 15 phút." in alert
    assert page.url == f"{base}/don-vi/dang-nhap"
    _shots(page, "06-don-vi-bi-khoa", database)
