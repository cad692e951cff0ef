"""A dedupe item over HTTP (TestClient), on SQLite and PostgreSQL: a merge of two records
verified with different personal IDs is refused on the page and writes nothing; an auditor
reads the item and may neither merge nor undo."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update

from nidb.store import models
from nidb.web.console.dashboard_queries import clear_cache
from tests.identity.test_dedupe_register import load_small, queued_item
from tests.web.conftest import csrf_of, staff_sign_in_http
from tests.web.console_seed import seed_staff


def counts(engine: Engine) -> tuple[int, int, str]:
    with engine.connect() as conn:
        merges = int(conn.execute(text("SELECT count(*) FROM code_merges")).scalar_one())
        marked = int(
            conn.execute(
                text("SELECT count(*) FROM persons WHERE merged_into IS NOT NULL")
            ).scalar_one()
        )
        status = str(conn.execute(text("SELECT status FROM review_items")).scalar_one())
    return merges, marked, status


def test_two_verified_people_are_not_merged_from_the_console(
    engine: Engine, client: TestClient, tmp_path: Path, cheaper_argon2: None
) -> None:
    clear_cache()
    load_small(engine, tmp_path)
    item = queued_item(engine)
    with engine.begin() as conn:
        conn.execute(
            update(models.Person)
            .where(models.Person.record_id == "R1")
            .values(verification_status="verified", verified_personal_id="001090099999")
        )
    seed_staff(engine, ("rv.tw", "kt.tw"))
    assert staff_sign_in_http(client, "rv.tw").status_code == 303
    page = client.get(f"/can-bo/doi-soat/{item}")
    assert page.status_code == 200
    assert "số định danh khác nhau" in page.text and "001090099999" in page.text
    response = client.post(
        f"/can-bo/doi-soat/{item}/quyet-dinh",
        data={"csrf_token": csrf_of(page.text), "decision": "accept", "note": ""},
    )
    assert response.status_code == 409
    assert "không gộp" in response.text
    assert counts(engine) == (0, 0, "open")

    client.cookies.clear()
    assert staff_sign_in_http(client, "kt.tw").status_code == 303
    page = client.get(f"/can-bo/doi-soat/{item}")
    assert page.status_code == 200 and "Hồ sơ R1" in page.text
    assert 'action="/can-bo/doi-soat/' not in page.text.split("Các hồ sơ đặt cạnh nhau")[1]
    refused = client.post(
        f"/can-bo/doi-soat/{item}/hoan-tac",
        data={"csrf_token": csrf_of(page.text), "note": "thử"},
    )
    assert refused.status_code == 403
    assert counts(engine) == (0, 0, "open")
    clear_cache()
