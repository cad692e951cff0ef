"""Staff decide alerts (audited, once); the decisions measure each rule's precision."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from nidb.cli import app
from nidb.detect import run_detection
from nidb.detect.alerts import AlertError, decide, list_alerts, rule_stats
from nidb.store import models
from tests.detect.test_rules import load_register


def test_confirm_and_dismiss_are_audited_final_and_give_each_rule_its_precision(
    engine: Engine,
) -> None:
    load_register(engine)
    run_detection(engine)
    benefits = list_alerts(engine, kind="benefit_after_death")
    assert len(benefits) == 2 and all(a.explanation_vi for a in benefits)
    decide(engine, benefits[0].id, "confirmed", "staff:thanh", "đã thu hồi tiền")
    decide(engine, benefits[1].id, "dismissed", "staff:thanh", "kỳ cuối hợp lệ")
    with pytest.raises(AlertError, match="already confirmed by staff:thanh"):
        decide(engine, benefits[0].id, "dismissed", "staff:khac", "đổi ý")
    with pytest.raises(AlertError, match="note"):
        decide(engine, list_alerts(engine)[0].id, "confirmed", "staff:thanh", " ")
    with pytest.raises(AlertError, match="no alert"):
        decide(engine, 999_999, "confirmed", "staff:thanh", "x")
    stats = {s.kind: s for s in rule_stats(engine)}
    assert stats["benefit_after_death"].precision == 0.5
    assert stats["card_after_death"].precision is None and stats["card_after_death"].open == 1
    assert [a.status for a in list_alerts(engine, status=None, kind="benefit_after_death")] == [
        "confirmed",
        "dismissed",
    ]
    with engine.connect() as conn:
        actions = (
            conn.execute(
                select(models.AuditEntry.action).where(models.AuditEntry.subject_type == "alert")
            )
            .scalars()
            .all()
        )
    assert sorted(actions) == ["alert.confirmed", "alert.dismissed"]


def test_alert_commands(engine: Engine, cli: CliRunner) -> None:
    load_register(engine)
    run_detection(engine)
    first = list_alerts(engine)[0]
    listed = cli.invoke(app, ["alerts", "list", "--province", "01"])
    assert listed.exit_code == 0 and "card_after_death" in listed.output
    done = cli.invoke(app, ["alerts", "confirm", str(first.id), "--note", "đúng"])
    assert done.exit_code == 0 and "Đã xác nhận" in done.output
    again = cli.invoke(app, ["alerts", "dismiss", str(first.id), "--note", "sai"])
    assert again.exit_code == 2 and "đã được xác nhận bởi" in again.output
    stats = cli.invoke(app, ["alerts", "stats"])
    assert stats.exit_code == 0 and "1.000" in stats.output


def test_stats_give_the_precision_of_the_new_rules_too(engine: Engine, cli: CliRunner) -> None:
    from tests.detect.test_rules_employers import load as load_employers

    load_employers(engine)
    run_detection(engine)
    under = list_alerts(engine, kind="employer_under_declared")
    stopped = list_alerts(engine, kind="contributions_stopped")
    assert [a.subject_id for a in under] == ["UNDR"] and [a.province for a in stopped] == ["01"]
    decide(engine, under[0].id, "confirmed", "staff:lan", "đối chiếu bảng lương: thiếu 10 người")
    decide(engine, stopped[0].id, "dismissed", "staff:lan", "đã đóng bù trong tháng")
    stats = {s.kind: s for s in rule_stats(engine)}
    assert stats["employer_under_declared"].precision == 1.0
    assert stats["contributions_stopped"].precision == 0.0
    shown = cli.invoke(app, ["alerts", "stats"])
    assert shown.exit_code == 0 and "employer_under_declared" in shown.output
    assert "contributions_stopped" in shown.output and "0.000" in shown.output
