"""Issue 16, defect 6: a control character in text from outside (a NUL in a review note, an
escape sequence in a correction) is refused the same way on SQLite and PostgreSQL, by the one
rule of ``nidb.domain.text``, through the staff API, the console forms and the services."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from nidb.domain.text import control_character
from nidb.exchange.tokens import create_token
from nidb.services.errors import FormInvalid
from nidb.services.forms import check_text
from nidb.store import models
from nidb.store.models_web import CorrectionRequest
from nidb.web.console.dashboard_queries import clear_cache
from nidb.web.corrections import validate
from tests.web.conftest import csrf_of, staff_sign_in_http
from tests.web.console_seed import Seeded, seed_register, seed_staff

HOSTILE = ["lý do\x00", "\x1b[2J xoá màn hình", "a\x7fb", "a\x85b", "\ud800"]


@pytest.fixture
def seeded(engine: Engine) -> Iterator[Seeded]:
    clear_cache()
    yield seed_register(engine)
    clear_cache()


def status_of(engine: Engine, item_id: int) -> str:
    items = models.ReviewItem.__table__
    with engine.connect() as conn:
        return str(conn.execute(select(items.c.status).where(items.c.id == item_id)).scalar_one())


def test_the_staff_api_refuses_a_note_with_a_control_character(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    headers = {
        "Authorization": "Bearer "
        + create_token(engine, "lan", "reviewer", scope_level="province", province_code="01")
    }
    item = seeded.items["R-HN-1"]
    for note in HOSTILE:
        for verb in ("accept", "reject"):
            answer = client.post(  # ASCII JSON: a lone surrogate travels as \\ud800
                f"/staff/v1/review/items/{item}/{verb}",
                content=json.dumps({"note": note}),
                headers={**headers, "content-type": "application/json"},
            )
            assert answer.status_code == 422, (note, answer.text)
            if note == "\ud800":  # the JSON reader refuses a lone surrogate before the rule
                assert answer.json()["error"]["code"] == "E_INVALID"
                continue
            assert answer.json()["error"]["code"] == "E_NOTEINVALID", (note, answer.text)
            assert "control character" in answer.json()["error"]["message_en"]
    assert status_of(engine, item) == "open"
    fine = client.post(
        f"/staff/v1/review/items/{item}/reject",
        json={"note": "Sai người:\nkhác ngày sinh"},
        headers=headers,
    )
    assert fine.status_code == 200 and fine.json()["note"] == "Sai người:\nkhác ngày sinh"


def test_the_console_forms_refuse_a_note_with_a_control_character(
    client: TestClient, engine: Engine, seeded: Seeded
) -> None:
    seed_staff(engine, ("rv.hn",))
    assert staff_sign_in_http(client, "rv.hn").status_code == 303
    item = seeded.items["R-HN-1"]
    token = csrf_of(client.get(f"/can-bo/doi-soat/{item}").text)
    correction = seeded.corrections["01"]
    for note in HOSTILE[:4]:  # a form cannot carry a lone surrogate
        answer = client.post(
            f"/can-bo/doi-soat/{item}/quyet-dinh",
            data={"csrf_token": token, "decision": "reject", "note": note},
        )
        assert answer.status_code == 400 and "ký tự điều khiển" in answer.text
        answer = client.post(
            f"/can-bo/dieu-chinh/{correction}/quyet-dinh",
            data={"csrf_token": token, "decision": "rejected", "note": note},
        )
        assert answer.status_code == 400 and "ký tự điều khiển" in answer.text
    assert status_of(engine, item) == "open"
    table = CorrectionRequest.__table__
    with engine.connect() as conn:
        waiting = conn.execute(
            select(func.count()).select_from(table).where(table.c.status == "submitted")
        ).scalar_one()
    assert waiting == 2


@pytest.mark.parametrize("text", HOSTILE)
def test_the_services_and_the_corrections_use_the_same_rule(text: str) -> None:
    with pytest.raises(FormInvalid) as refused:
        check_text(text, "note", max_length=1000)
    assert refused.value.rule == "TEXT_CONTROL_CHARACTER"
    clean, errors = validate("address", f"Số 1 {text} phố Huế, Hà Nội", "Địa chỉ đã đổi từ 2024")
    # refused, or (NEL, a line break to Python) folded into a space like other whitespace
    assert "new_value" in errors or control_character(clean["new_value"]) is None
    clean, errors = validate("address", "Số 1 phố Huế, Hà Nội", f"Lý do: chuyển nhà {text}")
    assert "reason" in errors
    # what the forms accepted before, they accept still
    assert check_text("Ghi chú\nhai dòng", "note") == "Ghi chú\nhai dòng"
    with pytest.raises(FormInvalid) as markup:
        check_text("<b>x</b>", "note")
    assert markup.value.rule == "TEXT_MARKUP"
