"""The benefit formulas and working-day deadlines, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from nidb.services import rules
from nidb.services.triggers import child_card_end
from nidb.services.workdays import VIETNAM, add_months, add_working_days, is_working_day


def months(first: date, count: int, wage: int) -> dict[date, int]:
    return {add_months(first, i): wage for i in range(count)}


def test_one_time_pays_one_and_a_half_months_before_2014_and_two_after() -> None:
    found = rules.one_time_amount(months(date(2011, 1, 1), 60, 10_000_000))  # 3 years + 2 years
    assert found.amount == 10_000_000 * (3 * 1.5 + 2 * 2)
    assert (found.months_before_2014, found.months_from_2014) == (36, 24)


def test_odd_months_count_as_half_a_year_or_a_year() -> None:
    assert (
        rules.one_time_amount(months(date(2015, 1, 1), 15, 6_000_000)).amount == 6_000_000 * 3
    )  # 1.5 y
    assert (
        rules.one_time_amount(months(date(2015, 1, 1), 19, 6_000_000)).amount == 6_000_000 * 4
    )  # 2 y


def test_under_a_year_pays_22_percent_capped_at_two_months() -> None:
    assert rules.one_time_amount(months(date(2020, 1, 1), 5, 10_000_000)).amount == 11_000_000
    assert rules.one_time_amount(months(date(2020, 1, 1), 11, 10_000_000)).amount == 20_000_000


def test_unemployment_duration_and_cap() -> None:
    durations = {
        m: rules.unemployment_amount([1], m).duration_months for m in (11, 12, 36, 47, 48, 60, 500)
    }
    assert durations == {11: 0, 12: 3, 36: 3, 47: 3, 48: 4, 60: 5, 500: 12}
    assert (
        rules.unemployment_amount([100_000_000] * 6, 24).monthly == 5 * rules.REGION_I_MINIMUM_WAGE
    )


def test_funeral_is_ten_base_salaries_of_the_month_of_death() -> None:
    assert rules.funeral_allowance(date(2024, 6, 30)) == 18_000_000
    assert rules.funeral_allowance(date(2024, 7, 1)) == 23_400_000


def test_survivors_lump_sum_is_at_least_three_months() -> None:
    assert rules.survivors_lump_sum(months(date(2020, 1, 1), 6, 10_000_000)).amount == 30_000_000
    assert rules.survivors_monthly(2, date(2025, 1, 1)) == 2_340_000
    assert rules.survivors_monthly(9, date(2025, 1, 1)) == 4_680_000


def test_a_child_card_runs_to_72_months_or_the_end_of_september() -> None:
    assert child_card_end(date(2025, 11, 20)) == date(2031, 11, 19)
    assert child_card_end(date(2025, 3, 10)) == date(2031, 9, 30)


def test_working_days_skip_weekends_and_fixed_holidays() -> None:
    friday = datetime(2026, 4, 24, 3, 0, tzinfo=UTC)  # Friday 10:00 in Hà Nội
    due = add_working_days(friday, 3).astimezone(VIETNAM)
    # Mon 27 is Hùng Kings' day in lieu (10/3 lunar fell on Sunday 26); Tue 28, Wed 29, then
    # 30 April and 1 May are holidays and 2-3 May a weekend: Monday 4 May
    assert due.date() == date(2026, 5, 4)
    assert add_working_days(datetime(2026, 4, 29, 3, tzinfo=UTC), 1).astimezone(
        VIETNAM
    ).date() == date(2026, 5, 4)
    assert not is_working_day(date(2026, 9, 2))


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), st.integers(0, 30))
def test_a_deadline_is_never_before_the_start_and_lands_on_a_working_day(
    day: date, days: int
) -> None:
    start = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
    due = add_working_days(start, days).astimezone(VIETNAM)
    assert due >= start
    if days:
        assert is_working_day(due.date())


@given(
    st.dictionaries(
        st.dates(min_value=date(2005, 1, 1), max_value=date(2025, 12, 1)).map(
            lambda d: d.replace(day=1)
        ),
        st.integers(1_000_000, 50_000_000),
        max_size=120,
    )
)
def test_one_time_grows_with_months(wages: dict[date, int]) -> None:
    found = rules.one_time_amount(wages)
    assert found.amount >= 0
    if len(wages) >= 12:
        assert found.amount >= found.average_wage  # at least 1.5 months for a year


def test_working_days_skip_tet_and_hung_kings_day() -> None:
    # Tết 2027: 4–10 February (lunar calendar); Hùng Kings' day 2027: 16 April (10/3 lunar)
    for day in (date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 10), date(2027, 4, 16)):
        assert not is_working_day(day), day
    # received Wednesday 3 February 2027: the next working day is Thursday 11 February
    received = datetime(2027, 2, 3, 3, tzinfo=UTC)
    assert add_working_days(received, 1).astimezone(VIETNAM).date() == date(2027, 2, 11)
