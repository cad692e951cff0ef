"""MOLISA's welfare feed over real HTTP (the stand-in on a thread), on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from nidb.cli import app as nidb_app
from nidb.connectors.population import CircuitBreaker, RetryPolicy
from nidb.feeds.feed import FeedUnavailable
from nidb.feeds.molisa import follow_molisa, molisa_client
from nidb.sim.molisa import create_app
from nidb.sim.population import BackgroundServer
from nidb.store import models
from tests.seed import register

AN = ("001085012345", "0123456789")  # verified, holds a DN card issued in Hà Nội (01)
BINH = ("079190000123", "7900000001")  # verified, no card yet; born in TP. Hồ Chí Minh (79)
UNKNOWN = "001190000999"  # no record verified as this personal ID


def seed(engine: Engine) -> None:
    with register(engine) as reg:
        for (pid, bhxh), name in ((AN, "Nguyễn Văn An"), (BINH, "Trần Thị Bình")):
            reg.person(bhxh, name, "1985", None, declared_id=pid, verified=pid)
        reg.card(AN[1], "DN", valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31))


@pytest.fixture
def molisa() -> Iterator[tuple[str, httpx.Client]]:
    """A fresh MOLISA stand-in: its URL and an admin client."""
    with BackgroundServer(create_app()) as server, httpx.Client(base_url=server.url) as admin:
        yield server.url, admin


def add(admin: httpx.Client, pid: str, program: str, start: str, **extra: Any) -> None:
    body = {"personal_id": pid, "program": program, "start_date": start, **extra}
    answer = admin.post("/v1/admin/beneficiaries", json=body)
    assert answer.status_code == 201, answer.text


def end(admin: httpx.Client, pid: str, program: str, end_date: str) -> None:
    body = {"personal_id": pid, "program": program, "end_date": end_date}
    answer = admin.post("/v1/admin/beneficiaries/end", json=body)
    assert answer.status_code == 201, answer.text


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def cards(engine: Engine) -> dict[str, tuple[Any, ...]]:
    card = models.HealthCard
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                card.card_code,
                card.group_code,
                card.benefit_level,
                card.facility_code,
                card.valid_from,
                card.valid_to,
                card.status,
            )
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        welfare = conn.execute(select(models.WelfareBeneficiary.__table__)).all()
    return {
        "welfare": sorted(tuple(r) for r in welfare),
        "cards": cards(engine),
        "audit": count(engine, models.AuditEntry),
        "outbox": count(engine, models.OutboxEvent),
        "alerts": count(engine, models.Alert),
    }


def test_beneficiaries_added_get_state_paid_cards_of_their_group(
    engine: Engine, molisa: tuple[str, httpx.Client]
) -> None:
    url, admin = molisa
    seed(engine)
    add(admin, AN[0], "BTXH", "2025-03-01", monthly_amount=500_000)
    add(admin, BINH[0], "HONGHEO", "2025-04-01")
    add(admin, AN[0], "NCC", "2025-05-01", end_date="2025-10-31", monthly_amount=2_055_000)
    add(admin, UNKNOWN, "BTXH", "2025-03-01", monthly_amount=500_000)
    with molisa_client(url) as client:
        report = follow_molisa(engine, client, page_size=3)
    assert (report.pages, report.events, report.added) == (2, 4, 4)
    assert (report.cards_issued, report.persons_unknown, report.rejected) == (3, 1, [])

    held = cards(engine)
    # BTXH → BT level 2, issued where An's card is (01) for the facility An already uses
    assert held[f"BT201{AN[1]}"] == (
        "BT",
        2,
        "01001",
        date(2025, 3, 1),
        date(2025, 12, 31),
        "active",
    )
    # HONGHEO → HN level 2; Bình has no card: province of birth registration, no facility yet
    assert held[f"HN279{BINH[1]}"] == (
        "HN",
        2,
        "79000",
        date(2025, 4, 1),
        date(2025, 12, 31),
        "active",
    )
    # NCC → CC level 1, ending with the entitlement
    assert held[f"CC101{AN[1]}"] == (
        "CC",
        1,
        "01001",
        date(2025, 5, 1),
        date(2025, 10, 31),
        "active",
    )
    with engine.connect() as conn:
        welfare = conn.execute(
            select(models.WelfareBeneficiary.personal_id, models.WelfareBeneficiary.monthly_amount)
        ).all()
        issued = conn.execute(
            select(models.OutboxEvent.subject_key, models.OutboxEvent.payload).where(
                models.OutboxEvent.topic == "welfare.card_issued"
            )
        ).all()
        cursor = conn.execute(select(models.FeedCursor.__table__)).one()
    # the person not known yet keeps a welfare row, for a later verification to link
    assert (UNKNOWN, 500_000) in welfare and len(welfare) == 4
    assert sorted(key for key, _ in issued) == sorted(
        [f"person:{AN[1]}", f"person:{AN[1]}", f"person:{BINH[1]}"]
    )
    assert {p["program"] for _, p in issued} == {"BTXH", "HONGHEO", "NCC"}
    assert count(engine, models.AuditEntry, models.AuditEntry.action == "welfare.card_issued") == 3
    assert count(engine, models.AuditEntry, models.AuditEntry.action == "welfare.recorded") == 4
    assert (cursor.source, cursor.cursor, cursor.changes_applied) == ("molisa", "4", 4)


def test_ended_sets_the_end_date_and_shortens_the_card(
    engine: Engine, molisa: tuple[str, httpx.Client]
) -> None:
    url, admin = molisa
    seed(engine)
    add(admin, AN[0], "BTXH", "2025-03-01")
    add(admin, BINH[0], "HONGHEO", "2025-04-01")
    end(admin, AN[0], "BTXH", "2025-08-31")
    with molisa_client(url) as client:
        report = follow_molisa(engine, client)
    assert (report.ended, report.cards_shortened) == (1, 1)
    held = cards(engine)
    assert held[f"BT201{AN[1]}"][4] == date(2025, 8, 31)
    assert held[f"HN279{BINH[1]}"][4] == date(2025, 12, 31)  # another program: untouched
    assert held[f"DN401{AN[1]}"][4] == date(2025, 12, 31)  # the employer's card: untouched
    with engine.connect() as conn:
        ended = conn.execute(
            select(models.WelfareBeneficiary.end_date).where(
                models.WelfareBeneficiary.personal_id == AN[0]
            )
        ).scalar_one()
        payload = conn.execute(
            select(models.OutboxEvent.payload).where(models.OutboxEvent.topic == "welfare.ended")
        ).scalar_one()
    assert ended == date(2025, 8, 31)
    assert payload["cards_shortened"] == [f"BT201{AN[1]}"] and payload["end_date"] == "2025-08-31"


def test_a_person_already_covered_by_the_group_gets_no_second_card(
    engine: Engine, molisa: tuple[str, httpx.Client]
) -> None:
    url, admin = molisa
    seed(engine)
    with engine.begin() as conn:
        conn.execute(update(models.HealthCard).values(group_code="BT", card_code=f"BT201{AN[1]}"))
    add(admin, AN[0], "BTXH", "2025-03-01")
    with molisa_client(url) as client:
        report = follow_molisa(engine, client)
    assert (report.added, report.cards_issued, report.already_covered) == (1, 0, 1)
    assert count(engine, models.HealthCard) == 1


def test_the_same_page_applied_twice_changes_nothing_more(
    engine: Engine, molisa: tuple[str, httpx.Client]
) -> None:
    url, admin = molisa
    seed(engine)
    add(admin, AN[0], "BTXH", "2025-03-01", monthly_amount=500_000)
    add(admin, BINH[0], "NCC", "2025-02-01")
    add(admin, UNKNOWN, "HONGHEO", "2025-03-01")
    end(admin, AN[0], "BTXH", "2025-08-31")
    with molisa_client(url) as client:
        follow_molisa(engine, client)
        before = snapshot(engine)
        with engine.begin() as conn:
            conn.execute(update(models.FeedCursor).values(cursor=None))
        again = follow_molisa(engine, client)
    assert (again.events, again.added, again.cards_issued, again.ended) == (4, 0, 0, 0)
    assert again.entries_unknown == 0
    assert snapshot(engine) == before


def test_a_failing_molisa_loses_and_repeats_nothing(
    engine: Engine, molisa: tuple[str, httpx.Client]
) -> None:
    url, admin = molisa
    seed(engine)
    for n in range(15):
        pid = f"0010851{n:05d}"
        add(admin, pid, "BTXH", "2025-03-01", monthly_amount=500_000 + n)
        if n % 3 == 0:
            end(admin, pid, "BTXH", "2025-09-30")
    add(admin, BINH[0], "HONGHEO", "2025-04-01")
    assert admin.post("/v1/admin/faults", json={"error_rate": 0.4, "seed": 3}).status_code == 200
    failures = 0
    with molisa_client(url, retry=RetryPolicy(retries=0), breaker=CircuitBreaker(1000)) as client:
        for _ in range(200):
            try:
                follow_molisa(engine, client, page_size=2)
                break
            except FeedUnavailable:
                failures += 1
    assert failures > 0
    welfare = models.WelfareBeneficiary
    assert count(engine, welfare) == 16
    assert count(engine, welfare, welfare.end_date == date(2025, 9, 30)) == 5
    assert count(engine, models.AuditEntry, models.AuditEntry.action == "welfare.recorded") == 16
    assert count(engine, models.OutboxEvent, models.OutboxEvent.topic == "welfare.card_issued") == 1
    with engine.connect() as conn:
        cursor = conn.execute(select(models.FeedCursor.__table__)).one()
    assert (cursor.cursor, cursor.changes_applied) == ("21", 21)


def test_bad_events_are_rejected_by_name_and_the_good_ones_applied(
    engine: Engine, molisa: tuple[str, httpx.Client]
) -> None:
    url, admin = molisa
    seed(engine)
    bad: list[dict[str, Any]] = [
        {
            "kind": "added",
            "personal_id": "12345",
            "data": {"program": "BTXH", "start_date": "2025-01-01"},
        },
        {
            "kind": "added",
            "personal_id": AN[0],
            "data": {"program": "XYZ", "start_date": "2025-01-01"},
        },
        {"kind": "added", "personal_id": AN[0], "data": {"program": "NCC"}},
        {
            "kind": "ended",
            "personal_id": AN[0],
            "data": {"program": "NCC", "end_date": "31/08/2025"},
        },
        {"kind": "added", "personal_id": AN[0]},
        {
            "kind": "added",
            "personal_id": AN[0],
            "data": {"program": "NCC", "start_date": "2025-05-01", "end_date": "2025-01-01"},
        },
    ]
    for body in bad[:3]:
        assert admin.post("/v1/admin/raw-events", json=body).status_code == 201
    add(admin, AN[0], "BTXH", "2025-03-01")
    for body in bad[3:]:
        assert admin.post("/v1/admin/raw-events", json=body).status_code == 201
    with molisa_client(url) as client:
        report = follow_molisa(engine, client)
        with engine.begin() as conn:
            conn.execute(update(models.FeedCursor).values(cursor=None))
        follow_molisa(engine, client)  # rejected events are recorded once
    assert (report.events, report.added, report.cards_issued) == (7, 1, 1)
    expected = [
        "molisa event 1 (added): personal_id='12345' [PERSONAL_ID_FORMAT]",
        "molisa event 2 (added): data.program='XYZ' [PROGRAM_UNKNOWN]",
        "molisa event 3 (added): data.start_date=None [missing]",
        "molisa event 5 (ended): data.end_date='31/08/2025' [DATE]",
        "molisa event 6 (added): data=None [missing]",
        "molisa event 7 (added): data.end_date='2025-01-01' [END_BEFORE_START]",
    ]
    assert len(report.rejected) == len(expected)
    for message, start in zip(report.rejected, expected, strict=True):
        assert message.startswith(start), message
    assert count(engine, models.Alert, models.Alert.kind == "feed_rejected") == 6
    assert count(engine, models.AuditEntry, models.AuditEntry.action == "feed.rejected") == 6


def test_command_prints_what_was_applied_and_exits_1_when_molisa_is_down(
    engine: Engine, molisa: tuple[str, httpx.Client], cli: CliRunner
) -> None:
    url, admin = molisa
    seed(engine)
    add(admin, AN[0], "BTXH", "2025-03-01")
    add(admin, UNKNOWN, "BTXH", "2025-03-01")
    with BackgroundServer(create_app()) as gone:
        down_url = gone.url
    down = cli.invoke(nidb_app, ["feed", "molisa", "--url", down_url, "--retries", "0"])
    assert down.exit_code == 1, down.output
    assert "CSDL an sinh xã hội (MOLISA): không đọc được luồng thay đổi" in down.stderr
    up = cli.invoke(nidb_app, ["feed", "molisa", "--url", url])
    assert up.exit_code == 0, up.output
    assert "2 sự kiện trong 1 trang" in up.stdout
    assert "thẻ BHYT đã cấp (cards issued) 1" in up.stdout
    assert "chưa xác định được người (persons not known yet) 1" in up.stdout
