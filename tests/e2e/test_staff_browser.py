"""Staff sign-in in headless Chromium: wrong password, lockout, keyboard-only, sign-out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import LiveServer, open_menu, staff_sign_in


def test_staff_signs_in_with_the_keyboard_after_a_wrong_password_and_signs_out(
    page: Any, live_server: LiveServer, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    staff_sign_in(page, live_server.url, "canbo.hn", "Sai-mat-khau-999")
    assert page.locator("#tom-tat-loi").inner_text() == "Tên đăng nhập hoặc mật khẩu không đúng."
    # keyboard only: the skip link is the first stop, then the form
    page.goto(f"{live_server.url}/can-bo/dang-nhap")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Bỏ qua, đến nội dung chính"
    page.keyboard.press("Enter")  # the skip link moves focus to the main content
    page.keyboard.press("Tab")
    page.keyboard.type("canbo.hn")
    page.keyboard.press("Tab")
    page.keyboard.type("Mat-khau-2026!")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/can-bo/")
    assert "Xin chào, Nguyễn Thị Cán Bộ" in page.locator("h1").inner_text()
    open_menu(page)
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/can-bo/dang-nhap?da_dang_xuat=1")
    assert page.get_by_text("Bạn đã đăng xuất.").is_visible()
    page.goto(f"{live_server.url}/can-bo/")
    assert "/can-bo/dang-nhap" in page.url


def test_five_wrong_passwords_lock_the_account_in_the_browser(
    page: Any, live_server: LiveServer, make_staff_user: Callable[..., str]
) -> None:
    make_staff_user()
    for _ in range(5):
        staff_sign_in(page, live_server.url, "canbo.hn", "Sai-mat-khau-999")
    assert "tạm thời bị khóa" in page.locator("#tom-tat-loi").inner_text()
    staff_sign_in(page, live_server.url, "canbo.hn")
    assert "tạm thời bị khóa" in page.locator("#tom-tat-loi").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
