"""Staff journeys in headless Chromium (Debian's), on SQLite and PostgreSQL, screenshots kept in
test-artifacts/screenshots/: a province reviewer decides an item of their province, an auditor
reads the dashboards and cannot decide, and the decision is made with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from nidb.store import models
from nidb.web.console.dashboard_queries import clear_cache
from tests.e2e.conftest import SCREENSHOTS, LiveServer, staff_sign_in
from tests.web.console_seed import Seeded, seed_register, seed_staff


@pytest.fixture
def seeded(live_server: LiveServer) -> Iterator[Seeded]:
    clear_cache()
    yield seed_register(live_server.engine)
    clear_cache()


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of this step beside the one the fixture takes at the end."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console_{name}.png"), full_page=True)


def status_of(engine: Engine, item_id: int) -> str:
    items = models.ReviewItem.__table__
    with engine.connect() as conn:
        return str(conn.execute(select(items.c.status).where(items.c.id == item_id)).scalar_one())


def tab_to(page: Any, text: str, limit: int = 60) -> None:
    """Press Tab until the focused element's text or label contains ``text``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        label = page.evaluate(
            "(() => { const e = document.activeElement; if (!e) return '';"
            " const l = e.labels && e.labels[0] ? e.labels[0].textContent : '';"
            " return (e.textContent || '') + ' ' + l; })()"
        )
        if text in label:
            return
    raise AssertionError(f"Tab never reached {text!r}")


def test_a_province_reviewer_sees_only_their_province_and_accepts_an_item(
    page: Any, live_server: LiveServer, seeded: Seeded
) -> None:
    seed_staff(live_server.engine, ("rv.hn",))
    staff_sign_in(page, live_server.url, "rv.hn")
    assert page.locator("#so-muc-doi-soat").inner_text() == "1"
    page.get_by_role("link", name="Mở hàng chờ đối soát").click()
    page.wait_for_url("**/can-bo/doi-soat/")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1 and "Nguyen Van An" in rows.first.inner_text()
    assert page.get_by_text("Trần Thị Bình").count() == 0
    shot(page, "reviewer_queue")
    item = seeded.items["R-HN-1"]
    page.get_by_role("link", name=f"Mục {item}").click()
    assert page.locator("tr.differs").count() >= 1
    assert (
        "0,900" in page.locator("dl").first.inner_text()
    )  # a decimal comma, as Vietnamese writes it
    assert "Nguyễn Văn An" in page.locator("table.compare").inner_text()
    shot(page, "reviewer_item")
    # on a phone the comparison is read down the page, not scrolled sideways inside its box
    wrap = "document.querySelector('table.compare').parentElement"
    assert page.evaluate(f"{wrap}.scrollWidth <= {wrap}.clientWidth")
    page.get_by_label("Chấp nhận: hồ sơ là người này trong CSDL dân cư").check()
    page.get_by_label("Ghi chú").fill("Đúng người; tên trong hồ sơ không dấu.")
    page.get_by_role("button", name="Ghi quyết định").click()
    page.wait_for_url("**/can-bo/doi-soat/")
    assert f"Đã chấp nhận mục đối soát số {item}." in page.locator(".flashes").inner_text()
    assert status_of(live_server.engine, item) == "accepted"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_an_auditor_reads_the_dashboards_and_cannot_decide(
    page: Any, live_server: LiveServer, seeded: Seeded
) -> None:
    seed_staff(live_server.engine, ("kt.tw",))
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(page, live_server.url, "kt.tw")
    page.get_by_role("link", name="Bảng điều khiển").first.click()
    page.wait_for_url("**/can-bo/bang-dieu-khien/")
    chart = page.locator("figure.chart svg")
    assert chart.is_visible() and chart.locator("rect.seg-verified").count() == 2
    assert "Đã xác thực 2 / 5 hồ sơ" in page.locator("#tong-tien-do").inner_text()
    page.get_by_role("link", name="Tỷ lệ — sắp xếp theo tỷ lệ đã xác thực").click()
    assert page.locator("#bang-tien-do th[aria-sort='descending']").count() == 1
    shot(page, "auditor_dashboard")
    item = seeded.items["R-HCM-1"]
    page.goto(f"{live_server.url}/can-bo/doi-soat/{item}")
    assert page.get_by_role("button", name="Ghi quyết định").count() == 0
    assert page.get_by_text("chỉ được xem mục này").is_visible()
    assert status_of(live_server.engine, item) == "open"


def test_the_review_decision_can_be_made_with_the_keyboard_alone(
    page: Any, live_server: LiveServer, seeded: Seeded
) -> None:
    seed_staff(live_server.engine, ("rv.hcm",))
    staff_sign_in(page, live_server.url, "rv.hcm")
    page.goto(f"{live_server.url}/can-bo/doi-soat/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Bỏ qua, đến nội dung chính"
    page.keyboard.press("Enter")  # skip the navigation
    item = seeded.items["R-HCM-1"]
    tab_to(page, f"Mục {item}")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/can-bo/doi-soat/{item}")
    tab_to(page, "Chấp nhận: hồ sơ")  # the radio group: arrows move between its options
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("Từ chối: không phải người này").is_checked()
    page.keyboard.press("Tab")  # the note
    page.keyboard.press("Tab")  # the button
    page.keyboard.press("Enter")  # submitted without a note: refused, nothing stored
    page.wait_for_load_state()
    assert "Vui lòng ghi lý do từ chối" in page.locator("#tom-tat-loi").inner_text()
    assert status_of(live_server.engine, item) == "open"
    shot(page, "keyboard_error")
    tab_to(page, "Chấp nhận: hồ sơ")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("Ngày sinh khác, không phải người này")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/can-bo/doi-soat/")
    assert status_of(live_server.engine, item) == "rejected"
