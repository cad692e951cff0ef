"""Debtors per province, closed enterprises flagged, reminders received by the SMTP stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from nidb.cli import app
from nidb.contributions.assess import assess_month
from nidb.contributions.debt import debtors, remind, send_reminders
from nidb.sim.smtp.server import SmtpStandIn
from tests import seed

ACTOR = "test:debt"


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    server = SmtpStandIn("127.0.0.1", 0, 0).start()
    yield server
    server.stop()


def in_debt(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001", "Công ty TNHH Hà Nội", province="01", email="ketoan@hanoi.invalid")
        reg.employer("DN079", "Công ty CP Sài Gòn", province="79", email="kt@saigon.invalid")
        reg.employer("DN002", "Công ty Đã Đóng", province="01", status="closed")
        reg.wage("DN001", "0100000001", 10_000_000, "2026-09")
        reg.wage("DN079", "7900000001", 20_000_000, "2026-09")
        reg.wage("DN002", "0100000002", 10_000_000, "2026-09", "2026-09")
    for m in (9, 10):
        assess_month(engine, date(2026, m, 1), actor=ACTOR)


def test_debtors_per_province_with_closed_enterprises_flagged(engine: Engine) -> None:
    in_debt(engine)
    with engine.connect() as conn:
        hanoi = debtors(conn, date(2026, 10, 1), "01")
        everyone = debtors(conn, date(2026, 10, 1))
        none_yet = debtors(conn, date(2026, 9, 1))
    assert [(d.employer_code, d.debt, d.months, d.closed) for d in hanoi] == [
        ("DN001", 3_200_000, 1, False),
        ("DN002", 3_200_000, 1, True),
    ]
    assert everyone[0].employer_code == "DN079" and everyone[0].debt == 6_400_000
    assert none_yet == []


def test_reminders_are_written_once_and_received_by_the_smtp_stand_in(
    engine: Engine, smtp: SmtpStandIn
) -> None:
    in_debt(engine)
    month = date(2026, 10, 1)
    assert remind(engine, month, actor=ACTOR) == 3
    assert remind(engine, month, actor=ACTOR) == 0
    assert send_reminders(engine, smtp.host, smtp.smtp_port) == (2, 1)  # DN002 has no e-mail
    assert send_reminders(engine, smtp.host, smtp.smtp_port) == (0, 1)
    mail = httpx.get(f"http://{smtp.host}:{smtp.http_port}/messages").json()
    assert sorted(m["to"][0] for m in mail) == ["ketoan@hanoi.invalid", "kt@saigon.invalid"]
    hanoi = next(m for m in mail if m["to"] == ["ketoan@hanoi.invalid"])
    assert "tháng 10/2026" in hanoi["subject"]
    assert "3.200.000 đồng" in hanoi["body"] and "Công ty TNHH Hà Nội" in hanoi["body"]
    assert "31/10/2026" in hanoi["body"]  # September was due by the end of October
    assert "BHXH DN001" in hanoi["body"]


def test_cli_lists_debtors_and_sends_reminders(
    cli: CliRunner, database_url: str, smtp: SmtpStandIn
) -> None:
    from nidb.store.db import make_engine

    engine = make_engine(database_url)
    in_debt(engine)
    engine.dispose()
    shown = cli.invoke(app, ["contributions", "debtors", "--month", "2026-10", "--province", "01"])
    assert shown.exit_code == 0, shown.output
    assert "DN001" in shown.output and "DN079" not in shown.output
    assert "giải thể" in shown.output
    sent = cli.invoke(
        app,
        [
            "contributions",
            "remind",
            "--month",
            "2026-10",
            "--smtp-host",
            smtp.host,
            "--smtp-port",
            str(smtp.smtp_port),
        ],
    )
    assert sent.exit_code == 0, sent.output
    assert "Đã gửi 2 thư" in sent.output
    assert len(smtp.box.all()) == 2
