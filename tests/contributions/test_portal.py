"""The citizen portal shows the month up to which the employer has paid ("đã đóng đến tháng")."""

from __future__ import annotations

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
