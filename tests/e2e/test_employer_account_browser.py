"""An employer's account pages in headless Chromium, then a staff member's debtors page:
workers with their cards, a declaration's page, the statements (on screen and the PDF
downloaded), the payments, the debt. Screenshots at 1280 and 375 px go to
/tmp/shots-employers/ for review; no page scrolls sideways at 375 px."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tests.e2e.conftest import LiveServer, nav_link, open_menu, staff_sign_in
from tests.e2e.test_employer_browser import _shots
from tests.employers.test_account_pages import seed_account
from tests.employers.test_pages import PASSWORD
from tests.seed import register


def test_an_employer_reads_its_account(
    page: Any, live_server: LiveServer, database_url: str
) -> None:
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    seed_account(live_server.engine)
    base = live_server.url
    page.goto(f"{base}/don-vi/dang-nhap")
    page.get_by_label("Mã đơn vị").fill("TA0001A")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_label("Mật khẩu").press("Enter")
    page.wait_for_url(f"{base}/don-vi/")
    table = page.locator("table").inner_text()
    assert "Kế toán" in table and "Còn hạn đến" in table
    _shots(page, "11-nguoi-lao-dong-the", database)

    nav_link(page, "Hồ sơ đã nộp", exact=True).click()
    page.get_by_role("link", name="A-1").click()
    assert "Hồ sơ số A-1" in page.locator("h1").inner_text()
    assert "Đã chấp nhận" in page.locator("main").inner_text()
    _shots(page, "12-ho-so-chi-tiet", database)

    nav_link(page, "Thông báo C12", exact=True).click()
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    assert "11/2026" in rows.nth(0).inner_text() and "Đã đóng đủ" in rows.nth(1).inner_text()
    _shots(page, "13-thong-bao", database)
    page.get_by_role("link", name="Xem").first.click()
    page.wait_for_url(f"{base}/don-vi/thong-bao/2026-11")
    main = page.locator("main").inner_text()
    assert "Thông báo kết quả đóng tháng 11/2026" in main and "Bảo hiểm thất nghiệp" in main
    _shots(page, "14-thong-bao-thang", database)
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải thông báo C12-TS (PDF)").click()
    pdf = download.value
    assert pdf.suggested_filename == "C12-TS-TA0001A-2026-11.pdf"
    path = pdf.path()
    assert path is not None and Path(path).read_bytes()[:5] == b"%PDF-"

    nav_link(page, "Đã nộp tiền", exact=True).click()
    assert "Ngày 20/11/2026: 7.000.000 đồng" in page.locator("main").inner_text()
    _shots(page, "15-da-nop-tien", database)
    nav_link(page, "Số nợ", exact=True).click()
    main = page.locator("main").inner_text()
    assert "6.440.000 đồng" in main and "BHXH TA0001A" in main
    _shots(page, "16-so-no", database)

    page.goto(f"{base}/don-vi/ho-so/B-1")  # another employer's number typed in the URL
    assert "Không tìm thấy hồ sơ" in page.locator("h1").inner_text()
    open_menu(page)
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/don-vi/dang-nhap?da_dang_xuat=1")


def test_staff_read_the_debtors_page(
    page: Any,
    live_server: LiveServer,
    engine: Engine,
    database_url: str,
    make_staff_user: Callable[..., str],
) -> None:
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with register(engine) as reg:  # declared before it closed; owes October and November
        reg.employer("TC0003C", "Công ty CP Đã Giải Thể", province="01", status="closed")
        reg.wage("TC0003C", "0100000003", 10_000_000, "2026-10")
    seed_account(engine)  # B owes October; A paid it
    make_staff_user("kt.tw", "auditor", scope_level="central", province_code=None)
    staff_sign_in(page, live_server.url, "kt.tw")
    nav_link(page, "Nợ đóng", exact=True).click()
    page.wait_for_url(f"{live_server.url}/can-bo/no-dong/")
    main = page.locator("main").inner_text()
    assert "Nợ theo tỉnh đến tháng 11/2026" in main
    assert "Doanh nghiệp đã đóng cửa" in main and "TC0003C" in main and "TB0002B" in main
    assert "TA0001A" not in main
    page.get_by_label("Chỉ đơn vị đã giải thể, phá sản hoặc ngừng hoạt động").check()
    page.get_by_role("button", name="Xem").click()
    listing = page.locator("#bang-don-vi-no").inner_text()
    assert "TC0003C" in listing and "TB0002B" not in listing
    _shots(page, "21-no-dong-can-bo", database)
