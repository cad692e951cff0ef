"""The staff API: bearer tokens with roles; the review queue side by side; decisions audited."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select

from nidb.accesslog import access_history
from nidb.exchange.tokens import create_token, revoke_tokens
from nidb.store import models
from tests.conftest import Exchange
from tests.seed import BHXH, PID, register


def queue_item(engine: Engine) -> int:
    """A second record of the same person with a typo in the name, waiting for a reviewer."""
    with register(engine) as reg:
        reg.person(
            "0123456788",
            "Nguyễn Văn Ann",
            "1985-03-17",
            record_id="R2",
            declared_id=PID,
            status="review",
        )
        return int(
            reg.conn.execute(
                insert(models.ReviewItem)
                .values(
                    record_id="R2",
                    kind="verification",
                    candidate_personal_id=PID,
                    score=0.9,
                    reasons="NAME_TYPO",
                )
                .returning(models.ReviewItem.id)
            ).scalar_one()
        )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_token_bad_token_or_revoked_token_is_401(exchange: Exchange) -> None:
    http = exchange.http
    assert http.get("/staff/v1/review/items").status_code == 401
    assert http.get("/staff/v1/review/items", headers=auth("nidb_guess")).status_code == 401
    token = create_token(exchange.engine, "lan", "reviewer", scope_level="central")
    assert http.get("/staff/v1/review/items", headers=auth(token)).status_code == 200
    revoke_tokens(exchange.engine, "lan")
    response = http.get("/staff/v1/review/items", headers=auth(token))
    assert response.status_code == 401
    assert response.json()["error"]["message_vi"].startswith("Cần đăng nhập")


def test_an_expired_token_is_401(exchange: Exchange) -> None:
    token = create_token(exchange.engine, "cu", "reviewer", days=None, scope_level="central")
    with exchange.engine.begin() as conn:
        from datetime import UTC, datetime, timedelta

        conn.execute(
            models.ApiToken.__table__.update().values(
                expires_at=datetime.now(UTC) - timedelta(minutes=1)
            )
        )
    assert exchange.http.get("/staff/v1/review/items", headers=auth(token)).status_code == 401


def test_a_reviewer_lists_inspects_and_accepts_and_it_is_audited(exchange: Exchange) -> None:
    item_id = queue_item(exchange.engine)
    headers = auth(create_token(exchange.engine, "lan", "reviewer", scope_level="central"))
    listed = exchange.http.get("/staff/v1/review/items", headers=headers).json()
    assert [(i["id"], i["reasons"], i["full_name"]) for i in listed] == [
        (item_id, ["NAME_TYPO"], "Nguyễn Văn Ann")
    ]
    detail = exchange.http.get(f"/staff/v1/review/items/{item_id}", headers=headers).json()
    name = next(f for f in detail["fields"] if f["field"] == "full_name")
    assert (name["record"], name["registry"], name["agrees"]) == (
        "Nguyễn Văn Ann",
        "Nguyễn Văn An",
        False,
    )
    accepted = exchange.http.post(
        f"/staff/v1/review/items/{item_id}/accept", json={"note": "đúng người"}, headers=headers
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["decided_by"] == "staff:lan"
    again = exchange.http.post(
        f"/staff/v1/review/items/{item_id}/reject", json={"note": "x"}, headers=headers
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "E_ITEMALREADYDECIDED"
    with exchange.engine.connect() as conn:
        actions = (
            conn.execute(
                select(models.AuditEntry.action)
                .where(models.AuditEntry.actor == "staff:lan")
                .order_by(models.AuditEntry.id)
            )
            .scalars()
            .all()
        )
    assert actions == ["review.list", "review.view", "review.accept"]
    # the list and the look at the record are in that person's access history
    history = access_history(exchange.engine, "0123456788")
    assert sorted((h.actor, h.service) for h in history) == [
        ("staff:lan", "review.list/v1"),
        ("staff:lan", "review.view/v1"),
    ]


def test_rejecting_needs_a_note(exchange: Exchange) -> None:
    item_id = queue_item(exchange.engine)
    headers = auth(create_token(exchange.engine, "lan", "reviewer", scope_level="central"))
    response = exchange.http.post(
        f"/staff/v1/review/items/{item_id}/reject", json={}, headers=headers
    )
    # the schema says so (RejectIn.note is required, at least one character after trimming)
    assert response.status_code == 422 and response.json()["error"]["code"] == "E_INVALID"
    assert [p["field"] for p in response.json()["error"]["problems"]] == ["body.note"]
    blank = exchange.http.post(
        f"/staff/v1/review/items/{item_id}/reject", json={"note": "   "}, headers=headers
    )
    assert blank.status_code == 422


def test_roles_are_enforced(exchange: Exchange) -> None:
    """The staff console's rule (nidb.domain.staff): auditors read the queue but decide nothing;
    approvers decide dossiers, not review items; only auditors and admins read access logs."""
    item_id = queue_item(exchange.engine)
    auditor = auth(create_token(exchange.engine, "kiem", "auditor", scope_level="central"))
    reviewer = auth(create_token(exchange.engine, "lan", "reviewer", scope_level="central"))
    approver = auth(create_token(exchange.engine, "duyet", "approver", scope_level="central"))
    assert exchange.http.get("/staff/v1/review/items", headers=auditor).status_code == 200
    for verb in ("accept", "reject"):
        decided = exchange.http.post(
            f"/staff/v1/review/items/{item_id}/{verb}", json={"note": "x"}, headers=auditor
        )
        assert decided.status_code == 403
    assert exchange.http.get("/staff/v1/review/items", headers=approver).status_code == 403
    assert (
        exchange.http.get(f"/staff/v1/review/items/{item_id}", headers=approver).status_code == 403
    )
    rejected = exchange.http.post(
        f"/staff/v1/review/items/{item_id}/reject", json={"note": "x"}, headers=approver
    )
    assert rejected.status_code == 403 and rejected.json()["error"]["code"] == "E_FORBIDDEN"
    assert (
        exchange.http.get(f"/staff/v1/people/{BHXH}/access-log", headers=reviewer).status_code
        == 403
    )
    assert (
        exchange.http.get(f"/staff/v1/people/{BHXH}/access-log", headers=auditor).status_code == 200
    )


def test_bad_input_is_a_clear_422_and_unknown_item_404(exchange: Exchange) -> None:
    headers = auth(create_token(exchange.engine, "lan", "reviewer", scope_level="central"))
    assert (
        exchange.http.get("/staff/v1/review/items?status=maybe", headers=headers).status_code == 422
    )
    assert exchange.http.get("/staff/v1/review/items/999", headers=headers).status_code == 404
    auditor = auth(create_token(exchange.engine, "kiem", "auditor", scope_level="central"))
    bad = exchange.http.get("/staff/v1/people/12ab/access-log", headers=auditor)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "E_BAD_BHXH_CODE"
