"""Staff two-factor sign-in in headless Chromium: an admin enrols by typing the key shown in
groups of 4 into an "app" (pyotp), keeps the recovery codes, signs out, signs in with a code.
Screenshots of the enrolment, recovery-code and code pages at 1280 and 375 px wide are kept in
``test-artifacts/screenshots/`` and ``/tmp/totp-*.png``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp

from tests.e2e.conftest import SCREENSHOTS, LiveServer, open_menu, staff_sign_in


def _shots(page: Any, name: str, database: str) -> None:
    """The page at 1280 and at 375 px wide, full length; no sideways scroll at 375."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (375, 812)):
        page.set_viewport_size({"width": width, "height": height})
        path = SCREENSHOTS / f"totp-{name}-{width}-{database}.png"
        page.screenshot(path=str(path), full_page=True)
        if database == "sqlite":
            shutil.copyfile(path, Path("/tmp") / f"totp-{name}-{width}.png")
        if width == 375:
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, name


def test_an_admin_enrols_in_the_browser_then_signs_in_with_a_code(
    page: Any,
    live_server: LiveServer,
    make_staff_user: Callable[..., str],
    database_url: str,
) -> None:
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    make_staff_user(
        "quan.tri", "admin", full_name="Đỗ Văn Quản Trị", scope_level="central",
        province_code=None, second_factor=False,
    )  # fmt: skip
    staff_sign_in(page, live_server.url, "quan.tri")
    page.wait_for_url("**/can-bo/xac-thuc-hai-buoc?next=/can-bo/")
    assert page.get_by_role(
        "img", name="Mã QR để thêm tài khoản vào ứng dụng xác thực"
    ).is_visible()
    _shots(page, "dang-ky", database)
    secret = page.locator("#khoa-bi-mat").inner_text().replace(" ", "")
    app = pyotp.TOTP(secret)
    # the console stays closed until the first code is right
    page.goto(f"{live_server.url}/can-bo/doi-soat/")
    assert "/can-bo/xac-thuc-hai-buoc" in page.url
    page.get_by_label("Mã 6 chữ số trong ứng dụng").fill(app.now())
    page.get_by_label("Mã 6 chữ số trong ứng dụng").press("Enter")
    page.wait_for_load_state()
    codes = page.locator("ol.recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    _shots(page, "ma-khoi-phuc", database)
    page.get_by_role("link", name="Tôi đã lưu các mã, tiếp tục").click()
    page.wait_for_url("**/can-bo/doi-soat/")
    open_menu(page)
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/can-bo/dang-nhap?da_dang_xuat=1")

    staff_sign_in(page, live_server.url, "quan.tri", engine=live_server.engine)
    assert page.url == f"{live_server.url}/can-bo/"
    assert "Xin chào, Đỗ Văn Quản Trị" in page.locator("h1").inner_text()
    assert "Đang bật" in page.inner_text("main")


def test_the_code_page_refuses_a_wrong_code_in_the_browser(
    page: Any,
    live_server: LiveServer,
    make_staff_user: Callable[..., str],
    database_url: str,
) -> None:
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    make_staff_user("duyet.hn", "approver", full_name="Phan Văn Duyệt")
    page.goto(f"{live_server.url}/can-bo/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill("duyet.hn")
    page.get_by_label("Mật khẩu").fill("Mat-khau-2026!")
    page.get_by_label("Mật khẩu").press("Enter")
    page.wait_for_url("**/can-bo/ma-xac-thuc?next=/can-bo/")
    _shots(page, "ma-xac-thuc", database)
    page.get_by_label("Mã xác thực").fill("12345")  # five digits: never a code
    page.get_by_label("Mã xác thực").press("Enter")
    page.wait_for_load_state()
    assert "Mã xác thực không đúng" in page.locator("#tom-tat-loi").inner_text()
    _shots(page, "ma-xac-thuc-sai", database)
    page.get_by_role("button", name="Hủy và đăng xuất").click()
    page.wait_for_url("**/can-bo/dang-nhap?da_dang_xuat=1")
