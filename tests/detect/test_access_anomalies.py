"""Access anomalies (issue 16, item 4): the three rules over a real access log on both engines.

The reads are written straight into ``access_log`` at chosen times (a lane of their own, the
detection reads the table and not the chain); the staff accounts and partners are real rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from nidb.cli import app
from nidb.detect.access import detect_access, listed_reads
from nidb.detect.access_rules import AREA, HOURS, VOLUME
from nidb.exchange.partners import add_partner
from nidb.protocol.keys import SigningKey
from nidb.services.workdays import VIETNAM
from nidb.store import models
from tests.detect.access_seed import code, log_reads

DAY = date(2026, 11, 18)  # a Wednesday
SUNDAY = date(2026, 11, 22)
NATIONAL_DAY = date(2026, 9, 2)  # Quốc khánh, a public holiday (a Wednesday)


def weekdays_before(day: date, count: int) -> list[date]:
    days, d = [], day
    while len(days) < count:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            days.append(d)
    return days


@pytest.fixture
def staff(make_staff_user: Callable[..., str], cheaper_argon2: None) -> Callable[..., str]:
    def make(name: str, province: str | None = "01", level: str = "province") -> str:
        make_staff_user(name, "reviewer", scope_level=level, province_code=province)
        return f"staff:{name}"

    return make


def alerts(engine: Engine) -> list[Any]:
    table = models.Alert.__table__
    with engine.connect() as conn:
        return list(conn.execute(select(table).order_by(table.c.id)))


def test_a_staff_member_reading_ten_times_their_usual_is_flagged_and_peers_are_not(
    engine: Engine, staff: Callable[..., str]
) -> None:
    usual = [staff(f"canbo{n}") for n in range(4)]
    for day in weekdays_before(DAY, 15):
        for n, actor in enumerate(usual):
            log_reads(engine, actor, day, [code("01", 1000 * n + i) for i in range(20 + 3 * n)])
    for n, actor in enumerate(usual[1:], start=1):
        log_reads(engine, actor, DAY, [code("01", 1000 * n + i) for i in range(25)])
    log_reads(engine, usual[0], DAY, [code("01", 50_000 + i) for i in range(210)])
    log_reads(engine, usual[0], DAY, [code("01", 50_000 + i) for i in range(10)])  # again

    run = detect_access(engine, [DAY])

    assert [(f.kind, f.actor, f.count) for f in run.findings] == [(VOLUME, usual[0], 210)]
    (alert,) = alerts(engine)
    assert (alert.kind, alert.subject_type, alert.subject_id, alert.province) == (
        VOLUME,
        "staff",
        usual[0],
        "01",
    )
    explanation = alert.detail["explanation_vi"]
    assert "210 người khác nhau" in explanation and "18/11/2026" in explanation
    assert "phân vị 95 của 15 ngày" in explanation and "Cán bộ thẩm định" in explanation
    assert alert.detail["reads_total"] == 220 and len(alert.detail["reads"]) == 220
    reads = listed_reads(engine, alert.detail["reads"])
    assert len(reads) == 220 and reads[0].subject == code("01", 50_000)
    assert reads == sorted(reads, key=lambda r: r.occurred_at)
    assert detect_access(engine, [DAY]).new == 0  # run again: nothing new
    assert len(alerts(engine)) == 1


def test_without_history_or_peers_only_the_floor_counts(
    engine: Engine, staff: Callable[..., str]
) -> None:
    newcomer = staff("canbo.moi")
    log_reads(engine, newcomer, DAY, [code("01", i) for i in range(50)])
    assert detect_access(engine, [DAY]).findings == []  # 50 is the floor itself
    log_reads(engine, newcomer, DAY + timedelta(days=1), [code("01", i) for i in range(51)])
    (finding,) = detect_access(engine, [DAY + timedelta(days=1)]).findings
    assert finding.kind == VOLUME and "chưa đủ 5 ngày lịch sử" in finding.explanation_vi


def test_refused_requests_and_citizens_own_reads_are_not_reads(
    engine: Engine, staff: Callable[..., str]
) -> None:
    actor = staff("canbo.hn")
    log_reads(engine, actor, DAY, [code("01", i) for i in range(80)], result="E_NOT_GRANTED")
    log_reads(engine, "citizen:001085012345", DAY, [code("01", 1)] * 5, at=time(23, 0))
    assert detect_access(engine, [DAY]).actors == 0


def test_reads_at_night_on_sundays_and_holidays_are_flagged_from_three_persons(
    engine: Engine, staff: Callable[..., str]
) -> None:
    late, night, sunday, holiday = (
        staff(name) for name in ("canbo.tre", "canbo.dem", "canbo.cn", "canbo.le")
    )
    log_reads(engine, late, DAY, [code("01", i) for i in range(2)], at=time(19, 10))
    log_reads(engine, night, DAY, [code("01", i) for i in range(4)], at=time(22, 30))
    log_reads(engine, night, DAY, [code("01", 100 + i) for i in range(6)], at=time(10, 0))
    log_reads(engine, sunday, SUNDAY, [code("01", i) for i in range(3)], at=time(10, 0))
    log_reads(engine, holiday, NATIONAL_DAY, [code("01", i) for i in range(3)], at=time(9, 0))

    run = detect_access(engine, [DAY, SUNDAY, NATIONAL_DAY])

    found = {(f.kind, f.actor, f.count) for f in run.findings}
    assert found == {(HOURS, night, 4), (HOURS, sunday, 3), (HOURS, holiday, 3)}
    by_actor = {a.subject_id: a for a in alerts(engine)}
    assert "ngày Chủ nhật" in by_actor[sunday].detail["explanation_vi"]
    assert "ngày nghỉ lễ" in by_actor[holiday].detail["explanation_vi"]
    assert "ngoài giờ làm việc (07:00–19:00)" in by_actor[night].detail["explanation_vi"]
    # the alert lists the four night reads, not the six of the morning
    listed = listed_reads(engine, by_actor[night].detail["reads"])
    assert [r.occurred_at.astimezone(VIETNAM).hour for r in listed] == [22] * 4


def test_a_hospital_working_nights_is_not_flagged_an_office_hours_partner_is(
    engine: Engine,
) -> None:
    hospital, ministry = "VN/GOV/BYT/BV-01001", "VN/GOV/BLDTBXH/CSDL-ASXH"
    for partner, kind in ((hospital, "hospital"), (ministry, "molisa")):
        add_partner(engine, partner, "Đối tác", kind, SigningKey.generate().public_b64, "test")
    for day in weekdays_before(DAY, 10):
        log_reads(engine, hospital, day, [code("01", i) for i in range(30)], at=time(2, 0))
        log_reads(engine, ministry, day, [code("01", i) for i in range(30)], at=time(9, 0))
    log_reads(engine, hospital, DAY, [code("01", i) for i in range(30)], at=time(2, 0))
    log_reads(engine, ministry, DAY, [code("01", i) for i in range(12)], at=time(23, 0))

    (finding,) = detect_access(engine, [DAY]).findings
    assert (finding.kind, finding.actor, finding.count) == (HOURS, ministry, 12)
    assert finding.explanation_vi.startswith("Hệ thống đối tác VN/GOV/BLDTBXH/CSDL-ASXH")
    (alert,) = alerts(engine)
    assert (alert.subject_type, alert.province) == ("partner", None)


def test_staff_reading_persons_of_another_province_are_flagged_central_staff_are_not(
    engine: Engine, staff: Callable[..., str]
) -> None:
    hanoi, central = staff("canbo.hn", "01"), staff("canbo.tw", None, "central")
    log_reads(engine, hanoi, DAY, [code("01", i) for i in range(5)])
    log_reads(engine, hanoi, DAY, [code("79", 1), code("79", 2), code("48", 3)], at=time(11, 0))
    log_reads(engine, central, DAY, [code("79", i) for i in range(5)])

    (finding,) = detect_access(engine, [DAY]).findings
    assert (finding.kind, finding.actor, finding.count) == (AREA, hanoi, 3)
    assert "thuộc Hà Nội" in finding.explanation_vi
    assert "TP. Hồ Chí Minh: 2 người" in finding.explanation_vi
    (alert,) = alerts(engine)
    listed = listed_reads(engine, alert.detail["reads"])
    assert [r.subject for r in listed] == [code("79", 1), code("79", 2), code("48", 3)]


def test_nidb_alerts_access_runs_the_rules_for_a_day(
    engine: Engine, staff: Callable[..., str], cli: CliRunner
) -> None:
    hanoi = staff("canbo.hn", "01")
    log_reads(engine, hanoi, DAY, [code("79", 1)])
    result = cli.invoke(app, ["alerts", "access", "--day", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "access.area" in result.output and "ngoài địa bàn" in result.output
    again = cli.invoke(app, ["alerts", "access", "--from", "2026-11-18", "--to", "2026-11-18"])
    assert again.exit_code == 0 and len(alerts(engine)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "18/11/2026"], "YYYY-MM-DD"),
        (["--from", "2026-11-18", "--to", "2026-11-01"], "--to"),
        (["--from", "2024-01-01", "--to", "2026-01-01"], "366"),
        (["--day", "2026-11-18", "--to", "2026-11-19"], "--day"),
    ],
)
def test_nidb_alerts_access_refuses_bad_days(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli.invoke(app, ["alerts", "access", *args])
    assert result.exit_code == 2 and message in result.output
