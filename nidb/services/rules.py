"""Benefit rules of the online services: pure functions, no I/O, amounts in integer đồng.

Sources (the law as of 2024; DOMAIN.md gives only the household premium, so every other figure
here is cited and marked *(verify)* in docs/services.md):

- one-time social insurance (BHXH một lần): Law on Social Insurance 2014 Art. 60, with
  Resolution 93/2015/QH13 (after 12 months without contributions and under 20 years);
  Decree 115/2015/NĐ-CP Art. 8 and 19: 1.5 months of the average contribution wage per year
  of contributions before 2014, 2 months per year from 2014; 1–6 odd months count as half a
  year and 7–11 as a year; under one year in all, 22% of the wages contributed on, at most
  2 months of the average wage.
- unemployment benefit (trợ cấp thất nghiệp): Law on Employment 2013 Art. 49 (12 months of
  contributions within the 24 months before the contract ended), Art. 50 (60% of the average
  of the last 6 months' contribution wages, at most 5 × the regional minimum wage; 3 months
  for 12–36 months of contributions, one more month per further 12, at most 12 months).
- funeral allowance (trợ cấp mai táng): Law on Social Insurance 2014 Art. 66: 10 × the base
  salary of the month of death, when the person had 12 months of contributions or drew a
  pension.
- survivors' benefit (trợ cấp tuất): Art. 67–70: monthly when the person had 15 years of
  contributions or drew a pension and leaves dependants (50% of the base salary each, at most
  4); otherwise a lump sum of 1.5 / 2 months of the average wage per year (as one-time SI),
  at least 3 months of the average wage.

Simplifications (documented): wages are not revalued by the CPI coefficients of the yearly
circulars; the regional minimum wage is region I's (the register holds no employer region),
which is the most generous cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nidb.domain.catalogues import base_salary
from nidb.domain.display import vn_money

__all__ = [
    "FUNERAL_BASE_SALARY_MULTIPLE",
    "REGION_I_MINIMUM_WAGE",
    "OneTimeAmount",
    "UnemploymentAmount",
    "funeral_allowance",
    "one_time_amount",
    "survivors_lump_sum",
    "survivors_monthly",
    "unemployment_amount",
    "vnd",
]

FUNERAL_BASE_SALARY_MULTIPLE = 10  # Law on SI 2014 Art. 66.2
SURVIVOR_SHARE_PCT = 50  # Art. 68.2: 50% of the base salary per dependant
MAX_SURVIVORS = 4  # Art. 68.4
REFORM_YEAR = date(2014, 1, 1)  # Art. 60.2: 1.5 months per year before, 2 months from
# Decree 74/2024/NĐ-CP: region I minimum monthly wage from 1 July 2024 (verify)
REGION_I_MINIMUM_WAGE = 4_960_000
UNEMPLOYMENT_CAP_MULTIPLE = 5  # Law on Employment 2013 Art. 50.1


def vnd(amount: int) -> str:
    """An amount as Vietnamese write it (1.263.600 đồng; nidb.domain.display.vn_money)."""
    return vn_money(amount)


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _half_years(months: int) -> int:
    """Months of contributions as half-years, with Decree 115/2015 Art. 19's rounding."""
    whole, odd = divmod(months, 12)
    extra = 0 if odd == 0 else (1 if odd <= 6 else 2)
    return 2 * whole + extra


@dataclass(frozen=True, slots=True)
class OneTimeAmount:
    """A one-time SI lump sum and how it was reached (shown to staff and citizen)."""

    months_before_2014: int
    months_from_2014: int
    average_wage: int
    amount: int
    explanation_vi: str


def _lump_sum(wages: dict[date, int]) -> OneTimeAmount:
    months = len(wages)
    if months == 0:
        return OneTimeAmount(0, 0, 0, 0, "không có tháng đóng BHXH nào")
    average = _half_up(sum(wages.values()), months)
    before = sum(1 for period in wages if period < REFORM_YEAR)
    after = months - before
    if months < 12:
        amount = min(_half_up(sum(wages.values()) * 22, 100), 2 * average)
        text = (
            f"{months} tháng (dưới 1 năm): 22% tổng tiền lương đóng, tối đa 2 tháng lương bình quân"
        )
        return OneTimeAmount(before, after, average, amount, text)
    # odd months of the years before 2014 are counted with the later period (Decree 115 Art. 19)
    before_years, before_odd = divmod(before, 12)
    after_half_years = _half_years(after + before_odd)
    # 1.5 months per year before 2014 = 3 per 2 years; 2 months per year from 2014 = 1 per half
    amount = _half_up(average * (3 * before_years * 2 + 4 * after_half_years), 4)
    text = (
        f"{before_years} năm trước 2014 × 1,5 tháng + {after_half_years / 2:g} năm từ 2014 × 2 "
        f"tháng, lương bình quân {vnd(average)}"
    )
    return OneTimeAmount(before, after, average, amount, text)


def one_time_amount(wages: dict[date, int]) -> OneTimeAmount:
    """One-time SI for the months contributed (period → contribution wage)."""
    return _lump_sum(wages)


def survivors_lump_sum(wages: dict[date, int]) -> OneTimeAmount:
    """One-time survivors' benefit: the one-time formula, at least 3 months' average wage."""
    found = _lump_sum(wages)
    floor = 3 * found.average_wage
    if found.amount >= floor:
        return found
    return OneTimeAmount(
        found.months_before_2014,
        found.months_from_2014,
        found.average_wage,
        floor,
        found.explanation_vi + "; nâng lên mức tối thiểu 3 tháng lương bình quân",
    )


def survivors_monthly(dependants: int, on: date) -> int:
    """Monthly survivors' allowance for ``dependants`` (at most 4), in đồng."""
    count = min(max(dependants, 0), MAX_SURVIVORS)
    return _half_up(base_salary(on) * SURVIVOR_SHARE_PCT * count, 100)


def funeral_allowance(died: date) -> int:
    """Funeral allowance: 10 × the base salary in force on the day of death."""
    return FUNERAL_BASE_SALARY_MULTIPLE * base_salary(died)


@dataclass(frozen=True, slots=True)
class UnemploymentAmount:
    """Monthly unemployment benefit and its duration."""

    months_contributed: int
    average_wage: int
    monthly: int
    duration_months: int
    explanation_vi: str


def unemployment_amount(last_wages: list[int], months_contributed: int) -> UnemploymentAmount:
    """60% of the average of the last 6 contribution wages, capped; duration by months paid."""
    average = _half_up(sum(last_wages), len(last_wages)) if last_wages else 0
    cap = UNEMPLOYMENT_CAP_MULTIPLE * REGION_I_MINIMUM_WAGE
    monthly = min(_half_up(average * 60, 100), cap)
    duration = 0 if months_contributed < 12 else min(3 + max(0, months_contributed - 36) // 12, 12)
    text = (
        f"60% × lương bình quân 6 tháng cuối {vnd(average)} (tối đa {vnd(cap)}); "
        f"{months_contributed} tháng đóng → {duration} tháng hưởng"
    )
    return UnemploymentAmount(months_contributed, average, monthly, duration, text)
