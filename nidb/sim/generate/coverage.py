"""Each insured person's story: BHXH codes, current and past periods, contributions.

Months are counted from 1970-01 (``0`` is January 1970) so that periods are plain integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from nidb.sim.generate import columns as col
from nidb.sim.generate.employers import Employers
from nidb.sim.generate.health import GROUP_CODES, Group
from nidb.sim.generate.insured import (
    EMPLOYEE,
    NOT_INSURED,
    RETIREMENT_AGE_FEMALE,
    RETIREMENT_AGE_MALE,
)
from nidb.sim.generate.places import BASE_SALARY, REGIONAL_MINIMUM_WAGE, ProvinceTable
from nidb.sim.generate.population import Population, unique_draws

I16 = npt.NDArray[np.int16]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

NONE = -1
PAST_JOB_SHARE = 0.35
LAPSED_SHARE = 0.08
"""Share of household (GD, CN) participants who stopped renewing in the last year."""
CARD_KEPT_AFTER_DEATH_SHARE = 0.3
"""Dead people whose card stayed active: a fraud signal for later checks."""
AT_MINIMUM_WAGE_SHARE = 0.12
RAISE_SHARE = 0.06
SCHEMES = ("BHXH", "BHYT", "BHTN")
BHXH, BHYT, BHTN = range(3)
CIVIL_SERVICE_COEFFICIENTS = (2.34, 2.67, 3.0, 3.33, 3.66, 3.99, 4.32, 4.65, 4.98, 5.42, 6.2)


def month_of(days: npt.NDArray[np.integer] | int) -> npt.NDArray[np.int32]:
    """Month index of days since 1970-01-01."""
    as_days = np.asarray(days, dtype="datetime64[D]")
    return np.asarray(as_days.astype("datetime64[M]").astype(np.int32))


def today_month(today: date) -> int:
    """Month index of ``today``."""
    return (today.year - 1970) * 12 + today.month - 1


def _september_from(month: I32) -> I32:
    """The first September at or after each month."""
    offset = (8 - month % 12) % 12
    return (month + offset).astype(np.int32)


@dataclass
class Coverage:
    """Per person: group, BHXH codes and periods; ``-1`` where something does not apply."""

    group: I16
    primary_code: I64
    second_code: I64
    employer: I32
    start: I32
    end: I32
    """End month of the current BHYT period; -1 while open."""
    work_end: I32
    """End month of the current BHXH/BHTN period (death); -1 while open."""
    past_employer: I32
    past_start: I32
    past_end: I32
    child_history: Mask
    """Pupils who had a TE period from birth to their sixth birthday."""
    card_kept_after_death: Mask

    def holders(self) -> npt.NDArray[np.intp]:
        """People with an insurance record."""
        return np.flatnonzero(self.group != NOT_INSURED)

    def is_employee(self) -> Mask:
        """People who work for an employer now."""
        return np.asarray(self.employer >= 0)


def _codes(rng: np.random.Generator, prefix: I64) -> I64:
    """10-digit BHXH codes: the 2-digit province of issue and 8 random digits, unique."""
    return unique_draws(rng, prefix, 100_000_000, len(prefix))


def plan_coverage(
    rng: np.random.Generator,
    population: Population,
    groups: I16,
    employer_of: I32,
    employers: Employers,
    provinces: ProvinceTable,
    duplicate_share: float,
    today: date,
) -> Coverage:
    """Decide codes and periods. ``employer_of`` is each person's employer or -1."""
    size = population.size
    insured = groups != NOT_INSURED
    now = today_month(today)
    birth = month_of(population.dob)
    last = np.where(population.dead, month_of(population.death_date), now).astype(np.int32)
    adult = birth + 18 * 12
    employee = groups == EMPLOYEE
    group = groups.copy()
    group[employee] = np.where(employers.is_state()[employer_of[employee]], Group.HC, Group.DN)

    u = rng.random((8, size))
    worked = np.maximum(1, last - adult)
    retirement = birth + 12 * np.where(population.male, RETIREMENT_AGE_MALE, RETIREMENT_AGE_FEMALE)
    recent = last - np.floor(u[0] * np.minimum(120, np.maximum(1, last - birth))).astype(np.int32)
    start = np.select(
        [group == Group.TE, group == Group.HS, group == Group.SV, employee, group == Group.HT],
        [
            birth,
            np.minimum(_september_from(birth + 72), last),
            np.minimum(_september_from(adult), last),
            last - 1 - np.floor(u[1] * np.minimum(180, worked)).astype(np.int32),
            np.minimum(retirement, last),
        ],
        np.maximum(recent, birth + np.where(group == Group.BT, 80 * 12, 0)),
    ).astype(np.int32)
    start = np.minimum(np.maximum(start, np.where(employee, adult, birth)), last)

    lapsed = np.isin(group, [Group.GD, Group.CN]) & ~population.dead & (u[2] < LAPSED_SHARE)
    end = np.where(lapsed, np.maximum(start, now - 1 - np.floor(u[3] * 10)), NONE)
    kept = population.dead & (u[4] < CARD_KEPT_AFTER_DEATH_SHARE)
    end = np.where(population.dead & ~kept, last, end).astype(np.int32)
    work_end = np.where(population.dead, last, NONE).astype(np.int32)

    age_years = (last - birth) / 12
    duplicate = insured & (age_years >= 20) & (u[5] < duplicate_share)
    past = (
        duplicate
        | (group == Group.HT)
        | (employee & (u[6] < PAST_JOB_SHARE) & (start - adult >= 24))
    )
    past_end = np.select(
        [employee, group == Group.HT],
        [start - 1 - np.floor(u[7] * 12).astype(np.int32), start - 1],
        np.minimum(start - 1, now - 12 - np.floor(u[7] * 108).astype(np.int32)),
    ).astype(np.int32)
    past &= past_end >= adult
    duplicate &= past
    length = np.where(group == Group.HT, 120 + np.floor(u[6] * 300), 6 + np.floor(u[6] * 174))
    past_start = np.maximum(adult, past_end - length.astype(np.int32)).astype(np.int32)
    overall = np.cumsum(employers.size_weight)
    picked = np.searchsorted(overall, rng.random(size) * overall[-1], side="right")
    picked = np.minimum(picked, employers.count - 1).astype(np.int32)
    picked = np.where(picked == employer_of, (picked + 1) % employers.count, picked)

    primary_prefix = provinces.codes[population.household_province[population.household]]
    second_prefix = provinces.codes[employers.province[picked]]
    holders = np.flatnonzero(insured)
    doubles = np.flatnonzero(duplicate)
    codes = _codes(
        rng, np.concatenate([primary_prefix[holders], second_prefix[doubles]]).astype(np.int64)
    )
    primary_code = np.full(size, NONE, dtype=np.int64)
    primary_code[holders] = codes[: len(holders)]
    second_code = np.full(size, NONE, dtype=np.int64)
    second_code[doubles] = codes[len(holders) :]

    return Coverage(
        group=np.where(insured, group, NOT_INSURED).astype(np.int16),
        primary_code=primary_code,
        second_code=second_code,
        employer=np.where(employee, employer_of, NONE).astype(np.int32),
        start=np.where(insured, start, NONE).astype(np.int32),
        end=end,
        work_end=work_end,
        past_employer=np.where(past, picked, NONE).astype(np.int32),
        past_start=np.where(past, past_start, NONE).astype(np.int32),
        past_end=np.where(past, past_end, NONE).astype(np.int32),
        child_history=(group == Group.HS) & (population.birth_year() >= 2008),
        card_kept_after_death=kept & insured,
    )


def participation_table(
    coverage: Coverage, population: Population, employers: Employers
) -> pa.Table:
    """The `participation` file: one row per (BHXH code, scheme, period)."""
    holders = coverage.holders()
    employee = holders[coverage.is_employee()[holders]]
    others = holders[~coverage.is_employee()[holders]]
    past = np.flatnonzero(coverage.past_employer >= 0)
    children = np.flatnonzero(coverage.child_history)
    birth = month_of(population.dob)
    past_code = np.where(coverage.second_code >= 0, coverage.second_code, coverage.primary_code)
    state = employers.is_state()
    past_type = np.where(state[np.maximum(coverage.past_employer, 0)], Group.HC, Group.DN)

    blocks: list[tuple[I64, I32, I32, I32, I32, I32]] = []
    for scheme_index in (BHXH, BHYT, BHTN):
        ends = coverage.end if scheme_index == BHYT else coverage.work_end
        blocks.append(
            (
                coverage.primary_code[employee],
                np.full(len(employee), scheme_index, np.int32),
                coverage.employer[employee],
                coverage.group[employee].astype(np.int32),
                coverage.start[employee],
                ends[employee],
            )
        )
        blocks.append(
            (
                past_code[past],
                np.full(len(past), scheme_index, np.int32),
                coverage.past_employer[past],
                past_type[past].astype(np.int32),
                coverage.past_start[past],
                coverage.past_end[past],
            )
        )
    blocks.append(
        (
            coverage.primary_code[others],
            np.full(len(others), BHYT, np.int32),
            np.full(len(others), NONE, np.int32),
            coverage.group[others].astype(np.int32),
            coverage.start[others],
            coverage.end[others],
        )
    )
    blocks.append(
        (
            coverage.primary_code[children],
            np.full(len(children), BHYT, np.int32),
            np.full(len(children), NONE, np.int32),
            np.full(len(children), Group.TE, np.int32),
            birth[children],
            birth[children] + 71,
        )
    )
    code, scheme, employer, kind, start, end = (
        np.concatenate([block[k] for block in blocks]) for k in range(6)
    )
    order = np.lexsort((scheme, start, code))
    ends = end[order]
    return pa.table(
        {
            "bhxh_code": col.digits(code[order], 10),
            "scheme": col.strings(SCHEMES, scheme[order]),
            "employer_code": col.strings(employers.code, employer[order]),
            "participant_type": col.strings(GROUP_CODES, kind[order]),
            "start_month": col.months_text(start[order]),
            "end_month": col.months_text(ends, ends < 0),
        }
    )


@dataclass(frozen=True)
class Wages:
    """Contribution wages (tiền lương đóng) of current employees over the contribution window."""

    people: npt.NDArray[np.intp]
    first: I32
    """First contribution month of each employee in the window."""
    count: I64
    """Months contributed in the window."""
    wage: I64
    raised_from: npt.NDArray[np.float64]
    """Month of a raise, or 10**9 for none."""
    raise_to: I64

    def latest(self, size: int) -> I64:
        """Each person's latest contribution wage (the window's last month), -1 for others."""
        last = self.first + np.maximum(self.count, 1) - 1
        current = np.where(last >= self.raised_from, self.raise_to, self.wage)
        result = np.full(size, NONE, dtype=np.int64)
        result[self.people] = current
        return result


def draw_wages(
    rng: np.random.Generator,
    coverage: Coverage,
    employers: Employers,
    provinces: ProvinceTable,
    months: int,
    today: date,
) -> Wages:
    """Draw the contribution wage of every current employee and the months they paid."""
    now = today_month(today)
    people = np.flatnonzero(coverage.is_employee())
    first = np.maximum(coverage.start[people], now - months)
    last = np.where(coverage.work_end[people] >= 0, coverage.work_end[people], now - 1)
    last = np.minimum(last, now - 1)
    count = np.maximum(0, last - first + 1)

    size = len(people)
    employer = coverage.employer[people]
    region = provinces.wage_region[employers.province[employer]]
    market = np.clip(np.round(rng.lognormal(np.log(9_500_000), 0.5, size), -4), 5e6, 40e6)
    minimum = np.asarray(REGIONAL_MINIMUM_WAGE, dtype=np.float64)[region]
    coefficient = np.asarray(CIVIL_SERVICE_COEFFICIENTS)[
        rng.integers(0, len(CIVIL_SERVICE_COEFFICIENTS), size)
    ]
    wage = np.select(
        [coverage.group[people] == Group.HC, rng.random(size) < AT_MINIMUM_WAGE_SHARE],
        [np.round(coefficient * BASE_SALARY), minimum],
        market,
    ).astype(np.int64)
    raised_from = np.where(
        rng.random(size) < RAISE_SHARE,
        first + np.floor(rng.random(size) * np.maximum(count, 1)),
        10**9,
    )
    raise_to = np.round(wage * rng.uniform(1.05, 1.12, size), -3).astype(np.int64)
    return Wages(
        people=people,
        first=first.astype(np.int32),
        count=count.astype(np.int64),
        wage=wage,
        raised_from=raised_from,
        raise_to=raise_to,
    )


def contributions_table(wages: Wages, coverage: Coverage, employers: Employers) -> pa.Table:
    """The `contributions` file: monthly wages and amounts of current employees."""
    people, count = wages.people, wages.count
    employer = coverage.employer[people]
    row_person = np.repeat(np.arange(len(people)), count)
    offset = np.arange(len(row_person)) - np.repeat(np.cumsum(count) - count, count)
    period = wages.first[row_person] + offset
    row_wage = np.where(
        period >= wages.raised_from[row_person], wages.raise_to[row_person], wages.wage[row_person]
    )
    return pa.table(
        {
            "bhxh_code": col.digits(coverage.primary_code[people][row_person], 10),
            "employer_code": col.strings(employers.code, employer[row_person]),
            "period": col.months_text(period),
            "wage": col.integers(row_wage),
            "bhxh_amount": col.integers(rounded_share(row_wage, 255)),
            "bhyt_amount": col.integers(rounded_share(row_wage, 45)),
            "bhtn_amount": col.integers(rounded_share(row_wage, 20)),
        }
    )


def rounded_share(wage: I64, per_mille: int) -> I64:
    """``round(wage × per_mille / 1000)`` to whole đồng, halves rounded up (no float error)."""
    return (np.asarray(wage, dtype=np.int64) * per_mille + 500) // 1000
