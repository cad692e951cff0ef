"""``nidb dossier list|show|decide|overdue`` over a real register."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from typer.testing import CliRunner

from nidb.cli import app
from nidb.services.claims import submit_one_time_claim
from nidb.store.models_services import Dossier
from tests.seed import LEFT


def test_staff_list_show_and_decide_a_dossier_at_the_terminal(
    register: Engine, cli: CliRunner
) -> None:
    view = submit_one_time_claim(register, LEFT, "no_contribution_12_months", "123456789")
    listed = cli.invoke(app, ["dossier", "list", "--province", "79"])
    assert listed.exit_code == 0 and "one_time_si" in listed.output
    shown = cli.invoke(app, ["dossier", "show", str(view.summary.id)])
    assert (
        shown.exit_code == 0 and "GAP_12_MONTHS" in shown.output and "phiên bản 1" in shown.output
    )
    wrong_role = cli.invoke(
        app, ["dossier", "decide", str(view.summary.id), "approve", "--version", "1"]
    )
    assert wrong_role.exit_code == 2 and "không thể chuyển" in wrong_role.output
    checked = cli.invoke(
        app,
        [
            "dossier",
            "decide",
            str(view.summary.id),
            "check",
            "--version",
            "1",
            "--role",
            "reviewer",
        ],
    )
    assert checked.exit_code == 0, checked.output
    stale = cli.invoke(
        app, ["dossier", "decide", str(view.summary.id), "refuse", "--version", "1", "--note", "x"]
    )
    assert stale.exit_code == 2 and "người khác" in stale.output
    approved = cli.invoke(
        app, ["dossier", "decide", str(view.summary.id), "approve", "--version", "2"]
    )
    assert approved.exit_code == 0 and "Đã phê duyệt" in approved.output
    missing = cli.invoke(app, ["dossier", "show", "999"])
    assert missing.exit_code == 2 and "không tìm thấy hồ sơ số 999" in missing.output


def test_overdue_lists_dossiers_past_their_deadline(register: Engine, cli: CliRunner) -> None:
    view = submit_one_time_claim(register, LEFT, "no_contribution_12_months", "123456789")
    assert "0 hồ sơ quá hạn" in cli.invoke(app, ["dossier", "overdue"]).output
    with register.begin() as conn:
        conn.execute(update(Dossier).values(state_due_at=datetime.now(UTC) - timedelta(hours=1)))
    late = cli.invoke(app, ["dossier", "overdue", "--province", "79"])
    assert (
        late.exit_code == 0
        and "1 hồ sơ quá hạn" in late.output
        and str(view.summary.id) in late.output
    )
