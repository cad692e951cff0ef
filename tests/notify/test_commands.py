"""`nidb notify run|status|employer` on SQLite and PostgreSQL, with the real stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from nidb.cli import app
from nidb.contributions.assess import assess_month
from nidb.contributions.debt import remind
from nidb.sim.population.server import BackgroundServer
from nidb.sim.sms.app import create_app as create_sms
from nidb.sim.smtp.server import SmtpStandIn
from nidb.store.db import make_engine
from tests import seed

KEY = "khoa-sms-dong-lenh"


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SmtpStandIn, str]]:
    from nidb.settings import get_settings

    smtp = SmtpStandIn("127.0.0.1", 0, 0).start()
    sms = BackgroundServer(create_sms(KEY)).start()
    monkeypatch.setenv("NIDB_SMTP_HOST", smtp.host)
    monkeypatch.setenv("NIDB_SMTP_PORT", str(smtp.smtp_port))
    monkeypatch.setenv("NIDB_SMS_URL", sms.url)
    monkeypatch.setenv("NIDB_SMS_API_KEY", KEY)
    get_settings.cache_clear()
    try:
        yield smtp, sms.url
    finally:
        get_settings.cache_clear()
        sms.stop()
        smtp.stop()


def in_debt(engine: Engine) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001", "Công ty TNHH Hà Nội", email="kt@hanoi.invalid", phone="0912345678")
        reg.wage("DN001", "0100000001", 10_000_000, "2026-09")
    for m in (9, 10):
        assess_month(engine, date(2026, m, 1), actor="test")
    remind(engine, date(2026, 10, 1), actor="test")


def test_run_delivers_and_status_reports(
    cli: CliRunner, database_url: str, stand_ins: tuple[SmtpStandIn, str]
) -> None:
    engine = make_engine(database_url)
    in_debt(engine)
    engine.dispose()
    smtp, _ = stand_ins
    bad = cli.invoke(app, ["notify", "employer", "DN001", "--phone", "12345"])
    assert bad.exit_code == 2 and "Số điện thoại di động không đúng" in bad.output
    unknown = cli.invoke(app, ["notify", "employer", "KHONGCO", "--email", "a@b.vn"])
    assert unknown.exit_code == 2 and "KHONGCO" in unknown.output
    ran = cli.invoke(app, ["notify", "run", "--settle", "5"])
    assert ran.exit_code == 0, ran.output
    assert "Lập 2 lần gửi mới" in ran.output and "đã gửi 2" in ran.output
    assert len(smtp.box.all()) == 1
    again = cli.invoke(app, ["notify", "run"])
    assert "Lập 0 lần gửi mới" in again.output and "đã gửi 0" in again.output
    status = cli.invoke(app, ["notify", "status"])
    assert status.exit_code == 0
    assert "thư điện tử" in status.output and "đã gửi" in status.output and "SMS" in status.output
