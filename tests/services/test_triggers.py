"""Birth → residence → child card and death → funeral allowance and survivors' benefit, driven
by the population stand-in's change feed over HTTP and applied by the population follower."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, delete, func, select

from nidb.connectors.population import PopulationClient
from nidb.feeds.population import follow_population
from nidb.services import triggers
from nidb.services.decisions import decide
from nidb.services.views import get_dossier, list_for_person, notifications_for
from nidb.sim.population.app import create_app
from nidb.sim.population.server import BackgroundServer
from nidb.store import models
from nidb.store.models_services import Dossier
from tests.seed import HEAD, HEAD_CODE, WIFE, Register
from tests.seed import TODAY_VN as TODAY

CHILD = f"0012{TODAY.year % 100:02d}000105"  # a boy born this year in Hà Nội
BORN = max(TODAY - timedelta(days=3), TODAY.replace(month=1, day=1))


@pytest.fixture
def population(tmp_path: Path) -> Iterator[tuple[str, PopulationClient]]:
    path = tmp_path / "registry.csv"
    path.write_text(
        "personal_id,full_name,date_of_birth,gender,birth_province,permanent_address,household_id,status,death_date\n"
        f"{HEAD},Nguyễn Văn Hùng,1980-04-02,M,001,Hà Nội,HK-100,alive,\n"
        f"{WIFE},Trần Thị Mai,1982-07-09,F,001,Hà Nội,HK-100,alive,\n",
        encoding="utf-8",
    )
    with BackgroundServer(create_app(path, admin=True)) as server:
        client = PopulationClient(server.url)
        yield server.url, client
        client.close()


def add_change(url: str, change: dict[str, object]) -> None:
    reply = httpx.post(f"{url}/v1/admin/changes", json=change, timeout=10)
    assert reply.status_code == 201, reply.text


def birth(url: str, **extra: object) -> None:
    data = {
        "full_name": "Nguyễn Minh An",
        "date_of_birth": BORN.isoformat(),
        "gender": "M",
        "birth_province": "001",
        "mother_personal_id": WIFE,
        "father_personal_id": HEAD,
        **extra,
    }
    add_change(url, {"kind": "birth", "personal_id": CHILD, "data": data})


def child_cards(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(models.HealthCard.__table__).where(models.HealthCard.group_code == "TE")
            ).all()
        )


def test_a_birth_with_residence_issues_the_child_card_without_the_parents_doing_anything(
    register: Engine, population: tuple[str, PopulationClient]
) -> None:
    url, client = population
    birth(url, permanent_address="Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội", household_id="HK-100")
    report = follow_population(register, client)
    assert (report.births, report.dossiers_opened) == (1, 1)
    [card] = child_cards(register)
    assert (
        card.valid_from == BORN and card.benefit_level == 1 and card.card_code.startswith("TE101")
    )
    assert card.valid_to >= date(BORN.year + 6, BORN.month, 1) - timedelta(days=31)
    [dossier] = list_for_person(register, CHILD)
    view = get_dossier(register, dossier.id)
    assert view.summary.state == "completed" and view.summary.kind == "child_card"
    assert [e.to_state for e in view.events] == ["awaiting_residence", "completed"]
    assert any(card.card_code in n.text_vi for n in notifications_for(register, WIFE))
    # the child is in the register: citizen, verified record, BHXH code
    with register.connect() as conn:
        person = conn.execute(
            select(models.Person.__table__).where(models.Person.verified_personal_id == CHILD)
        ).one()
    assert person.bhxh_code == card.card_code[5:]
    # a replay of the whole feed opens nothing twice
    with register.begin() as conn:
        conn.execute(delete(models.FeedCursor))
    again = follow_population(register, client)
    assert (again.changes, again.births, again.dossiers_opened) == (1, 0, 0)
    assert len(child_cards(register)) == 1


def test_a_birth_without_residence_waits_and_the_residence_event_issues_the_card(
    register: Engine, population: tuple[str, PopulationClient]
) -> None:
    url, client = population
    birth(url)
    follow_population(register, client)
    [dossier] = list_for_person(register, CHILD)
    assert dossier.state == "awaiting_residence" and dossier.state_due_at is not None
    assert child_cards(register) == []
    add_change(
        url,
        {
            "kind": "residence",
            "personal_id": CHILD,
            "data": {"permanent_address": "Hoàn Kiếm, Hà Nội", "household_id": "HK-100"},
        },
    )
    report = follow_population(register, client)
    assert report.residences == 1
    assert get_dossier(register, dossier.id).summary.state == "completed"
    assert len(child_cards(register)) == 1


def test_a_bad_birth_event_is_rejected_and_the_feed_goes_on(
    register: Engine, population: tuple[str, PopulationClient]
) -> None:
    url, client = population
    birth(url, date_of_birth=(TODAY + timedelta(days=40)).isoformat())  # not born yet
    report = follow_population(register, client)
    assert (report.skipped, report.births) == (1, 0)
    with register.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Dossier)).scalar_one() == 0
        assert conn.execute(select(models.Alert.kind)).scalar_one() == "feed_rejected"


def with_long_career(engine: Engine) -> None:
    with engine.begin() as conn:
        Register(conn).contributions(
            HEAD_CODE, "DN0001", date(2008, 1, 1), date(2024, 12, 1), 12_000_000
        )


def test_a_death_grants_the_funeral_allowance_and_proposes_the_survivors_benefit(
    register: Engine, population: tuple[str, PopulationClient]
) -> None:
    url, client = population
    with_long_career(register)
    died = TODAY - timedelta(days=2)
    add_change(
        url, {"kind": "death", "personal_id": HEAD, "data": {"death_date": died.isoformat()}}
    )
    report = follow_population(register, client)
    assert (report.deaths, report.dossiers_opened) == (1, 1)
    [dossier] = list_for_person(register, HEAD)
    view = get_dossier(register, dossier.id)
    assert view.summary.state == "awaiting_approval" and view.checks_passed
    assert view.data["next_of_kin"] == WIFE  # the oldest living adult of the household
    assert view.data["funeral"]["amount"] == 23_400_000
    # 204 months ≥ 15 years and a son under 18: monthly survivors' allowance, 50% of base salary
    assert (
        view.data["survivors"]["kind"] == "survivor"
        and view.data["survivors"]["monthly_amount"] == 1_170_000
    )
    with register.connect() as conn:
        kinds = (
            conn.execute(select(models.Benefit.kind).where(models.Benefit.bhxh_code == HEAD_CODE))
            .scalars()
            .all()
        )
    assert kinds == ["funeral"]
    approved = decide(
        register,
        dossier.id,
        "approve",
        actor="staff:a",
        role="approver",
        version=view.summary.version,
    )
    assert approved.summary.state == "approved"
    with register.connect() as conn:
        kinds = sorted(
            conn.execute(select(models.Benefit.kind).where(models.Benefit.bhxh_code == HEAD_CODE))
            .scalars()
            .all()
        )
    assert kinds == ["funeral", "survivor"]
    texts = [n.text_vi for n in notifications_for(register, WIFE)]
    assert any("mai táng" in t for t in texts) and any("tuất hằng tháng" in t for t in texts)


def test_a_crash_while_opening_the_dossier_loses_nothing_and_the_rerun_applies_it(
    register: Engine, population: tuple[str, PopulationClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, client = population
    with_long_career(register)
    add_change(
        url, {"kind": "death", "personal_id": HEAD, "data": {"death_date": TODAY.isoformat()}}
    )

    def crash(*args: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(triggers, "on_death", crash)
    with pytest.raises(RuntimeError):
        follow_population(register, client)
    with register.connect() as conn:
        assert (
            conn.execute(
                select(models.Citizen.status).where(models.Citizen.personal_id == HEAD)
            ).scalar_one()
            == "alive"
        )
        assert conn.execute(select(func.count()).select_from(models.FeedCursor)).scalar_one() == 0
    monkeypatch.undo()
    assert follow_population(register, client).dossiers_opened == 1
    with register.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Dossier)).scalar_one() == 1
