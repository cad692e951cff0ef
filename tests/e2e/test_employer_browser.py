"""An employer's pages in headless Chromium: sign in, declare an increase (a mistake first),
see the worker, change a salary, declare a decrease, upload a list with a bad row, read the
declarations. Screenshots at 1280 and 375 px go to /tmp/shots-employers/ for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from nidb.store.models_employment import DeclaredWage
from tests.e2e.conftest import LiveServer, nav_link, open_menu
from tests.employers.test_pages import PASSWORD, enrolled_with_password

SHOTS = Path("/tmp/shots-employers")


def _shots(page: Any, name: str, database: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if database != "sqlite":  # one set of pictures is enough
        return
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, width
    page.set_viewport_size({"width": 375, "height": 812})


def test_an_employer_walks_its_pages(
    page: Any, live_server: LiveServer, tmp_path: Path, database_url: str
) -> None:
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    enrolled_with_password(live_server.engine)
    base = live_server.url
    page.goto(f"{base}/don-vi/")
    page.wait_for_url("**/don-vi/dang-nhap**")
    page.get_by_label("Mã đơn vị").fill("TA0001A")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    _shots(page, "01-dang-nhap", database)
    page.get_by_label("Mật khẩu").press("Enter")
    page.wait_for_url(f"{base}/don-vi/")
    assert "Người lao động của Công ty TNHH An Bình" in page.locator("h1").inner_text()

    nav_link(page, "Báo tăng", exact=True).click()
    page.get_by_label("Số định danh cá nhân").fill("001090000101")
    page.get_by_label("Họ và tên").fill("Trần Thị Bính")  # a wrong tone: refused
    page.get_by_label("Ngày sinh").fill("12/05/1990")
    page.get_by_label("Tiền lương đóng BHXH (đồng/tháng)").fill("9.000.000")
    page.get_by_label("Chức danh, công việc").fill("Kế toán")
    page.get_by_label("Nơi đăng ký khám chữa bệnh ban đầu (mã cơ sở)").fill("01001")
    page.get_by_label("Tham gia từ tháng").fill("11/2026")
    page.get_by_role("button", name="Gửi hồ sơ").click()
    assert (
        "Họ tên không khớp với CSDL quốc gia về dân cư."
        in page.locator(".error-summary").inner_text()
    )
    _shots(page, "02-bao-tang-loi", database)
    page.get_by_label("Họ và tên").fill("Trần Thị Bình")
    page.get_by_role("button", name="Gửi hồ sơ").click()
    page.wait_for_url(f"{base}/don-vi/ho-so")
    assert "đã được chấp nhận" in page.locator(".flashes").inner_text()

    nav_link(page, "Điều chỉnh lương", exact=True).click()
    page.get_by_label("Người lao động").select_option("001090000101")
    page.get_by_label("Tiền lương mới (đồng/tháng)").fill("11500000")
    page.get_by_label("Áp dụng từ tháng").fill("01/2027")
    page.get_by_role("button", name="Gửi hồ sơ").click()
    page.wait_for_url(f"{base}/don-vi/ho-so")

    nav_link(page, "Báo giảm", exact=True).click()
    page.get_by_label("Người lao động").select_option("001090000101")
    page.get_by_label("Lý do giảm").select_option("contract_end")
    page.get_by_label("Giảm từ tháng").fill("04/2027")
    _shots(page, "03-bao-giam", database)
    page.get_by_role("button", name="Gửi hồ sơ").click()
    page.wait_for_url(f"{base}/don-vi/ho-so")

    csv = tmp_path / "danh-sach.csv"
    csv.write_text(
        "personal_id,full_name,date_of_birth,wage,facility_code,month\n"
        "001092000202,Lê Văn Cường,1992-11-03,8000000,01001,2026-12\n"
        "079088000303,Phạm Minh Đức,1988-01-20,không rõ,01001,2026-12\n",
        encoding="utf-8",
    )
    nav_link(page, "Nộp danh sách", exact=True).click()
    page.get_by_label("Tệp danh sách (CSV, mã hoá UTF-8)").set_input_files(str(csv))
    page.get_by_role("button", name="Nộp danh sách").click()
    assert "1 dòng được chấp nhận, 1 dòng bị từ chối" in page.locator("main").inner_text()
    assert "không rõ" in page.locator("table").inner_text()
    _shots(page, "04-nop-danh-sach", database)

    nav_link(page, "Người lao động", exact=True).click()
    table = page.locator("table").inner_text()
    assert "Lê Văn Cường" in table and "11.500.000 đồng" in table and "03/2027" in table
    _shots(page, "05-nguoi-lao-dong", database)
    nav_link(page, "Hồ sơ đã nộp", exact=True).click()
    records = page.locator("table").inner_text()
    assert "Báo giảm lao động" in records and "Đã chấp nhận" in records
    assert "Bị từ chối" in records  # the refused row of the list
    _shots(page, "06-ho-so", database)
    with live_server.engine.connect() as conn:
        declared = conn.execute(select(DeclaredWage.personal_id)).scalars().all()
    assert sorted(declared) == ["001090000101", "001090000101", "001092000202"]
    open_menu(page)
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/don-vi/dang-nhap?da_dang_xuat=1")
