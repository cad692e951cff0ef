"""Deaths, name changes and ID corrections flow from the population stand-in into the register."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from nidb.connectors.population import PopulationClient
from nidb.feeds.population import follow_population
from nidb.sim.population.app import create_app
from nidb.sim.population.server import BackgroundServer
from nidb.store import models
from tests.seed import BHXH, PID, insured_person, register

REGISTRY = (
    "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,household_id,status,death_date\n"
    f"{PID},Nguyễn Văn An,1985-03-17,M,001,Hà Nội,HK-001,alive,\n"
    "079090000002,Trần Thị Bình,1990-01-02,F,079,TP Hồ Chí Minh,,alive,\n"
)


@pytest.fixture
def population(tmp_path: Path) -> Iterator[tuple[str, PopulationClient]]:
    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY, encoding="utf-8")
    with BackgroundServer(create_app(path, admin=True)) as server:
        client = PopulationClient(server.url)
        yield server.url, client
        client.close()


def add_change(url: str, change: dict[str, object]) -> None:
    httpx.post(f"{url}/v1/admin/changes", json=change, timeout=10).raise_for_status()


def with_pension(engine: Engine) -> None:
    insured_person(engine)
    with register(engine) as reg:
        reg.benefit(BHXH, "pension", date(2020, 1, 1), monthly=6_000_000)


def test_a_death_suspends_the_card_stops_the_pension_and_alerts_the_province(
    engine: Engine, population: tuple[str, PopulationClient]
) -> None:
    url, client = population
    with_pension(engine)
    add_change(url, {"kind": "death", "personal_id": PID, "data": {"death_date": "2026-01-15"}})
    report = follow_population(engine, client)
    assert (report.deaths, report.cards_suspended, report.benefits_stopped, report.alerts) == (
        1,
        1,
        1,
        1,
    )
    with engine.connect() as conn:
        assert conn.execute(select(models.HealthCard.status)).scalar_one() == "suspended"
        benefit = conn.execute(
            select(models.Benefit.status, models.Benefit.end_date).where(
                models.Benefit.kind == "pension"
            )
        ).one()
        assert benefit == ("stopped", date(2026, 1, 15))
        # the pensioner's death also opened the funeral-allowance dossier (nidb.services)
        kinds = conn.execute(select(models.Benefit.kind)).scalars().all()
        assert sorted(kinds) == ["funeral", "pension"]
        citizen = conn.execute(select(models.Citizen.status, models.Citizen.death_date)).one()
        assert citizen == ("dead", date(2026, 1, 15))
        alert = conn.execute(
            select(models.Alert.kind, models.Alert.province, models.Alert.subject_id)
        ).one()
        assert alert == ("death_with_live_coverage", "01", BHXH)
        topics = conn.execute(select(models.OutboxEvent.topic)).scalars().all()
        assert "person.death_recorded" in topics


def test_the_feed_resumes_from_its_cursor_and_never_applies_twice(
    engine: Engine, population: tuple[str, PopulationClient]
) -> None:
    url, client = population
    with_pension(engine)
    add_change(url, {"kind": "death", "personal_id": PID, "data": {"death_date": "2026-01-15"}})
    assert follow_population(engine, client).deaths == 1
    again = follow_population(engine, client)
    assert (again.pages, again.changes) == (0, 0)  # the cursor was kept
    add_change(
        url,
        {
            "kind": "name_change",
            "personal_id": "079090000002",
            "data": {"full_name": "Trần Thị Bình An"},
        },
    )
    later = follow_population(engine, client)
    assert (later.changes, later.not_held, later.name_changes) == (1, 1, 0)  # not one of ours
    with engine.connect() as conn:
        assert conn.execute(select(models.Alert)).all().__len__() == 1
        cursor = conn.execute(select(models.FeedCursor.changes_applied)).scalar_one()
    assert cursor == 2


def test_a_name_change_renames_the_citizen_and_the_verified_records(
    engine: Engine, population: tuple[str, PopulationClient]
) -> None:
    url, client = population
    insured_person(engine)
    add_change(
        url,
        {"kind": "name_change", "personal_id": PID, "data": {"full_name": "NGUYỄN VĂN AN KHANG"}},
    )
    assert follow_population(engine, client).name_changes == 1
    with engine.connect() as conn:
        assert conn.execute(select(models.Person.full_name)).scalar_one() == "Nguyễn Văn An Khang"
        assert conn.execute(select(models.Citizen.name_base)).scalar_one() == "nguyen van an khang"


def test_an_id_correction_moves_records_and_links_and_keeps_history(
    engine: Engine, population: tuple[str, PopulationClient]
) -> None:
    url, client = population
    insured_person(engine)
    with register(engine) as reg:
        reg.link(BHXH, PID, source="verified", valid_from=date(2024, 1, 1))
    add_change(
        url,
        {"kind": "id_correction", "personal_id": PID, "data": {"new_personal_id": "001085099999"}},
    )
    assert follow_population(engine, client).id_corrections == 1
    with engine.connect() as conn:
        assert (
            conn.execute(select(models.Person.verified_personal_id)).scalar_one() == "001085099999"
        )
        links = conn.execute(
            select(
                models.IdentityLink.personal_id, models.IdentityLink.valid_to.is_(None)
            ).order_by(models.IdentityLink.id)
        ).all()
    assert links == [(PID, False), ("001085099999", True)]


def test_an_unreliable_feed_and_a_stop_mid_way_lose_nothing_and_apply_nothing_twice(
    engine: Engine, tmp_path: Path
) -> None:
    """40 deaths through a stand-in failing 30% of requests, read 5 at a time, stopped twice."""
    from nidb.connectors.resilience import RetryPolicy

    people = [f"001080{n:06d}" for n in range(40)]
    path = tmp_path / "registry.csv"
    path.write_text(
        REGISTRY.splitlines()[0]
        + "\n"
        + "".join(f"{p},Lê Văn Tư,1980-01-01,M,001,,,alive,\n" for p in people),
        encoding="utf-8",
    )
    with register(engine) as reg:
        for n, pid in enumerate(people):
            code = f"{2_000_000_000 + n}"
            reg.person(code, "Lê Văn Tư", "1980-01-01", record_id=f"D{n}", verified=pid)
            reg.card(code, "HT", level=3, valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))
    with BackgroundServer(create_app(path, admin=True)) as server:
        for pid in people:
            add_change(
                server.url,
                {"kind": "death", "personal_id": pid, "data": {"death_date": "2026-02-01"}},
            )
        httpx.post(
            f"{server.url}/v1/admin/faults", json={"error_rate": 0.3, "seed": 3}, timeout=10
        ).raise_for_status()
        client = PopulationClient(
            server.url, retry=RetryPolicy(retries=8, backoff=0.01, max_backoff=0.05)
        )
        try:
            first = follow_population(engine, client, page_size=5, max_pages=2)
            second = follow_population(engine, client, page_size=5, max_pages=3)
            rest = follow_population(engine, client, page_size=5)
        finally:
            client.close()
    assert first.changes + second.changes + rest.changes == 40
    assert first.deaths + second.deaths + rest.deaths == 40
    with engine.connect() as conn:
        statuses = conn.execute(select(models.HealthCard.status)).scalars().all()
        alerts = conn.execute(select(models.Alert.subject_id)).scalars().all()
    assert set(statuses) == {"suspended"} and len(alerts) == 40 == len(set(alerts))


def test_feed_population_command_applies_and_reports_in_vietnamese(
    engine: Engine,
    database_url: str,
    population: tuple[str, PopulationClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from nidb.cli import app
    from nidb.settings import get_settings

    url, _ = population
    with_pension(engine)
    add_change(url, {"kind": "death", "personal_id": PID, "data": {"death_date": "2026-01-15"}})
    monkeypatch.setenv("NIDB_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["feed", "population", "--url", url])
        down = CliRunner().invoke(
            app, ["feed", "population", "--url", "http://127.0.0.1:9", "--retries", "0"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (
        "báo tử (deaths) 1" in result.output and "thẻ tạm dừng (cards suspended) 1" in result.output
    )
    assert down.exit_code == 1 and "chạy lại sẽ tiếp tục" in down.output
