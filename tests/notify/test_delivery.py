"""Notifications delivered by e-mail to the real SMTP stand-in and by SMS to the real SMS-gateway
stand-in over HTTP, on SQLite and PostgreSQL: opt-in and opt-out, no duplicates on rerun,
transient failures retried with backoff, permanent ones recorded, access notices batched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, select

from nidb.accesslog import AccessRecord, append
from nidb.contributions.assess import assess_month
from nidb.contributions.debt import remind
from nidb.exchange.partners import add_partner
from nidb.notify.channels import Channels
from nidb.notify.collect import build_deliveries
from nidb.notify.contacts import save_citizen_contact, save_employer_contact
from nidb.notify.deliver import run
from nidb.protocol.keys import SigningKey
from nidb.services.workdays import VIETNAM
from nidb.services.workflow import notify
from nidb.sim.population.server import BackgroundServer
from nidb.sim.sms.app import create_app as create_sms
from nidb.sim.smtp.server import SmtpStandIn
from nidb.store.models_contributions import Reminder
from nidb.store.models_notify import NotifyDelivery
from nidb.web.consents import save_choices
from tests import seed
from tests.conftest import Exchange

SMS_KEY = "khoa-sms-cua-nidb"
EMAIL = "an.nguyen@example.vn"
PHONE = "0912345678"
HOSPITAL = seed.HOSPITAL


@dataclass
class Stand:
    smtp: SmtpStandIn
    sms_url: str

    def channels(self, smtp_port: int | None = None) -> Channels:
        return Channels(
            self.smtp.host,
            smtp_port or self.smtp.smtp_port,
            "thongbao@baohiemxahoi.invalid",
            self.sms_url,
            SMS_KEY,
        )

    def mail(self) -> list[dict[str, object]]:
        return list(httpx.get(f"http://{self.smtp.host}:{self.smtp.http_port}/messages").json())

    def texts(self) -> list[dict[str, object]]:
        return list(httpx.get(f"{self.sms_url}/messages").json()["messages"])

    def faults(self, **faults: object) -> None:
        httpx.put(f"{self.sms_url}/admin/faults", json=faults).raise_for_status()


@pytest.fixture
def stand() -> Iterator[Stand]:
    smtp = SmtpStandIn("127.0.0.1", 0, 0).start()
    sms = BackgroundServer(create_sms(SMS_KEY)).start()
    stand = Stand(smtp, sms.url)
    try:
        yield stand
    finally:
        sms.stop()
        stand.smtp.stop()


def deliver(engine: Engine, stand: Stand, settle: float = 0.0, **kwargs: object) -> tuple[int, int]:
    built, passed = run(
        engine,
        stand.channels(),
        max_attempts=int(kwargs.get("max_attempts", 4)),  # type: ignore[call-overload]
        backoff=0.05,
        access_every=timedelta(0),
        settle_seconds=settle,
    )
    return built.total, passed.sent


def deliveries(engine: Engine) -> list[tuple[str, str, str, int, str | None]]:
    d = NotifyDelivery
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.event_key, d.channel, d.status, d.attempts, d.last_error).order_by(d.id)
        ).all()
    return [(str(k), str(c), str(s), int(a), e) for k, c, s, a, e in rows]


def opt_in(
    engine: Engine, *topics: str, email: str | None = EMAIL, phone: str | None = PHONE
) -> None:
    save_citizen_contact(engine, seed.PID, email, phone)
    save_choices(engine, seed.PID, {t: True for t in topics})


def a_notice(engine: Engine, text: str = "Đã tiếp nhận hồ sơ gia hạn thẻ BHYT số 7.") -> None:
    with engine.begin() as conn:
        notify(conn, seed.PID, text, None)


def test_a_citizens_notice_arrives_by_email_and_sms_once(engine: Engine, stand: Stand) -> None:
    seed.insured_person(engine)
    a_notice(engine, "Trước khi đăng ký nhận: không gửi.")
    time.sleep(1.1)  # SQLite's CURRENT_TIMESTAMP counts whole seconds
    opt_in(engine, "notify_email", "notify_sms")
    a_notice(engine)
    assert deliver(engine, stand) == (2, 2)
    assert deliver(engine, stand) == (0, 0)  # rerun: nothing new, nothing sent twice
    mail, texts = stand.mail(), stand.texts()
    assert len(mail) == 1 and len(texts) == 1
    assert mail[0]["to"] == [EMAIL]
    assert "Kính gửi Nguyễn Văn An" in str(mail[0]["body"])
    assert "Đã tiếp nhận hồ sơ gia hạn thẻ BHYT số 7." in str(mail[0]["body"])
    assert texts[0]["to"] == PHONE and "gia hạn thẻ BHYT" in str(texts[0]["text"])
    today = datetime.now(VIETNAM).strftime("%d/%m/%Y")  # notices are dated in Vietnam time
    assert today in str(mail[0]["body"]) or today in str(texts[0]["text"])  # dd/mm/yyyy
    assert [(c, s, a) for _, c, s, a, _ in deliveries(engine)] == [
        ("email", "sent", 1),
        ("sms", "sent", 1),
    ]


def test_opting_out_of_a_channel_stops_it(engine: Engine, stand: Stand) -> None:
    seed.insured_person(engine)
    opt_in(engine, "notify_email", "notify_sms")
    save_choices(engine, seed.PID, {"notify_sms": False})
    a_notice(engine)
    assert deliver(engine, stand) == (1, 1)
    assert stand.texts() == [] and len(stand.mail()) == 1


def test_a_transient_sms_failure_is_retried_with_backoff(engine: Engine, stand: Stand) -> None:
    seed.insured_person(engine)
    opt_in(engine, "notify_sms", email=None)
    a_notice(engine)
    stand.faults(fail_next=2)
    built, sent = deliver(engine, stand, settle=10)
    assert (built, sent) == (1, 1)
    [(_key, channel, status, attempts, _error)] = deliveries(engine)
    assert (channel, status, attempts) == ("sms", "sent", 3)
    assert len(stand.texts()) == 1
    assert httpx.get(f"{stand.sms_url}/stats").json()["failed"] == 2


def test_a_permanent_refusal_is_recorded_without_retrying(engine: Engine, stand: Stand) -> None:
    with seed.register(engine) as reg:
        # a landline in the register: the gateway refuses it (422), which no retry can mend
        reg.employer(
            "DN001", "Công ty TNHH Hà Nội", email="ketoan@hanoi.invalid", phone="0243826000"
        )
        reg.wage("DN001", "0100000001", 10_000_000, "2026-09")
    for m in (9, 10):
        assess_month(engine, date(2026, m, 1), actor="test")
    assert remind(engine, date(2026, 10, 1), actor="test") == 1
    built, sent = deliver(engine, stand, settle=2)
    assert (built, sent) == (2, 1)
    rows = {c: (s, a, e) for _, c, s, a, e in deliveries(engine)}
    assert rows["email"][:2] == ("sent", 1)
    assert rows["sms"][0] == "failed" and rows["sms"][1] == 1
    assert "E_NUMBER" in str(rows["sms"][2])
    reminder = stand.mail()[0]
    assert "3.200.000 đồng" in str(reminder["body"]) and "31/10/2026" in str(reminder["body"])
    assert "tháng 10/2026" in str(reminder["subject"])
    with engine.connect() as conn:
        assert conn.execute(select(Reminder.sent_at)).scalar() is not None
    assert deliver(engine, stand) == (0, 0)


def test_transient_failures_end_as_failed_after_the_last_attempt(
    engine: Engine, stand: Stand
) -> None:
    seed.insured_person(engine)
    opt_in(engine, "notify_email", phone=None)
    a_notice(engine)
    closed = stand.smtp.smtp_port
    stand.smtp.stop()  # the mail server is down for good
    built, passed = run(
        engine,
        stand.channels(closed),
        max_attempts=3,
        backoff=0.02,
        access_every=timedelta(0),
        settle_seconds=5,
    )
    assert (built.total, passed.sent, passed.failed) == (1, 0, 1)
    [(_, channel, status, attempts, error)] = deliveries(engine)
    assert (channel, status, attempts) == ("email", "failed", 3)
    assert error and "SMTP" in error
    stand.smtp = SmtpStandIn("127.0.0.1", 0, 0).start()  # for the fixture's stop


def test_employer_opt_out_and_own_addresses(engine: Engine, stand: Stand) -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001", "Công ty TNHH Hà Nội", email="cu@hanoi.invalid", phone=PHONE)
        reg.wage("DN001", "0100000001", 10_000_000, "2026-09")
    for m in (9, 10):
        assess_month(engine, date(2026, m, 1), actor="test")
    save_employer_contact(
        engine,
        "DN001",
        email="moi@hanoi.invalid",
        phone=None,
        email_on=True,
        sms_on=False,
        actor="test",
    )
    remind(engine, date(2026, 10, 1), actor="test")
    assert deliver(engine, stand) == (1, 1)
    assert [m["to"] for m in stand.mail()] == [["moi@hanoi.invalid"]]
    assert stand.texts() == []


def read_by(engine: Engine, *records: AccessRecord) -> None:
    with engine.begin() as conn:
        append(conn, list(records))


def test_citizens_who_ask_are_told_who_read_their_data_and_why(
    engine: Engine, stand: Stand
) -> None:
    seed.insured_person(engine)
    add_partner(
        engine, HOSPITAL, "Bệnh viện Bạch Mai", "hospital", SigningKey.generate().public_b64, "test"
    )
    read_by(engine, AccessRecord(HOSPITAL, "card.check/v1", "ok", "KCB", seed.BHXH, "dd"))
    time.sleep(1.1)  # before the opt-in: not told (SQLite's clock counts whole seconds)
    opt_in(engine, "notify_email", "notify_sms", "notify_access")
    assert build_deliveries(engine, now=datetime.now(UTC) + timedelta(minutes=1)).access == 0
    read_by(
        engine,
        AccessRecord(HOSPITAL, "card.check/v1", "ok", "KCB", seed.BHXH, "dd"),
        AccessRecord("staff:canbo.hn", "access.history/v1", "ok", "GQCD", seed.BHXH, "access_log"),
        AccessRecord(f"citizen:{seed.PID}", "access.history/v1", "ok", None, seed.BHXH, ""),
        AccessRecord(HOSPITAL, "card.check/v1", "E_NOT_GRANTED", "KCB", seed.BHXH, "dd"),
        AccessRecord(HOSPITAL, "card.check/v1", "ok", "KCB", seed.OTHER_BHXH, "dd"),
    )
    later = datetime.now(UTC) + timedelta(minutes=1)
    built = build_deliveries(engine, now=later, access_every=timedelta(hours=1))
    assert built.access == 2  # one notice, by e-mail and by SMS
    built_again = build_deliveries(
        engine, now=later + timedelta(minutes=2), access_every=timedelta(hours=1)
    )
    assert built_again.total == 0
    assert deliver(engine, stand)[1] == 2
    [mail] = stand.mail()
    body = str(mail["body"])
    assert "2 lần" in str(mail["subject"])
    assert "Bệnh viện Bạch Mai — Tra cứu thẻ BHYT khi khám chữa bệnh" in body
    assert "Khám bệnh, chữa bệnh BHYT" in body and "Bảo hiểm y tế: thẻ, mức hưởng" in body
    assert "Cán bộ cơ quan BHXH (canbo.hn)" in body and "Giải quyết chế độ, chính sách" in body
    for raw in ("card.check", "access.history", "access_log", "GQCD", HOSPITAL, "dd"):
        assert raw not in body
    assert "mục đích: KCB" not in body
    assert "Chính bạn" not in body
    [text] = stand.texts()
    assert "được xem 2 lần" in str(text["text"])


def test_access_notices_are_gathered_within_the_interval(engine: Engine, stand: Stand) -> None:
    seed.insured_person(engine)
    opt_in(engine, "notify_email", "notify_access", phone=None)
    first = datetime.now(UTC) + timedelta(minutes=1)
    read_by(engine, AccessRecord("staff:a", "review.view/v1", "ok", "GQCD", seed.BHXH, "a"))
    assert build_deliveries(engine, now=first, access_every=timedelta(hours=1)).access == 1
    read_by(engine, AccessRecord("staff:b", "review.view/v1", "ok", "GQCD", seed.BHXH, "a"))
    soon = first + timedelta(minutes=10)
    assert build_deliveries(engine, now=soon, access_every=timedelta(hours=1)).access == 0
    hour_later = first + timedelta(hours=1, minutes=1)
    assert build_deliveries(engine, now=hour_later, access_every=timedelta(hours=1)).access == 1
    assert deliver(engine, stand)[1] == 2
    bodies = [str(m["body"]) for m in stand.mail()]
    assert "(a)" in bodies[0] and "(b)" in bodies[1] and "(a)" not in bodies[1]


def test_contacts_table_is_written_in_one_transaction_with_an_audit_entry(engine: Engine) -> None:
    from nidb.store import models

    seed.insured_person(engine)
    save_citizen_contact(engine, seed.PID, EMAIL, PHONE)
    save_citizen_contact(engine, seed.PID, None, PHONE)
    with engine.connect() as conn:
        actions = (
            conn.execute(
                select(models.AuditEntry.action).where(models.AuditEntry.subject_id == seed.PID)
            )
            .scalars()
            .all()
        )
    assert actions.count("notify.contact") == 2


def test_a_hospitals_real_card_check_reaches_the_citizen(exchange: Exchange, stand: Stand) -> None:
    """The whole path: a hospital's signed card.check/v1 over nidb's API writes the access log,
    and the citizen who asked is told by e-mail who read what and why."""
    engine = exchange.engine
    opt_in(engine, "notify_email", "notify_access", phone=None)
    card = {
        "card_code": f"DN401{seed.BHXH}",
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1985-03-17",
    }
    reply = exchange.client().call("card.check/v1", "KCB", card)
    assert reply.error_code is None, reply.error_code
    built = build_deliveries(engine, now=datetime.now(UTC) + timedelta(minutes=1))
    assert built.access == 1
    assert deliver(engine, stand)[1] == 1
    [mail] = stand.mail()
    assert "Bệnh viện Bạch Mai — Tra cứu thẻ BHYT khi khám chữa bệnh" in str(mail["body"])
    assert "mục đích: Khám bệnh, chữa bệnh BHYT" in str(mail["body"])
