"""Issue 16, defects 3, 4 and 5: the staff API applies the console's rules. A token carries a
role and an area like a staff account; for every account of the console's matrix, a token with
the same role and area gets the same answer from the API as the account gets from the console,
and every person a list shows is in the access log and the audit log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from nidb.domain.staff import StaffAction, can
from nidb.exchange.tokens import create_token
from nidb.store import models
from nidb.web.console.dashboard_queries import clear_cache
from tests.web.conftest import staff_sign_in_http
from tests.web.console_seed import RECORDS, STAFF, Seeded, seed_register, seed_staff

CODES = {record_id: bhxh for record_id, bhxh, *_ in RECORDS}


@pytest.fixture
def seeded(engine: Engine) -> Iterator[Seeded]:
    clear_cache()
    seeded = seed_register(engine)
    seed_staff(engine)
    yield seeded
    clear_cache()


def token_of(engine: Engine, username: str) -> dict[str, str]:
    role, level, province, district = STAFF[username]
    token = create_token(
        engine, username, role, scope_level=level, province_code=province, district_code=district
    )
    return {"Authorization": f"Bearer {token}"}


def item_status(engine: Engine, item_id: int) -> str:
    items = models.ReviewItem.__table__
    with engine.connect() as conn:
        return str(conn.execute(select(items.c.status).where(items.c.id == item_id)).scalar_one())


@pytest.mark.parametrize("username", sorted(STAFF))
def test_a_token_and_its_holders_console_agree_item_by_item(
    client: TestClient, engine: Engine, seeded: Seeded, username: str
) -> None:
    headers = token_of(engine, username)
    client.cookies.clear()
    assert staff_sign_in_http(client, username).status_code == 303
    role = STAFF[username][0]
    listed = client.get("/staff/v1/review/items", headers=headers)
    console_queue = client.get("/can-bo/doi-soat/")
    assert (
        listed.status_code
        == console_queue.status_code
        == (200 if can(role, StaffAction.READ_REVIEW_QUEUE) else 403)
    )
    shown = set()
    for record_id, item_id in seeded.items.items():
        api = client.get(f"/staff/v1/review/items/{item_id}", headers=headers).status_code
        console = client.get(f"/can-bo/doi-soat/{item_id}").status_code
        assert api == console, (username, record_id, api, console)
        if api == 200:
            shown.add(record_id)
    if listed.status_code == 200:  # the list holds exactly the items the console would open
        assert {i["record_id"] for i in listed.json()} == shown
    for record_id, item_id in seeded.items.items():
        rejected = client.post(
            f"/staff/v1/review/items/{item_id}/reject", json={"note": "sai"}, headers=headers
        )
        if not can(role, StaffAction.DECIDE_REVIEW_ITEM):
            assert rejected.status_code == 403
        elif record_id not in shown:  # outside the area: as if it did not exist
            assert rejected.status_code == 404
            assert rejected.json()["error"]["code"] == "E_ITEMNOTFOUND"
            assert item_status(engine, item_id) == "open"
        else:
            assert rejected.status_code == 200
    for record_id in seeded.items:
        code = CODES[record_id]
        history = client.get(f"/staff/v1/people/{code}/access-log", headers=headers).status_code
        if not can(role, StaffAction.READ_ACCESS_LOG):
            assert history == 403
        else:
            assert history == (200 if record_id in shown else 404)


def test_a_province_token_decides_nothing_outside_its_province(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    hanoi = token_of(engine, "rv.hn")
    outside = seeded.items["R-HCM-1"]
    for verb in ("accept", "reject"):
        answer = client.post(
            f"/staff/v1/review/items/{outside}/{verb}", json={"note": "x"}, headers=hanoi
        )
        assert answer.status_code == 404
    assert item_status(engine, outside) == "open"
    listed = client.get("/staff/v1/review/items?limit=500", headers=hanoi).json()
    assert {i["record_id"] for i in listed} == {"R-HN-1"}


def test_listing_the_queue_logs_every_person_listed(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    headers = token_of(engine, "rv.tw")
    listed = client.get("/staff/v1/review/items?limit=500", headers=headers).json()
    assert {i["record_id"] for i in listed} == set(seeded.items)
    with engine.connect() as conn:
        log = conn.execute(
            select(models.AccessLogEntry.subject, models.AccessLogEntry.actor).where(
                models.AccessLogEntry.service == "review.list/v1"
            )
        ).all()
        audit = conn.execute(
            select(models.AuditEntry.subject_id).where(
                models.AuditEntry.action == "review.list", models.AuditEntry.actor == "staff:rv.tw"
            )
        ).scalars()
        audited = set(audit)
    assert sorted(log) == sorted((CODES[r], "staff:rv.tw") for r in seeded.items)
    assert audited == set(seeded.items)


def test_a_token_needs_an_area(engine: Engine) -> None:
    with pytest.raises(ValueError, match="province"):
        create_token(engine, "x", "reviewer", scope_level="province")
    with pytest.raises(ValueError, match="central"):
        create_token(engine, "x", "reviewer", scope_level="central", province_code="01")
    with pytest.raises(ValueError):
        create_token(engine, "x", "reviewer", scope_level="province", province_code="99")
