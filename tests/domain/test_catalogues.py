"""Specification of catalogues: beneficiary groups, schemes, rates and the base salary."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.catalogues import (
    BENEFICIARY_GROUPS,
    Payer,
    Scheme,
    base_salary,
    contribution_amounts,
    household_premium,
    rates_on,
)
from nidb.domain.errors import InvalidDate

JULY_2024 = date(2024, 7, 1)


def test_there_are_43_beneficiary_groups_of_two_capital_letters() -> None:
    assert len(BENEFICIARY_GROUPS) == 43
    for code, group in BENEFICIARY_GROUPS.items():
        assert group.code == code
        assert len(code) == 2 and code.isascii() and code.isupper()
        assert 1 <= group.default_benefit_level <= 5
        assert group.name_vi


@pytest.mark.parametrize(
    ("payer", "count"),
    [(Payer.EMPLOYER_EMPLOYEE, 7), (Payer.SOCIAL_INSURANCE_FUND, 7), (Payer.STATE_BUDGET, 24),
     (Payer.STATE_SUBSIDISED, 4), (Payer.HOUSEHOLD, 1)],
)  # fmt: skip
def test_groups_per_payer(payer: Payer, count: int) -> None:
    assert sum(g.payer is payer for g in BENEFICIARY_GROUPS.values()) == count


@pytest.mark.parametrize(
    ("code", "payer", "level"),
    [("DN", Payer.EMPLOYER_EMPLOYEE, 4), ("HT", Payer.SOCIAL_INSURANCE_FUND, 3),
     ("TE", Payer.STATE_BUDGET, 1), ("QN", Payer.STATE_BUDGET, 5), ("CN", Payer.STATE_SUBSIDISED, 3),
     ("GD", Payer.HOUSEHOLD, 4), ("CB", Payer.STATE_BUDGET, 2)],
)  # fmt: skip
def test_known_groups(code: str, payer: Payer, level: int) -> None:
    group = BENEFICIARY_GROUPS[code]
    assert (group.payer, group.default_benefit_level) == (payer, level)


def test_schemes_have_interchange_codes_and_vietnamese_names() -> None:
    assert [s.value for s in Scheme] == ["BHXH", "BHYT", "BHTN"]
    assert Scheme.BHYT.name_vi == "Bảo hiểm y tế"
    assert Scheme.BHTN.name_en == "unemployment insurance"


@pytest.mark.parametrize(
    ("day", "amount"),
    [(date(2019, 7, 1), 1_490_000), (date(2023, 6, 30), 1_490_000), (date(2023, 7, 1), 1_800_000),
     (date(2024, 6, 30), 1_800_000), (date(2024, 7, 1), 2_340_000), (date(2030, 1, 1), 2_340_000)],
)  # fmt: skip
def test_base_salary_history(day: date, amount: int) -> None:
    assert base_salary(day) == amount


def test_base_salary_before_the_catalogue_raises() -> None:
    with pytest.raises(InvalidDate):
        base_salary(date(2000, 1, 1))


def test_employee_rates_total_10_5_and_employer_21_5_percent() -> None:
    rates = rates_on(JULY_2024)
    assert sum(r.employee_bp for r in rates) == 1050
    assert sum(r.employer_bp for r in rates) == 2150


def test_contributions_on_ten_million_wage() -> None:
    amounts = contribution_amounts(10_000_000, JULY_2024)
    assert amounts == {Scheme.BHXH: 2_550_000, Scheme.BHYT: 450_000, Scheme.BHTN: 200_000}


def test_social_and_health_wage_is_capped_at_20_base_salaries() -> None:
    cap = 20 * 2_340_000
    amounts = contribution_amounts(100_000_000, JULY_2024)
    assert amounts[Scheme.BHXH] == cap * 2550 // 10_000
    assert amounts[Scheme.BHYT] == cap * 450 // 10_000
    assert amounts[Scheme.BHTN] == 2_000_000  # no cap applied to unemployment insurance


def test_contribution_rounds_half_up() -> None:
    # 4.5% of 100 đồng is 4.5 đồng: half up gives 5 (round() would give 4).
    assert contribution_amounts(100, JULY_2024)[Scheme.BHYT] == 5


def test_occupational_rate_was_one_percent_before_june_2017() -> None:
    assert contribution_amounts(10_000_000, date(2017, 5, 31))[Scheme.BHXH] == 2_600_000
    assert contribution_amounts(10_000_000, date(2017, 6, 1))[Scheme.BHXH] == 2_550_000


@given(
    wage=st.integers(min_value=0, max_value=10**9),
    day=st.dates(min_value=date(2014, 1, 1), max_value=date(2030, 12, 31)),
)
def test_contributions_are_non_negative_and_never_exceed_the_uncapped_rate(
    wage: int, day: date
) -> None:
    amounts = contribution_amounts(wage, day)
    assert set(amounts) == set(Scheme)
    assert all(amount >= 0 for amount in amounts.values())
    assert sum(amounts.values()) <= wage * 33 // 100 + 3


def test_household_premium_first_member_pays_4_5_percent_a_month() -> None:
    assert household_premium(1, 1, JULY_2024) == 105_300
    assert household_premium(1, 12, JULY_2024) == 1_263_600


@pytest.mark.parametrize(
    ("member", "monthly"), [(2, 73_710), (3, 63_180), (4, 52_650), (5, 42_120), (9, 42_120)]
)
def test_household_premium_discounts_later_members(member: int, monthly: int) -> None:
    assert household_premium(member, 1, JULY_2024) == monthly


def test_household_premium_uses_the_base_salary_of_the_payment_day() -> None:
    assert household_premium(1, 12, date(2024, 6, 30)) == 12 * 81_000


def test_household_premium_rejects_nonsense_arguments() -> None:
    with pytest.raises(ValueError):
        household_premium(0, 12, JULY_2024)
    with pytest.raises(ValueError):
        household_premium(1, -1, JULY_2024)


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=0, max_value=60))
def test_later_members_never_pay_more_than_earlier_ones(member: int, months: int) -> None:
    assert household_premium(member + 1, months, JULY_2024) <= household_premium(
        member, months, JULY_2024
    )
