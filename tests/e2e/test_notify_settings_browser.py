"""The notification settings page in Chromium at 375 and 1280 px: reached from the consent page,
a bad number refused next to the field, saved, no sideways scrolling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from nidb.web.consents import current_choices
from tests import seed
from tests.e2e.conftest import LiveServer, Vneid, citizen_sign_in, nav_link


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_notification_settings_on_a_phone_and_a_desktop(
    page: Any,
    live_server: LiveServer,
    register: Engine,
    vneid: Vneid,
    snap: Callable[[Any, str], None],
) -> None:
    citizen_sign_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/cong-dan/")
    nav_link(page, "Đồng ý chia sẻ").click()
    page.get_by_role("link", name="Cài đặt thông báo").click()
    assert page.locator("h1").inner_text() == "Cài đặt thông báo"
    page.get_by_label("Thư điện tử", exact=True).fill("an.nguyen@example.vn")
    page.get_by_label("Số điện thoại di động").fill("024 3826 000")
    page.get_by_label("Nhận thông báo qua tin nhắn SMS").check()
    page.get_by_label("Báo cho tôi mỗi khi").check()
    page.get_by_role("button", name="Lưu cài đặt").click()
    assert page.get_by_role("heading", name="Vui lòng sửa 1 lỗi dưới đây").is_visible()
    assert page.locator("#phone-loi").inner_text().startswith("Số điện thoại di động không đúng")
    _no_sideways_scroll(page)
    snap(page, "loi-375")
    page.get_by_label("Số điện thoại di động").fill("0912 345 678")
    page.get_by_role("button", name="Lưu cài đặt").click()
    assert page.get_by_text("Đã lưu cài đặt thông báo của bạn.").is_visible()
    assert page.get_by_label("Số điện thoại di động").input_value() == "0912345678"
    choices = current_choices(register, seed.PID)
    assert choices["notify_sms"] and choices["notify_access"] and not choices["notify_email"]
    _no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    snap(page, "da-luu-1280")
    # the page's own content fits (the shared header at 1280 px is the header's own matter)
    assert page.evaluate(
        "[...document.querySelectorAll('main *')].every(e => e.getBoundingClientRect().right"
        " <= window.innerWidth + 1)"
    )


def test_employer_notification_settings_fit_a_phone_and_a_desktop(
    page: Any, live_server: LiveServer, snap: Callable[[Any, str], None]
) -> None:
    from tests.employers.test_pages import PASSWORD, enrolled_with_password

    enrolled_with_password(live_server.engine)
    page.goto(f"{live_server.url}/don-vi/dang-nhap")
    page.get_by_label("Mã đơn vị").fill("TA0001A")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_label("Mật khẩu").press("Enter")
    page.wait_for_url(f"{live_server.url}/don-vi/")
    page.get_by_role("link", name="Nhận thông báo nhắc nợ qua thư điện tử, SMS").click()
    page.get_by_label("Số điện thoại di động").fill("12345")
    page.get_by_role("button", name="Lưu cài đặt").click()
    assert page.locator("#phone-loi").is_visible()
    _no_sideways_scroll(page)
    snap(page, "don-vi-loi-375")
    page.get_by_label("Số điện thoại di động").fill("0912345678")
    page.get_by_label("Tin nhắn SMS").uncheck()
    page.get_by_role("button", name="Lưu cài đặt").click()
    assert page.get_by_text("Đã lưu cài đặt nhận thông báo.").is_visible()
    assert not page.get_by_label("Tin nhắn SMS").is_checked()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    _no_sideways_scroll(page)
    snap(page, "don-vi-1280")
