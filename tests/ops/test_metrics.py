"""``/metrics`` of the app as `nidb serve` builds it, on SQLite and PostgreSQL: requests per
service and outcome, refusals per code, the gauges read from the database, and who may read."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text, update

from nidb.accesslog import AccessLog, AccessRecord
from nidb.api.metrics import exposition, scrape_allowed
from nidb.exchange.partners import add_partner
from nidb.feeds.cursors import advance_cursor
from nidb.protocol.keys import SigningKey
from nidb.settings import get_settings
from nidb.store import models
from nidb.store.audit import write_event
from nidb.store.runs import JobKind, batch_run, record_run
from tests import seed
from tests.ops.conftest import CARD, Served, samples, value

REQUESTS = "nidb_http_requests_total"


def scrape(served: Served) -> dict:  # type: ignore[type-arg]
    response = served.http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def test_requests_are_counted_per_partner_service_or_route_template_never_per_raw_path(
    served: Served,
) -> None:
    before = scrape(served)
    assert served.hospital.call("card.check/v1", "KCB", CARD).status == 200
    stranger = served.hospital.__class__(
        "http://testserver", seed.HOSPITAL, SigningKey.generate(), http=served.http
    )  # the hospital's name, another key: the signature does not verify
    assert stranger.send("card.check/v1", stranger.envelope("card.check/v1", "KCB", CARD)).status
    served.http.get(f"/can-bo/doi-soat/{seed.PID}")  # not signed in: redirected
    served.http.get(f"/khong-co/{seed.PID}?ma={seed.BHXH}")  # no such route
    served.http.request(f"X{seed.PID}", "/healthz")  # a method of the client's own making
    after = scrape(served)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    card = {"service": "card.check/v1", "method": "POST"}
    assert delta(REQUESTS, **card, outcome="ok") == 1
    assert delta(REQUESTS, **card, outcome="E_BAD_SIGNATURE") == 1
    refusals = "nidb_exchange_refusals_total"
    assert delta(refusals, service="card.check/v1", code="E_BAD_SIGNATURE") == 1
    assert delta(refusals, service="card.check/v1", code="ok") == 0
    review = {"service": "/can-bo/doi-soat/{item_id}", "method": "GET", "outcome": "3xx"}
    assert delta(REQUESTS, **review) == 1
    assert delta(REQUESTS, service="(unmatched)", method="GET", outcome="4xx") == 1
    assert delta(REQUESTS, service="/healthz", method="OTHER", outcome="4xx") == 1
    latency = "nidb_http_request_duration_seconds_count"
    assert delta(latency, service="card.check/v1", outcome="ok") == 1
    for _, labels in after:  # no label holds an ID: 9 digits in a row would be one
        for label_value in dict(labels).values():
            assert not re.search(r"\d{9}", label_value), label_value


def test_metrics_answer_loopback_or_the_bearer_of_the_token_only(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = served.http.app
    with TestClient(app, client=("10.1.2.3", 40000)) as remote:
        refused = remote.get("/metrics")
        assert refused.status_code == 403
        assert refused.json()["error"]["message_vi"].startswith("Không được phép")
        monkeypatch.setenv("NIDB_METRICS_TOKEN", "t" * 32)
        get_settings.cache_clear()
        assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        bearer = {"Authorization": "Bearer " + "t" * 32}
        assert remote.get("/metrics", headers=bearer).status_code == 200
    assert served.http.get("/metrics").status_code == 403  # a token set: loopback needs it too
    assert served.http.get("/metrics", headers=bearer).status_code == 200


def test_scrape_rule_without_a_database() -> None:
    assert scrape_allowed("127.0.0.1", None, None) and scrape_allowed("::1", None, None)
    assert not scrape_allowed("192.168.1.9", None, None)
    assert not scrape_allowed("testclient", None, None) and not scrape_allowed(None, None, None)
    token = "s" * 24
    assert scrape_allowed("192.168.1.9", f"Bearer {token}", token)
    assert scrape_allowed("192.168.1.9", f"bearer {token}", token)
    assert not scrape_allowed("127.0.0.1", None, token)
    assert not scrape_allowed("127.0.0.1", f"Basic {token}", token)
    assert not scrape_allowed("127.0.0.1", f"Bearer {token}x", token)


def test_store_gauges_show_outbox_backlog_dead_letters_feed_lag_and_job_durations(
    engine: Engine,
) -> None:
    add_partner(
        engine, "VN/GOV/BCA/C06", "Bộ Công an", "population", SigningKey.generate().public_b64, "t"
    )
    with engine.begin() as conn:
        for number in range(4):
            write_event(conn, "identity.linked", f"person:{number}", {"n": number})
        subscription = conn.execute(
            insert(models.Subscription)
            .values(partner_code="VN/GOV/BCA/C06", topic="*", url="http://x", created_by="t")
            .returning(models.Subscription.id)
        ).scalar_one()
        events = conn.execute(text("SELECT id, subject_key FROM outbox_events ORDER BY id")).all()
        conn.execute(  # one event fanned out already
            update(models.OutboxEvent)
            .where(models.OutboxEvent.id == events[0].id)
            .values(dispatched_at=datetime.now(UTC))
        )
        for (event_id, subject), status in zip(
            events, ("pending", "pending", "dead", "delivered"), strict=True
        ):
            conn.execute(
                insert(models.Delivery).values(
                    subscription_id=subscription,
                    event_id=event_id,
                    subject_key=subject,
                    status=status,
                    next_attempt_at=datetime.now(UTC),
                )
            )
        advance_cursor(conn, "business", "page-7", 42)
        conn.execute(
            update(models.FeedCursor).values(updated_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    started = datetime.now(UTC)
    for kind, seconds, outcome in (
        (JobKind.IMPORT, 0.4, "ok"),
        (JobKind.IMPORT, 3.0, "ok"),
        (JobKind.IMPORT, 100.0, "ok"),
        (JobKind.IMPORT, 2.0, "failed"),
        (JobKind.MATCH, 7200.0, "ok"),
    ):
        record_run(engine, kind, started, seconds, outcome)
    found = samples(exposition(engine).decode())
    assert value(found, "nidb_store_up") == 1
    assert value(found, "nidb_outbox_deliveries", status="pending") == 2
    assert value(found, "nidb_outbox_deliveries", status="dead") == 1
    assert value(found, "nidb_outbox_events_undispatched") == 3
    assert value(found, "nidb_feed_changes_applied_total", source="business") == 42
    assert 295 <= value(found, "nidb_feed_seconds_since_last_page", source="business") < 400
    jobs = "nidb_batch_job_duration_seconds"
    ok_imports = {"kind": "import", "outcome": "ok"}
    assert value(found, f"{jobs}_count", **ok_imports) == 3
    assert value(found, f"{jobs}_sum", **ok_imports) == pytest.approx(103.4)
    assert value(found, f"{jobs}_bucket", **ok_imports, le="1.0") == 1
    assert value(found, f"{jobs}_bucket", **ok_imports, le="5.0") == 2
    assert value(found, f"{jobs}_bucket", **ok_imports, le="60.0") == 2
    assert value(found, f"{jobs}_bucket", **ok_imports, le="300.0") == 3
    assert value(found, f"{jobs}_bucket", **ok_imports, le="+Inf") == 3
    assert value(found, f"{jobs}_count", kind="import", outcome="failed") == 1
    assert value(found, f"{jobs}_bucket", kind="match", outcome="ok", le="3600.0") == 0
    assert value(found, f"{jobs}_bucket", kind="match", outcome="ok", le="7200.0") == 1


def test_a_scrape_still_answers_when_the_database_does_not(tmp_path: object) -> None:
    from sqlalchemy import create_engine

    gone = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    found = samples(exposition(gone).decode())
    assert value(found, "nidb_store_up") == 0
    assert ("nidb_outbox_events_undispatched", frozenset()) not in found


def test_a_batch_job_records_its_run_and_how_it_ended(engine: Engine) -> None:
    with batch_run(engine, JobKind.IMPORT):
        time.sleep(0.05)
    with pytest.raises(ValueError), batch_run(engine, JobKind.MATCH):
        raise ValueError("a bad file")
    with pytest.raises(KeyboardInterrupt), batch_run(engine, JobKind.VERIFY):
        raise KeyboardInterrupt
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, outcome, duration_seconds FROM batch_runs ORDER BY id")
        ).all()
    assert [(kind, outcome) for kind, outcome, _ in rows] == [
        ("import", "ok"),
        ("match", "failed"),
        ("verify", "stopped"),
    ]
    assert 0.05 <= rows[0].duration_seconds < 5


def test_the_cli_import_records_its_run(cli: object, engine: Engine, tmp_path: object) -> None:
    from pathlib import Path

    from nidb.cli import app

    path = Path(str(tmp_path)) / "records.csv"
    path.write_text(
        "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province,"
        "address,employer_code\nR9,0123456789,Le Thi Hoa,1990,F,,,,\n",
        encoding="utf-8",
    )
    result = cli.invoke(app, ["import", "--kind", "records", str(path)])  # type: ignore[attr-defined]
    assert result.exit_code == 0, result.output
    found = samples(exposition(engine).decode())
    assert value(found, "nidb_batch_job_duration_seconds_count", kind="import", outcome="ok") == 1


def test_access_log_entries_waiting_on_a_locked_database_are_counted_as_pending(
    engine: Engine,
) -> None:
    log = AccessLog(engine)
    try:
        assert log.pending() == 0
        release = threading.Event()

        def hold_the_table() -> None:
            with engine.connect() as conn:
                if engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    conn.begin()
                    conn.exec_driver_sql("LOCK TABLE access_log IN EXCLUSIVE MODE")
                ready.set()
                release.wait(10)
                conn.rollback()

        ready = threading.Event()
        holder = threading.Thread(target=hold_the_table)
        holder.start()
        assert ready.wait(10)
        written = [
            log.submit(AccessRecord(actor="t", service="card.check/v1", result="ok"))
            for _ in range(3)
        ]
        time.sleep(0.3)
        assert log.pending() == 3
        release.set()
        holder.join(10)
        assert all(future.result(30) for future in written)
        assert log.pending() == 0
    finally:
        log.close()
