"""The access-anomaly rules as pure functions: properties over generated days (Hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from nidb.detect.access_rules import (
    AREA,
    HOURS,
    VOLUME,
    ActorDay,
    Thresholds,
    find_anomalies,
    percentile,
)

DAY = date(2026, 11, 18)  # a Wednesday


def no_holidays(_: date) -> bool:
    return False


def clerk(actor: str, day: date, persons: int, off: int = 0, province: str = "01") -> ActorDay:
    return ActorDay(
        actor, "staff", "reviewer", "Cán bộ thẩm định", province, day, persons, off,
        {province: persons},
    )  # fmt: skip


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=60), st.floats(0.01, 1.0))
def test_a_percentile_is_one_of_the_values_and_grows_with_the_share(
    values: list[int], share: float
) -> None:
    found = percentile(values, share)
    assert found in values
    assert percentile(values, min(1.0, share + 0.1)) >= found


history_counts = st.lists(st.integers(1, 400), min_size=0, max_size=28)


@given(history_counts, st.integers(0, 2_000), st.integers(1, 500))
def test_more_persons_on_the_day_never_removes_a_volume_alert(
    history: list[int], today: int, more: int
) -> None:
    def flagged(count: int) -> bool:
        rows = [clerk("staff:a", DAY - timedelta(days=n + 1), c) for n, c in enumerate(history)]
        rows.append(clerk("staff:a", DAY, count))
        return any(f.kind == VOLUME for f in find_anomalies(rows, [DAY], no_holidays))

    if flagged(today):
        assert flagged(today + more)


@given(history_counts, st.integers(0, 2_000))
def test_no_volume_alert_at_or_below_the_floor(history: list[int], today: int) -> None:
    rows = [clerk("staff:a", DAY - timedelta(days=n + 1), c) for n, c in enumerate(history)]
    rows.append(clerk("staff:a", DAY, today))
    findings = [f for f in find_anomalies(rows, [DAY], no_holidays) if f.kind == VOLUME]
    if today <= Thresholds().volume_floor:
        assert findings == []
    for finding in findings:
        assert finding.count > finding.threshold >= Thresholds().volume_floor


@given(st.integers(0, 50), st.integers(1, 10))
def test_off_hours_and_area_thresholds_are_where_the_settings_put_them(
    off: int, minimum: int
) -> None:
    limits = replace(Thresholds(), off_hours_min_persons=minimum)
    findings = find_anomalies([clerk("staff:a", DAY, off, off)], [DAY], no_holidays, limits)
    assert any(f.kind == HOURS for f in findings) == (off >= minimum)
    assert not any(f.kind == AREA for f in findings)  # every person of the clerk's province


def test_a_day_outside_the_days_checked_is_not_judged() -> None:
    rows = [clerk("staff:a", DAY, 500, 500)]
    assert find_anomalies(rows, [DAY + timedelta(days=1)], no_holidays) == []
