"""No personal data in the logs: a full flow through the real app, every log line searched.

The flow (SQLite and PostgreSQL): a citizen signs in through VNeID and reads their record,
card and access history; a reviewer opens and accepts a review item; an auditor searches a
person's access history by BHXH code (the code in the query string); a hospital checks a card
with a signed message, and is refused once; an import with a bad row. Meanwhile the serve
logging configuration runs at DEBUG, caplog captures every record that reaches the root logger
and the JSON formatter writes every line. Then every personal ID, BHXH code, card code and name
(with and without diacritics, any case) that the register holds or the flow sent is searched
for in every record and line: zero hits. `test_the_search_finds_what_was_planted` shows that the
search does find them when they are there.
"""

from __future__ import annotations

import io
import logging
import logging.config
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from nidb.api.app import create_app
from nidb.api.fastpath import PartnerFastPath
from nidb.api.logs import logging_config
from nidb.cli import app as cli_app
from nidb.exchange.partners import add_grant
from nidb.protocol.client import ExchangeClient
from nidb.protocol.keys import VerifyKey
from nidb.store import models
from tests import seed
from tests.conftest import WEB_KEY, Vneid
from tests.web.conftest import citizen_sign_in_http, csrf_of, staff_sign_in_http
from tests.web.console_seed import seed_register, seed_staff

BAD_ROW_PID = "001099007777"
BAD_ROW_NAME = "Hoàng Thị Quỳnh Trâm"
IMPORTED = [
    "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province,address,"
    "employer_code",
    "R-NEW-1,0155500011,Đặng Văn Khoa,1991-04-05,M,001091005555,001,,",
    f"R-NEW-2,0155500012,{BAD_ROW_NAME},31/02/1990,F,{BAD_ROW_PID},001,,",  # no 31 February
]


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d), so "NGUYEN VAN AN" finds "Nguyễn Văn An"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def hits(lines: Iterable[str], needles: Iterable[str]) -> list[tuple[str, str]]:
    """(needle, line) for every needle found in a line, folded both sides."""
    folded = [(fold(needle), needle) for needle in needles if needle]
    return [(needle, line) for line in lines for key, needle in folded if key and key in fold(line)]


def test_the_search_finds_what_was_planted() -> None:
    needles = [seed.PID, "Nguyễn Văn An", seed.BHXH, f"DN401{seed.BHXH}"]
    assert hits(['{"message":"checked NGUYEN VAN AN"}'], needles) == [
        ("Nguyễn Văn An", '{"message":"checked NGUYEN VAN AN"}')
    ]
    assert hits([f"GET /x?id={seed.PID}"], needles)[0][0] == seed.PID
    assert f"DN401{seed.BHXH}" in {
        needle for needle, _ in hits([f"card dn401{seed.BHXH}"], needles)
    }
    assert hits(["nguyễn văn an"], needles) and hits(["NGUYỄN VĂN AN"], needles)
    assert hits(['{"message":"GET /cong-dan/ho-so 200","status":200}'], needles) == []


def personal_values(engine: Engine) -> set[str]:
    """Every personal ID, BHXH code, card code and name the register holds."""
    found: set[str] = set()
    with engine.connect() as conn:
        citizens = models.Citizen.__table__
        persons = models.Person.__table__
        cards = models.HealthCard.__table__
        for row in conn.execute(select(citizens.c.personal_id, citizens.c.full_name)):
            found.update(row)
        for row in conn.execute(
            select(
                persons.c.bhxh_code,
                persons.c.full_name,
                persons.c.declared_id,
                persons.c.verified_personal_id,
            )
        ):
            found.update(value for value in row if value)
        found.update(conn.execute(select(cards.c.card_code)).scalars())
    return found


def record_texts(records: list[logging.LogRecord]) -> list[str]:
    """What each captured record says: its message, its arguments and its extra fields."""
    standard = set(vars(logging.makeLogRecord({})))
    texts = []
    for record in records:
        extra = {k: v for k, v in vars(record).items() if k not in standard}
        texts.append(f"{record.name} {record.getMessage()} {record.args!r} {extra!r}")
    return texts


def run_the_flow(engine: Engine, tmp_path: Path) -> dict[str, int]:
    """Everything the test sends through the real app; returns the status of each step."""
    status: dict[str, int] = {}
    app = PartnerFastPath(create_app(engine, WEB_KEY))
    with TestClient(app, follow_redirects=False) as client:
        # a citizen: VNeID sign-in, record, card, who read my data
        status["citizen sign-in"] = citizen_sign_in_http(client).status_code
        for path in ("/cong-dan/", "/cong-dan/ho-so", "/cong-dan/the-bhyt", "/cong-dan/truy-cap"):
            status[path] = client.get(path).status_code
        # a reviewer opens a review item and accepts it
        client.cookies.clear()
        status["reviewer sign-in"] = staff_sign_in_http(client, "rv.hn").status_code
        items = models.ReviewItem.__table__
        with engine.connect() as conn:
            item = conn.execute(
                select(items.c.id).where(items.c.record_id == "R-HN-1")
            ).scalar_one()
        page = client.get(f"/can-bo/doi-soat/{item}")
        status["review item"] = page.status_code
        status["review decision"] = client.post(
            f"/can-bo/doi-soat/{item}/quyet-dinh",
            data={
                "csrf_token": csrf_of(page.text),
                "decision": "accept",
                "note": "Đúng người: Nguyễn Văn An, 001090000001",
            },
        ).status_code
        # an auditor searches a person's access history by BHXH code
        client.cookies.clear()
        status["auditor sign-in"] = staff_sign_in_http(client, "kt.hn").status_code
        status["access search"] = client.get(
            "/can-bo/kiem-toan/truy-cap", params={"ma_bhxh": "0112345678"}
        ).status_code
        # a hospital checks a card (signed), then sends the same message again (refused)
        hospital = ExchangeClient(
            "http://testserver",
            seed.HOSPITAL,
            WEB_KEY,
            server_key=VerifyKey.from_b64(WEB_KEY.public_b64),
            http=client,
        )
        card = {
            "card_code": f"DN401{seed.BHXH}",
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "1985-03-17",
        }
        message = hospital.envelope("card.check/v1", "KCB", card)
        status["card check"] = hospital.send("card.check/v1", message).status
        status["card check replayed"] = hospital.send("card.check/v1", message).status
    # a clerk imports a file with a bad row
    path = tmp_path / "records.csv"
    path.write_text("\n".join(IMPORTED) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["import", "--kind", "records", str(path)])
    status["import"] = result.exit_code
    assert "DATE" in result.output, result.output  # the bad row was reported, by rule
    return status


@pytest.mark.slow
def test_a_full_flow_leaves_no_personal_data_in_any_log_line(
    engine: Engine,
    vneid: Vneid,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    restore_logging: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed.portal(engine, WEB_KEY.public_b64)
    add_grant(engine, seed.HOSPITAL, "card.check/v1", "KCB", "dd", "Luật BHYT Điều 28", "t")
    seed_register(engine)
    seed_staff(engine, ("rv.hn", "kt.hn"))
    monkeypatch.setenv("NIDB_ACTOR", "test:clerk")

    written = io.StringIO()
    config: dict[str, Any] = logging_config("DEBUG")
    config["handlers"]["stderr"]["stream"] = written  # the serve configuration, kept here
    logging.config.dictConfig(config)
    caplog.set_level(logging.DEBUG)

    status = run_the_flow(engine, tmp_path)
    assert status == {
        "citizen sign-in": 303,
        "/cong-dan/": 200,
        "/cong-dan/ho-so": 200,
        "/cong-dan/the-bhyt": 200,
        "/cong-dan/truy-cap": 200,
        "reviewer sign-in": 303,
        "review item": 200,
        "review decision": 303,
        "auditor sign-in": 303,
        "access search": 200,
        "card check": 200,
        "card check replayed": 409,
        "import": 0,
    }

    lines = written.getvalue().splitlines()
    requests = [line for line in lines if '"logger":"nidb.http"' in line]
    assert len(requests) >= 15, "the flow's requests were logged"
    assert any('"outcome":"E_REPLAY"' in line for line in requests)
    needles = personal_values(engine) | {BAD_ROW_PID, BAD_ROW_NAME}
    assert {seed.PID, seed.BHXH, "0112345678", f"DN401{seed.BHXH}", "Nguyễn Văn An"} <= needles
    found = hits([*lines, *record_texts(caplog.records)], needles)
    assert found == [], found[:5]
