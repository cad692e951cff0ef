"""The header: one line at 1280 px, a "Danh mục" menu at 375 px, breadcrumbs, the footer's hotline
(issue 17, item 7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from tests.e2e.conftest import LiveServer, staff_sign_in


def test_the_header_is_one_line_wide_and_a_menu_narrow(
    page: Any, live_server: LiveServer, make_staff_user: Callable[..., str], engine: Engine
) -> None:
    # the widest navigation there is: a national administrator sees every console link
    make_staff_user("quantri.tw", "admin", scope_level="central", province_code=None)
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(page, live_server.url, "quantri.tw", engine=engine)
    page.goto(f"{live_server.url}/can-bo/kiem-toan/nhat-ky")
    header = page.locator("header.site-header")
    links = header.locator("#dieu-huong a")
    assert links.count() >= 5
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
    assert len(tops) == 1, f"navigation links on {len(tops)} lines"
    assert header.bounding_box()["height"] <= 80
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert not header.get_by_role("button", name="Danh mục").is_visible()
    crumbs = page.get_by_role("navigation", name="Vị trí trang")
    assert crumbs.get_by_role("link", name="Trang chủ").is_visible()
    assert "1900 9068" in page.locator("footer").inner_text()

    page.set_viewport_size({"width": 375, "height": 812})
    toggle = header.get_by_role("button", name="Danh mục")
    assert toggle.is_visible() and not links.first.is_visible()
    assert header.bounding_box()["height"] <= 70  # the brand and the button, one line
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and links.first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
