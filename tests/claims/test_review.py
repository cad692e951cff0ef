"""Staff review of flagged claims: the capability (accept, adjust, refusals changing nothing) and
the console pages over HTTP (area, roles, the side-by-side page, the form), on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from nidb.claims.review import ReviewRefused, review_claim
from nidb.claims.settlement import settlement
from nidb.store import models
from nidb.store.models_claims import Claim, ClaimLine, ClaimReview
from nidb.web.sessions import COOKIE
from tests import seed
from tests.claims.review_seed import DAY, HN_PID, seed_claims
from tests.web.conftest import csrf_of, staff_sign_in_http
from tests.web.console_seed import seed_staff


@pytest.fixture
def claims(engine: Engine, tmp_path: Path) -> dict[str, int]:
    return seed_claims(engine, tmp_path)


def money(engine: Engine, claim_id: int) -> tuple[Any, ...]:
    with engine.connect() as conn:
        c = conn.execute(select(Claim.__table__).where(Claim.id == claim_id)).one()
        lines = conn.execute(
            select(ClaimLine.line_no, ClaimLine.accepted_amount, ClaimLine.insurer_amount)
            .where(ClaimLine.claim_id == claim_id)
            .order_by(ClaimLine.line_no)
        ).all()
    return c.outcome, c.accepted_total, c.insurer_total, [tuple(x) for x in lines]


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def line_id(engine: Engine, claim_id: int, item_code: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(ClaimLine.id).where(
                    ClaimLine.claim_id == claim_id, ClaimLine.item_code == item_code
                )
            ).scalar_one()
        )


DRUG, CT = "40.17", "18.0200"


def test_the_seeded_claim_is_reduced_for_the_dear_paracetamol(
    engine: Engine, claims: dict[str, int]
) -> None:
    outcome, accepted, _insurer, lines = money(engine, claims["LK-GIAM"])
    assert outcome == "reduced"
    assert accepted == 522_000 + 42_100 + 3_500  # 10 tablets at the catalogue's 350
    assert sorted(line[1] for line in lines) == [3_500, 42_100, 522_000]


def test_accepting_the_assessment_keeps_the_money_and_is_audited_once(
    engine: Engine, claims: dict[str, int]
) -> None:
    claim = claims["LK-GIAM"]
    before = money(engine, claim)
    result = review_claim(engine, claim, "staff:rv.hn", "accept", "Đúng giá trần BHYT.")
    assert result["outcome"] == "reduced" and money(engine, claim) == before
    assert count(engine, models.AuditEntry, models.AuditEntry.action == "claims.review.accept") == 1
    assert count(engine, models.OutboxEvent, models.OutboxEvent.topic == "claims.reviewed") == 1
    with pytest.raises(ReviewRefused) as again:
        review_claim(engine, claim, "staff:rv.hn", "adjust", "Lại", {1: 1})
    assert again.value.code == "CLAIM_ALREADY_REVIEWED"
    assert count(engine, ClaimReview) == 1


def test_adjusting_a_line_recomputes_the_fund_part_and_the_settlement(
    engine: Engine, claims: dict[str, int]
) -> None:
    claim = claims["LK-GIAM"]
    drug = line_id(engine, claim, DRUG)
    result = review_claim(
        engine, claim, "staff:rv.hn", "adjust", "Giá mua theo thầu đã được phê duyệt.",
        {drug: 5_000},
    )  # fmt: skip
    outcome, accepted, insurer, lines = money(engine, claim)
    assert (outcome, accepted) == ("accepted", 522_000 + 42_100 + 5_000)
    assert (5_000, 4_000) in [line[1:] for line in lines]  # the card's 80%
    assert result["insurer_total"] == insurer
    with engine.connect() as conn:
        review = conn.execute(select(ClaimReview.__table__)).one()
        statement = settlement(conn, "01001", DAY.year, (DAY.month - 1) // 3 + 1)
    assert review.before["lines"][str(drug)]["accepted_amount"] == 3_500
    assert review.after["lines"][str(drug)]["accepted_amount"] == 5_000
    assert statement.claims.get("accepted") == 2 and statement.reduced == 0


def test_adjusting_down_explains_the_staff_reduction(
    engine: Engine, claims: dict[str, int]
) -> None:
    claim = claims["LK-GIAM"]
    ct = line_id(engine, claim, CT)
    review_claim(engine, claim, "staff:rv.hn", "adjust", "Không có chỉ định chụp.", {ct: 0})
    with engine.connect() as conn:
        reductions = conn.execute(
            select(ClaimLine.reductions).where(ClaimLine.id == ct)
        ).scalar_one()
        statement = settlement(conn, "01001", DAY.year, (DAY.month - 1) // 3 + 1)
    assert reductions[0]["rule"] == "staff_adjustment" and reductions[0]["amount"] == 522_000
    assert "Không có chỉ định chụp." in reductions[0]["explanation_vi"]
    assert {r["rule"] for r in statement.as_dict()["reductions"]} == {
        "staff_adjustment",
        "over_price",
    }


@pytest.mark.parametrize(
    ("decision", "reason", "amounts", "code"),
    [
        ("adjust", "Lý do", {"line": 10**9}, "AMOUNT_OUT_OF_RANGE"),
        ("adjust", "Lý do", {"line": -1}, "AMOUNT_OUT_OF_RANGE"),
        ("adjust", "Lý do", {999_999: 1}, "LINE_NOT_IN_CLAIM"),
        ("adjust", "Lý do", {}, "ADJUSTMENT_MISSING"),
        ("adjust", "   ", {"line": 1}, "REASON_MISSING"),
        ("adjust", "x" * 1001, {"line": 1}, "REASON_TOO_LONG"),
        ("accept", "a\x00b", {}, "REASON_CONTROL_CHARACTER"),
        ("accept", "Lý do", {"line": 1}, "ADJUSTMENT_WITH_ACCEPT"),
        ("approve", "Lý do", {}, "DECISION_INVALID"),
    ],
)
def test_a_bad_review_is_refused_with_a_code_and_changes_nothing(
    engine: Engine,
    claims: dict[str, int],
    decision: str,
    reason: str,
    amounts: dict[Any, int],
    code: str,
) -> None:
    claim = claims["LK-GIAM"]
    drug = line_id(engine, claim, DRUG)
    before = money(engine, claim)
    with pytest.raises(ReviewRefused) as refused:
        review_claim(
            engine, claim, "staff:rv.hn", decision, reason,
            {drug if k == "line" else k: v for k, v in amounts.items()},
        )  # fmt: skip
    assert refused.value.code == code and refused.value.message_vi
    assert money(engine, claim) == before and count(engine, ClaimReview) == 0
    assert count(engine, models.AuditEntry, models.AuditEntry.action.like("claims.review%")) == 0


def test_a_claim_not_flagged_cannot_be_reviewed(engine: Engine, claims: dict[str, int]) -> None:
    with pytest.raises(ReviewRefused) as refused:
        review_claim(engine, claims["LK-DU"], "staff:rv.hn", "accept", "Lý do")
    assert refused.value.code == "CLAIM_NOT_FLAGGED"


# --- the console over HTTP ----------------------------------------------------------------------


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    assert staff_sign_in_http(client, username).status_code == 303


def test_the_console_lists_and_shows_flagged_claims_of_the_area_only(
    client: TestClient, engine: Engine, claims: dict[str, int]
) -> None:
    seed_staff(engine, ("rv.hn", "rv.hcm", "pd.hn", "kt.hn"))
    sign_in(client, "rv.hn")
    listing = client.get("/can-bo/giam-dinh/")
    assert listing.status_code == 200
    assert f"Hồ sơ {claims['LK-GIAM']}" in listing.text
    assert f"Hồ sơ {claims['LK-HCM']}" not in listing.text
    assert f"Hồ sơ {claims['LK-DU']}" not in listing.text  # accepted: nothing to review
    page = client.get(f"/can-bo/giam-dinh/{claims['LK-GIAM']}")
    assert page.status_code == 200
    text = page.text
    assert "Bệnh viện trung ương 01001" in text and "Lê Thị Hoa" in text
    assert "Đơn giá 500 đồng của 40.17 cao hơn giá thanh toán BHYT 350 đồng" in text
    assert "1.500 đồng" in text  # the reduction, whole đồng
    assert "over_price" not in text and "reduced" not in text
    assert client.get(f"/can-bo/giam-dinh/{claims['LK-HCM']}").status_code == 404
    clean = client.get(f"/can-bo/giam-dinh/{claims['LK-DU']}")  # readable, nothing to decide
    assert clean.status_code == 200 and "Ghi kết quả xem xét" not in clean.text
    assert client.get("/can-bo/giam-dinh/abc").status_code == 404
    assert client.get("/can-bo/giam-dinh/?trang_thai=zzz").status_code == 400
    sign_in(client, "rv.hcm")
    assert client.get(f"/can-bo/giam-dinh/{claims['LK-HCM']}").status_code == 200
    sign_in(client, "pd.hn")
    assert client.get("/can-bo/giam-dinh/").status_code == 403
    sign_in(client, "kt.hn")
    page = client.get(f"/can-bo/giam-dinh/{claims['LK-GIAM']}")
    assert page.status_code == 200 and "xem-xet" not in page.text.split("<form", 1)[-1][:200]
    answer = client.post(
        f"/can-bo/giam-dinh/{claims['LK-GIAM']}/xem-xet",
        data={"decision": "accept", "reason": "x", "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 403 and count(engine, ClaimReview) == 0


def test_the_review_form_refuses_bad_amounts_and_records_a_good_adjustment(
    client: TestClient, engine: Engine, claims: dict[str, int]
) -> None:
    seed_staff(engine, ("rv.hn",))
    sign_in(client, "rv.hn")
    claim = claims["LK-GIAM"]
    drug = line_id(engine, claim, DRUG)
    page = client.get(f"/can-bo/giam-dinh/{claim}")
    token = csrf_of(page.text)
    url = f"/can-bo/giam-dinh/{claim}/xem-xet"
    bad = client.post(
        url,
        data={"decision": "adjust", "reason": "x", f"line_{drug}": "5 nghìn", "csrf_token": token},
    )
    assert bad.status_code == 400 and "số tiền phải là số nguyên đồng" in bad.text
    too_much = client.post(
        url,
        data={"decision": "adjust", "reason": "x", f"line_{drug}": "9.000", "csrf_token": token},
    )
    assert too_much.status_code == 400 and "phải từ 0 đến số đề nghị 5.000 đồng" in too_much.text
    no_reason = client.post(
        url, data={"decision": "adjust", f"line_{drug}": "5.000", "csrf_token": token}
    )
    assert no_reason.status_code == 400 and "bắt buộc" in no_reason.text
    assert count(engine, ClaimReview) == 0
    good = client.post(
        url,
        data={
            "decision": "adjust",
            "reason": "Giá thầu được duyệt.",
            f"line_{drug}": "5.000",
            "csrf_token": token,
        },
    )
    assert good.status_code == 303, good.text
    assert money(engine, claim)[:2] == ("accepted", 569_100)
    after = client.get(good.headers["location"])
    assert "Giá thầu được duyệt." in after.text and "Ghi kết quả xem xét" not in after.text
    with engine.connect() as conn:
        logged = conn.execute(
            select(func.count())
            .select_from(models.AccessLogEntry)
            .where(models.AccessLogEntry.service == "claims.view/v1")
        ).scalar_one()
    assert logged >= 4
    client.cookies.clear()  # the patient sees the staff member's reads, in words
    client.cookies.set(COOKIE, seed.citizen_session(engine, HN_PID, "Lê Thị Hoa"))
    history = client.get("/cong-dan/truy-cap").text
    assert "Cán bộ giám định xem hồ sơ khám chữa bệnh BHYT" in history
    assert "claims.view/v1" not in history


def test_assessing_again_keeps_a_reviewed_claim_as_the_staff_left_it(
    engine: Engine, claims: dict[str, int]
) -> None:
    from nidb.claims.assess import assess_claims

    claim = claims["LK-GIAM"]
    review_claim(
        engine, claim, "staff:rv.hn", "adjust", "Giá thầu.", {line_id(engine, claim, DRUG): 5_000}
    )
    reviewed = money(engine, claim)
    result = assess_claims(engine, "test", again=True)
    assert money(engine, claim) == reviewed
    assert claim not in {c["claim_key"] for c in result.claims}
    assert money(engine, claims["LK-HCM"])[0] == "reduced"  # the others assessed again
