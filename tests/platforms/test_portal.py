"""The public service portal (Cổng DVCQG): dossiers submitted there become nidb's, their statuses
go back, over HTTP to the stand-in, on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from nidb.cli import app
from nidb.connectors.platforms import PortalClient
from nidb.connectors.resilience import RetryPolicy
from nidb.services.decisions import decide
from nidb.services.portal import pull, sync
from nidb.sim.platforms.dvcqg import Portal, create_app
from nidb.store.models_services import Dossier
from tests.platforms.conftest import KEY, serve
from tests.seed import LAID_OFF, LEFT, STRANGER


@pytest.fixture
def portal() -> Iterator[tuple[Portal, str]]:
    held = Portal()
    with serve(create_app({"BHXH": KEY}, held)) as server:
        yield held, server.url


def submit(url: str, pid: str, procedure: str, form: dict[str, str]) -> str:
    answer = httpx.post(
        f"{url}/v1/citizen/dossiers",
        json={"procedure": procedure, "personal_id": pid, "full_name": "Công dân", "form": form},
    )
    assert answer.status_code == 201, answer.text
    code: str = answer.json()["code"]
    return code


def seen(url: str, code: str) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{url}/v1/dossiers/{code}").json()
    return found


def client(url: str) -> PortalClient:
    return PortalClient(url, KEY, retry=RetryPolicy(retries=1, backoff=0.01))


def test_a_portal_dossier_is_opened_decided_and_its_statuses_reach_the_portal(
    register: Engine, portal: tuple[Portal, str]
) -> None:
    _, url = portal
    good = submit(
        url,
        LEFT,
        "BHXH-MOTLAN",
        {"ground": "no_contribution_12_months", "bank_account": "0123456789"},
    )
    stranger = submit(
        url,
        STRANGER,
        "BHXH-MOTLAN",
        {"ground": "no_contribution_12_months", "bank_account": "0123456789"},
    )
    extra = submit(
        url,
        LAID_OFF,
        "BHXH-TCTN",
        {"termination_date": "2026-01-31", "bank_account": "0123456789", "salary": "9"},
    )
    with client(url) as http:
        result = sync(register, http, settle=0)
    assert [code for code, _ in result.opened] == [good]
    assert result.rejected == [(stranger, "NO_BHXH_CODE"), (extra, "FIELD_UNKNOWN")]
    dossier_id = result.opened[0][1]
    with register.connect() as conn:
        row = conn.execute(select(Dossier).where(Dossier.id == dossier_id)).one()
    assert row.source_ref == f"dvcqg:{good}" and row.applicant_personal_id == LEFT
    shown = seen(url, good)
    assert (shown["status"], shown["agency_ref"]) == ("received", str(dossier_id))
    assert "Đã tiếp nhận" in shown["history"][-1]["note"]
    refused = seen(url, stranger)
    assert refused["status"] == "rejected" and "[" in refused["history"][-1]["note"]
    assert "salary" in seen(url, extra)["history"][-1]["note"]

    checked = decide(register, dossier_id, "check", actor="staff:r", role="reviewer", version=1)
    decide(
        register,
        dossier_id,
        "approve",
        actor="staff:a",
        role="approver",
        version=checked.summary.version,
    )
    with client(url) as http:
        again = sync(register, http, settle=0)
    assert again.statuses_sent == 2 and not again.opened and not again.stopped
    assert [h["status"] for h in seen(url, good)["history"]] == [
        "new",
        "received",
        "processing",
        "completed",
    ]
    with client(url) as http:  # nothing new: nothing sent, nothing opened
        assert sync(register, http, settle=0).statuses_sent == 0


def test_a_dossier_fetched_twice_opens_once(register: Engine, portal: tuple[Portal, str]) -> None:
    held, url = portal
    code = submit(
        url,
        LEFT,
        "BHXH-MOTLAN",
        {"ground": "no_contribution_12_months", "bank_account": "0123456789"},
    )
    with client(url) as http:
        first = pull(register, http)
        held.dossiers[code]["status"] = "new"  # as if nidb's acknowledgement was lost
        second = pull(register, http)
    assert len(first.opened) == 1 and second.repeated == 1 and not second.opened
    with register.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Dossier)).scalar_one() == 1
    assert held.dossiers[code]["status"] == "received"


def test_a_portal_that_is_down_stops_the_run_and_loses_nothing(register: Engine) -> None:
    with client("http://127.0.0.1:9") as http:  # nothing listens on port 9
        result = sync(register, http, settle=0)
    assert result.stopped and "không phản hồi" in result.stopped and http.attempts == 2


def test_the_portal_answers_bad_input_with_coded_bilingual_errors(
    portal: tuple[Portal, str],
) -> None:
    _, url = portal
    code = submit(url, LEFT, "BHXH-MOTLAN", {})
    bad = {"status": "received"}
    cases = [
        (httpx.get(f"{url}/v1/agency/dossiers"), 401, "API_KEY_MISSING"),
        (
            httpx.get(f"{url}/v1/agency/dossiers", headers={"x-api-key": "x"}),
            401,
            "API_KEY_INVALID",
        ),
        (
            httpx.post(f"{url}/v1/citizen/dossiers", json={"procedure": "X", "personal_id": "1"}),
            422,
            "INVALID_REQUEST",
        ),
        (
            httpx.post(
                f"{url}/v1/agency/dossiers/{code}/status",
                json={"status": "done"},
                headers={"x-api-key": KEY},
            ),
            422,
            "INVALID_REQUEST",
        ),
        (
            httpx.post(
                f"{url}/v1/agency/dossiers/NOPE/status", json=bad, headers={"x-api-key": KEY}
            ),
            404,
            "DOSSIER_NOT_FOUND",
        ),
        (
            httpx.post(
                f"{url}/v1/agency/dossiers/{code}/status",
                json={"status": "completed"},
                headers={"x-api-key": KEY},
            ),
            409,
            "STATUS_NOT_ALLOWED",
        ),
    ]
    for answer, status, error in cases:
        body = answer.json()
        assert (answer.status_code, body["code"]) == (status, error), body
        assert "(" in body["message"]  # Vietnamese, then English in brackets
    assert "không thể chuyển" in cases[-1][0].json()["message"]


def test_portal_sync_command(register: Engine, cli: CliRunner, portal: tuple[Portal, str]) -> None:
    _, url = portal
    code = submit(
        url,
        LEFT,
        "BHXH-MOTLAN",
        {"ground": "no_contribution_12_months", "bank_account": "0123456789"},
    )
    missing = cli.invoke(
        app, ["platforms", "portal-sync", "--url", url], env={"NIDB_DVCQG_API_KEY": ""}
    )
    assert missing.exit_code == 2 and "NIDB_DVCQG_API_KEY" in missing.output
    done = cli.invoke(
        app, ["platforms", "portal-sync"], env={"NIDB_DVCQG_URL": url, "NIDB_DVCQG_API_KEY": KEY}
    )
    assert done.exit_code == 0, done.output
    assert "nhận 1 hồ sơ" in done.output
    with register.connect() as conn:
        assert (
            conn.execute(
                select(func.count())
                .select_from(Dossier)
                .where(Dossier.source_ref == f"dvcqg:{code}")
            ).scalar_one()
            == 1
        )
    wrong = cli.invoke(app, ["platforms", "portal-sync", "--url", url, "--api-key", "sai"])
    assert wrong.exit_code == 1 and "API_KEY_INVALID" in wrong.output


def test_a_pull_takes_every_page(register: Engine, portal: tuple[Portal, str]) -> None:
    held, url = portal
    form = {"ground": "no_contribution_12_months", "bank_account": "0123456789"}
    codes = [submit(url, LEFT, "BHXH-MOTLAN", form) for _ in range(5)]
    with client(url) as http:
        result = pull(register, http, limit=2)
    assert [code for code, _ in result.opened] == codes
    assert {held.dossiers[c]["status"] for c in codes} == {"received"}
