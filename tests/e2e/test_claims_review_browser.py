"""A Hà Nội reviewer reviews a flagged claim in headless Chromium (Debian's), on SQLite and
PostgreSQL: the claim's lines beside the assessment at 375 px and 1280 px, a bad amount refused
on the page, then one line adjusted with a reason; screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from nidb.store.models_claims import Claim, ClaimLine, ClaimReview
from tests.claims.review_seed import seed_claims
from tests.conftest import LiveServer
from tests.e2e.conftest import SCREENSHOTS, staff_sign_in
from tests.web.console_seed import seed_staff


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"claims_review_{name}.png"), full_page=True)


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_reviewer_adjusts_a_flagged_claim_line_with_a_reason(
    page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    engine = live_server.engine
    claims = seed_claims(engine, tmp_path)
    seed_staff(engine, ("rv.hn",))
    staff_sign_in(page, live_server.url, "rv.hn")
    page.get_by_role("link", name="Giám định BHYT: hồ sơ cần xem xét").click()
    page.wait_for_url("**/can-bo/giam-dinh/")
    rows = page.locator("#bang-ho-so tbody tr")
    assert rows.count() == 1 and "Bệnh viện trung ương 01001" in rows.first.inner_text()
    no_sideways_scroll(page)
    shot(page, "list_375")
    claim = claims["LK-GIAM"]
    page.get_by_role("link", name=f"Hồ sơ {claim}").click()
    page.wait_for_url(f"**/can-bo/giam-dinh/{claim}")
    assert page.locator("#ket-qua").inner_text() == "Chấp nhận có giảm trừ"
    reduced = page.locator("#bang-dong li.differs")
    assert reduced.count() == 1
    assert "Đơn giá cao hơn giá thanh toán BHYT" in reduced.inner_text()
    assert "1.500 đồng" in reduced.inner_text()
    facts = page.locator("#thong-tin-ho-so").inner_text()
    assert "Lê Thị Hoa" in facts and "Người lao động trong doanh nghiệp" in facts
    no_sideways_scroll(page)
    shot(page, "claim_375")
    page.set_viewport_size({"width": 1280, "height": 900})
    no_sideways_scroll(page)
    shot(page, "claim_1280")
    with engine.connect() as conn:
        drug = conn.execute(
            select(ClaimLine.id, ClaimLine.line_no).where(
                ClaimLine.claim_id == claim, ClaimLine.item_code == "40.17"
            )
        ).one()
    field = page.get_by_label(f"Dòng {drug.line_no}: 40.17")
    page.get_by_label("Điều chỉnh số tiền chấp nhận").check()
    field.fill("50.000")
    page.get_by_label("Lý do").fill("Giá thầu được Sở Y tế phê duyệt.")
    page.get_by_role("button", name="Ghi kết quả xem xét").click()
    page.wait_for_load_state()
    assert "phải từ 0 đến số đề nghị 5.000 đồng" in page.locator(".error-summary").inner_text()
    with engine.connect() as conn:
        assert conn.execute(select(ClaimReview.id)).first() is None
    shot(page, "error_1280")
    page.get_by_label(f"Dòng {drug.line_no}: 40.17").fill("5.000")
    page.get_by_role("button", name="Ghi kết quả xem xét").click()
    page.wait_for_url(f"**/can-bo/giam-dinh/{claim}")
    assert "Đã ghi kết quả xem xét" in page.locator(".flashes").inner_text()
    assert page.locator("#ket-qua").inner_text() == "Chấp nhận toàn bộ"
    assert "Giá thầu được Sở Y tế phê duyệt." in page.locator("#cac-lan-xem-xet").inner_text()
    page.set_viewport_size({"width": 375, "height": 812})
    no_sideways_scroll(page)
    shot(page, "reviewed_375")
    with engine.connect() as conn:
        assert conn.execute(select(Claim.outcome).where(Claim.id == claim)).scalar() == "accepted"
