"""The citizen portal shows the month up to which the employer has paid ("đã đóng đến tháng")."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from nidb.contributions.assess import assess_month
from nidb.contributions.ledger import record_payment
from nidb.web.sessions import COOKIE
from tests import seed


def test_the_portal_shows_the_last_month_the_employer_paid(
    engine: Engine, client: TestClient
) -> None:
    seed.insured_person(engine)
    with seed.register(engine) as reg:
        reg.wage(seed.EMPLOYER, seed.BHXH, 10_000_000, "2026-08")
    for m in (8, 9):
        assess_month(engine, date(2026, m, 1), actor="test:portal")
    client.cookies.set(COOKIE, seed.citizen_session(engine, seed.PID, "Nguyễn Văn An"))
    assert "đã đóng đến tháng" not in client.get("/cong-dan/ho-so").text
    with engine.begin() as conn:
        record_payment(
            conn,
            employer_code=seed.EMPLOYER,
            source="manual",
            reference="CT-1",
            amount=3_200_000,
            paid_on=date(2026, 9, 20),
            actor="test:portal",
        )
    page = client.get("/cong-dan/ho-so").text
    assert f"Mã số BHXH {seed.BHXH}: đơn vị đã đóng đến tháng 08/2026" in page


def _summary_row(page: str, year: int) -> str:
    match = re.search(rf'<tr><th scope="row"><a href="#nam-{year}">{year}</a></th>(.*?)</tr>', page)
    assert match, f"no summary row for {year}"
    return match.group(1)


def _month_row(page: str, month: int, year: int) -> str:
    match = re.search(rf'<th scope="row">{month}/{year}</th>(.*?)</tr>', page, re.S)
    assert match, f"no row for {month}/{year}"
    return match.group(1)


def test_the_history_never_says_zero_paid_for_months_it_knows_nothing_of(
    engine: Engine, client: TestClient
) -> None:
    """Participation since 2015 with contributions recorded only for early 2025: the years
    without any record say "no data", never "paid 0 đồng"; the running month is shown as
    ongoing and is not counted among the months of participation."""
    seed.insured_person(engine)
    client.cookies.set(COOKIE, seed.citizen_session(engine, seed.PID, "Nguyễn Văn An"))
    page = client.get("/cong-dan/ho-so").text
    row_2016 = _summary_row(page, 2016)
    assert "Chưa có dữ liệu" in row_2016 and "0 đồng" not in row_2016
    assert "9.450.000 đồng" in _summary_row(page, 2025)  # Jan–Mar 2025: 3 × 3,150,000
    today = seed.TODAY_VN
    counts = re.findall(r'<td class="num">(\d+)</td>', _summary_row(page, today.year))
    assert counts == [str(today.month - 1)] * 3  # the running month is not counted yet
    running = _month_row(page, today.month, today.year)
    assert "đang tham gia" in running and "✓" not in running


def test_declared_months_show_what_is_paid_and_what_is_still_owed(
    engine: Engine, client: TestClient
) -> None:
    seed.insured_person(engine)
    with seed.register(engine) as reg:
        reg.wage(seed.EMPLOYER, seed.BHXH, 10_000_000, "2026-08")
    for m in (8, 9):
        assess_month(engine, date(2026, m, 1), actor="test:portal")
    with engine.begin() as conn:
        record_payment(
            conn,
            employer_code=seed.EMPLOYER,
            source="manual",
            reference="CT-1",
            amount=3_200_000,
            paid_on=date(2026, 9, 20),
            actor="test:portal",
        )
    client.cookies.set(COOKIE, seed.citizen_session(engine, seed.PID, "Nguyễn Văn An"))
    page = client.get("/cong-dan/ho-so").text
    august, september = _month_row(page, 8, 2026), _month_row(page, 9, 2026)
    assert "chưa đóng" not in august and "đồng" in august
    assert "(chưa đóng)" in september
    assert "còn nợ" in _summary_row(page, 2026)
