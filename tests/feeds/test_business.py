"""The business-registry feed over real HTTP (the stand-in on a thread), on both engines."""

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
from nidb.feeds.business import business_client, follow_business
from nidb.feeds.feed import FeedUnavailable
from nidb.sim.business import create_app
from nidb.sim.population import BackgroundServer
from nidb.store import models
from tests.seed import register

OLD = "0101234567"  # an enterprise the register already holds, as employer TA0001A in Hà Nội
NEW = "0312345678"


def seed(engine: Engine) -> None:
    """Employer TA0001A with two insured workers (one in two schemes) and one who left."""
    with register(engine) as reg:
        reg.employer(
            "TA0001A",
            "Công ty TNHH An Bình",
            enterprise_code=OLD,
            address="12 Hàng Bài, Hoàn Kiếm, Hà Nội",
            business_line="4711",
            registered_workers=12,
        )
        periods = [
            ("0100000001", "BHXH", None),
            ("0100000001", "BHYT", None),
            ("0100000002", "BHXH", None),
            ("0100000003", "BHXH", date(2024, 6, 1)),  # left before the closure
        ]
        for bhxh, scheme, end in periods:
            reg.period(bhxh, "TA0001A", scheme=scheme, start=date(2022, 1, 1), end=end)


@pytest.fixture
def registry() -> Iterator[tuple[str, httpx.Client]]:
    """A fresh business-registry stand-in: its URL and an admin client."""
    with BackgroundServer(create_app()) as server, httpx.Client(base_url=server.url) as admin:
        yield server.url, admin


def make_events(admin: httpx.Client) -> None:
    """A registration, a change and a closure, as the registry's admin endpoints make them."""
    created = admin.post(
        "/v1/admin/enterprises",
        json={
            "enterprise_code": NEW,
            "name": "Công ty Cổ phần Sông Hồng",
            "province": "79",
            "address": "5 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
            "business_line": "6201",
            "registered_workers": 40,
        },
    )
    assert created.status_code == 201, created.text
    # the stand-in's registry does not hold the old enterprise: its events are sent as given
    raw = {
        "kind": "changed",
        "enterprise_code": OLD,
        "data": {"name": "Công ty TNHH An Bình Xanh", "registered_workers": 15},
    }
    assert admin.post("/v1/admin/raw-events", json=raw).status_code == 201
    closed = {"kind": "closed", "enterprise_code": OLD, "data": {"closed_date": "2025-05-31"}}
    assert admin.post("/v1/admin/raw-events", json=closed).status_code == 201


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            "employers": sorted(
                tuple(r) for r in conn.execute(select(models.Employer.__table__)).all()
            ),
            "alerts": count(engine, models.Alert),
            "audit": count(engine, models.AuditEntry),
            "outbox": count(engine, models.OutboxEvent),
        }


def test_registered_changed_closed_flag_open_workers_to_the_province(
    engine: Engine, registry: tuple[str, httpx.Client]
) -> None:
    url, admin = registry
    seed(engine)
    make_events(admin)
    with business_client(url) as client:
        report = follow_business(engine, client, page_size=2)
    assert (report.pages, report.events) == (2, 3)
    assert (report.registered, report.changed, report.closed) == (1, 1, 1)
    assert report.workers_flagged == 2 and report.rejected == []

    with engine.connect() as conn:
        new = conn.execute(
            select(models.Employer.__table__).where(models.Employer.enterprise_code == NEW)
        ).one()
        old = conn.execute(
            select(models.Employer.__table__).where(models.Employer.employer_code == "TA0001A")
        ).one()
        alerts = conn.execute(select(models.Alert.__table__).order_by(models.Alert.id)).all()
        changed = conn.execute(
            select(models.AuditEntry.__table__).where(
                models.AuditEntry.action == "employer.changed"
            )
        ).one()
        topics = conn.execute(
            select(models.OutboxEvent.topic).order_by(models.OutboxEvent.id)
        ).all()
        cursor = conn.execute(select(models.FeedCursor.__table__)).one()
    # a new enterprise becomes an employer whose unit code is its enterprise code
    assert (new.employer_code, new.name, new.province, new.status) == (
        NEW,
        "Công ty Cổ phần Sông Hồng",
        "79",
        "active",
    )
    assert (new.employer_type, new.registered_workers, new.business_line) == (
        "enterprise",
        40,
        "6201",
    )
    assert (old.name, old.registered_workers, old.status) == (
        "Công ty TNHH An Bình Xanh",
        15,
        "closed",
    )
    assert changed.detail["old"] == {"name": "Công ty TNHH An Bình", "registered_workers": 12}
    assert changed.detail["new"] == {"name": "Công ty TNHH An Bình Xanh", "registered_workers": 15}
    assert changed.actor == "feed:business"
    # workers with an open period are flagged, routed to the employer's province; one who left is not
    workers = [a for a in alerts if a.kind == "employer_closed_worker"]
    assert sorted(a.subject_id for a in workers) == ["0100000001", "0100000002"]
    assert {a.province for a in workers} == {"01"} and {a.status for a in workers} == {"open"}
    assert next(a for a in workers if a.subject_id == "0100000001").detail["schemes"] == [
        "BHXH",
        "BHYT",
    ]
    [closure] = [a for a in alerts if a.kind == "employer_closed"]
    assert (closure.subject_id, closure.province, closure.detail["open_workers"]) == (
        "TA0001A",
        "01",
        2,
    )
    assert closure.detail["closed_date"] == "2025-05-31"
    assert list(t for (t,) in topics) == [
        "employer.registered",
        "employer.changed",
        "employer.closed",
    ]
    assert (cursor.source, cursor.cursor, cursor.changes_applied) == ("business", "3", 3)


def test_suspension_and_a_registration_of_a_known_enterprise_update_it(
    engine: Engine, registry: tuple[str, httpx.Client]
) -> None:
    url, admin = registry
    seed(engine)
    with register(engine) as reg:  # a unit code equal to the new enterprise code is taken
        reg.employer(NEW, "Hộ kinh doanh", province="79", employer_type="household_business")
    for body in (
        {
            "kind": "registered",
            "enterprise_code": OLD,
            "data": {"name": "An Bình", "province": "01"},
        },
        {"kind": "changed", "enterprise_code": OLD, "data": {"status": "suspended"}},
        {
            "kind": "registered",
            "enterprise_code": NEW,
            "data": {"name": "Sông Hồng", "province": "79"},
        },
        {"kind": "changed", "enterprise_code": "0399999999", "data": {"name": "Ai đó"}},
    ):
        assert admin.post("/v1/admin/raw-events", json=body).status_code == 201
    with business_client(url) as client:
        report = follow_business(engine, client)
    assert (report.registered, report.changed, report.unknown_enterprise) == (1, 2, 1)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(models.Employer.enterprise_code, models.Employer.employer_code)
            ).all()
        )
        old = conn.execute(
            select(models.Employer.__table__).where(models.Employer.employer_code == "TA0001A")
        ).one()
    assert rows[OLD] == "TA0001A" and rows[NEW] == f"DN{NEW}"  # no second row for OLD
    # fields the event leaves out are kept
    assert (old.name, old.address, old.status) == (
        "An Bình",
        "12 Hàng Bài, Hoàn Kiếm, Hà Nội",
        "paused",
    )
    assert count(engine, models.Alert) == 0


def test_the_same_page_applied_twice_changes_nothing_more(
    engine: Engine, registry: tuple[str, httpx.Client]
) -> None:
    url, admin = registry
    seed(engine)
    make_events(admin)
    # a later change of the enterprise registered first: a replay must not put its old name back
    assert (
        admin.patch(f"/v1/admin/enterprises/{NEW}", json={"name": "Sông Hồng 2"}).status_code == 200
    )
    with business_client(url) as client:
        follow_business(engine, client)
        before = snapshot(engine)
        with engine.begin() as conn:  # forget the cursor: the whole feed is read again
            conn.execute(update(models.FeedCursor).values(cursor=None))
        again = follow_business(engine, client)
    assert again.events == 4
    assert (again.registered, again.changed, again.closed, again.workers_flagged) == (0, 0, 0, 0)
    assert again.unchanged == 4
    assert snapshot(engine) == before


def test_a_failing_registry_loses_and_repeats_nothing(
    engine: Engine, registry: tuple[str, httpx.Client]
) -> None:
    url, admin = registry
    seed(engine)
    for n in range(20):
        code = f"04{n:08d}"
        body = {"enterprise_code": code, "name": f"Công ty số {n}", "province": "48"}
        assert admin.post("/v1/admin/enterprises", json=body).status_code == 201
        if n % 2:
            assert (
                admin.patch(
                    f"/v1/admin/enterprises/{code}", json={"registered_workers": n}
                ).status_code
                == 200
            )
    assert admin.post("/v1/admin/faults", json={"error_rate": 0.4, "seed": 7}).status_code == 200
    failures = 0
    # no retries: every injected 503 ends a run, which a rerun continues from the cursor
    with business_client(url, retry=RetryPolicy(retries=0), breaker=CircuitBreaker(1000)) as client:
        for _ in range(200):
            try:
                follow_business(engine, client, page_size=3)
                break
            except FeedUnavailable:
                failures += 1
    assert failures > 0
    assert count(engine, models.Employer, models.Employer.province == "48") == 20
    assert (
        count(engine, models.OutboxEvent, models.OutboxEvent.topic == "employer.registered") == 20
    )
    assert count(engine, models.OutboxEvent, models.OutboxEvent.topic == "employer.changed") == 10
    assert count(engine, models.AuditEntry) == 30
    with engine.connect() as conn:
        cursor = conn.execute(select(models.FeedCursor.__table__)).one()
    assert (cursor.cursor, cursor.changes_applied) == ("30", 30)


def test_bad_events_are_rejected_by_name_and_the_good_ones_applied(
    engine: Engine, registry: tuple[str, httpx.Client]
) -> None:
    url, admin = registry
    good = {"enterprise_code": NEW, "name": "Sông Hồng", "province": "79"}
    bad: list[dict[str, Any]] = [
        {
            "kind": "registered",
            "enterprise_code": "0412345678",
            "data": {"name": "X", "province": "99"},
        },
        {
            "kind": "registered",
            "enterprise_code": "01234-ABC",
            "data": {"name": "Y", "province": "01"},
        },
        {"kind": "registered", "enterprise_code": "0412345679", "data": {"province": "01"}},
        {"kind": "closed", "data": {}},
        {"kind": "merged", "enterprise_code": NEW, "data": {}},
        {"kind": "changed", "enterprise_code": NEW, "data": {"registered_workers": -3}},
    ]
    admin.post("/v1/admin/raw-events", json=bad[0])
    admin.post("/v1/admin/enterprises", json=good)
    for body in bad[1:]:
        admin.post("/v1/admin/raw-events", json=body)
    admin.patch(f"/v1/admin/enterprises/{NEW}", json={"registered_workers": 9})
    with business_client(url) as client:
        report = follow_business(engine, client)
        with engine.begin() as conn:
            conn.execute(update(models.FeedCursor).values(cursor=None))
        follow_business(engine, client)  # rejected events are recorded once
    assert (report.events, report.registered, report.changed) == (8, 1, 1)
    assert len(report.rejected) == 6
    expected = [
        ("business event 1 (registered): data.province='99' [PROVINCE_UNKNOWN]"),
        ("business event 3 (registered): enterprise_code='01234-ABC' [ENTERPRISE_CODE_FORMAT]"),
        ("business event 4 (registered): data.name=None [missing]"),
        ("business event 5 (closed): enterprise_code=None [missing]"),
        ("business event 6 (merged): kind='merged' [KIND]"),
        ("business event 7 (changed): data.registered_workers='-3' [COUNT]"),
    ]
    for message, start in zip(report.rejected, expected, strict=True):
        assert message.startswith(start), message
    assert "mã tỉnh (2 chữ số) không tồn tại (unknown 2-digit province code)" in report.rejected[0]
    with engine.connect() as conn:
        alerts = conn.execute(
            select(models.Alert.subject_id, models.Alert.detail).where(
                models.Alert.kind == "feed_rejected"
            )
        ).all()
        workers = conn.execute(select(models.Employer.registered_workers)).scalar_one()
    assert sorted(a.subject_id for a in alerts) == [f"business:{n}" for n in (1, 3, 4, 5, 6, 7)]
    assert {a.detail["field"] for a in alerts} >= {"data.province", "enterprise_code", "data.name"}
    assert workers == 9
    assert count(engine, models.AuditEntry, models.AuditEntry.action == "feed.rejected") == 6


def test_command_prints_what_was_applied_and_exits_1_when_the_registry_is_down(
    engine: Engine, registry: tuple[str, httpx.Client], cli: CliRunner
) -> None:
    url, admin = registry
    seed(engine)
    make_events(admin)
    with BackgroundServer(create_app()) as gone:
        down_url = gone.url  # a port that was just served and is now closed
    down = cli.invoke(nidb_app, ["feed", "business", "--url", down_url, "--retries", "0"])
    assert down.exit_code == 1, down.output
    assert "không đọc được luồng thay đổi" in down.stderr and "rerun continues" in down.stderr
    up = cli.invoke(nidb_app, ["feed", "business", "--url", url])
    assert up.exit_code == 0, up.output
    assert "3 sự kiện trong 1 trang" in up.stdout
    assert "đăng ký mới (registered) 1" in up.stdout and "giải thể (closed) 1" in up.stdout
    assert "người lao động cần rà soát (workers flagged) 2" in up.stdout
    again = cli.invoke(nidb_app, ["feed", "business", "--url", url])
    assert again.exit_code == 0 and "0 sự kiện" in again.stdout
