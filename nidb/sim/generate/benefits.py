"""Benefits paid by social insurance (chế độ hưởng BHXH, Decree 43 Art. 6.1 group d): monthly
pensions and survivors' allowances, one-time BHXH payments, sickness and maternity.

Dates are days since 1970-01-01 and months are counted from 1970-01, as elsewhere in the
generator; amounts are whole đồng. A monthly benefit stops on its holder's death, except for
the share ``benefit_after_death`` of dead holders, whose benefit stays ``active``: a pension
paid after death, which the generator reports in ``truth.errors`` as ``BENEFIT_AFTER_DEATH``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from nidb.domain.catalogues import BASE_SALARY_HISTORY
from nidb.sim.generate import columns as col
from nidb.sim.generate.coverage import NONE, Coverage, Wages, month_of, today_month
from nidb.sim.generate.health import Group
from nidb.sim.generate.population import Population, days_since_epoch

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

PENSION, SURVIVOR, ONE_TIME, SICKNESS, MATERNITY = range(5)
BENEFIT_KINDS = ("pension", "survivor", "one_time", "sickness", "maternity")
MONTHLY_KINDS = (PENSION, SURVIVOR)
"""Kinds paid every month until they stop: the ones a death must stop."""
ACTIVE, STOPPED, ENDED = range(3)
BENEFIT_STATUSES = ("active", "stopped", "ended")

PENSION_RATE_MIN, PENSION_RATE_MAX, PENSION_RATE_PER_YEAR = 0.45, 0.75, 0.02
"""45% of the average wage for the first years, 2% more per further year, at most 75%."""
YEARS_FOR_MIN_RATE_MALE, YEARS_FOR_MIN_RATE_FEMALE = 20, 15
PENSIONER_WAGE_MEDIAN = 8_000_000
SURVIVOR_SHARE = 0.7
"""Dead pensioners and employees with an eligible relative who then draws a monthly allowance."""
SURVIVOR_RATE, SURVIVOR_RATE_NO_CARER, NO_CARER_SHARE = 0.5, 0.7, 0.2
"""Survivors' allowance as a share of the base salary (70% for those with no one to care)."""
ONE_TIME_SHARE = 0.5
"""People out of insured work for a year or more who take their BHXH as one payment."""
ONE_TIME_MONTHS_PER_YEAR = 2
SICKNESS_SHARE, SICKNESS_RATE = 0.10, 0.75
MATERNITY_SHARE, MATERNITY_DAYS, CHILDBIRTH_GRANT_BASES = 0.05, 182, 2
DECISION_DATE_UNKNOWN_SHARE = 0.03
"""Old pension files without a recorded decision date."""
DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True)
class Benefits:
    """Benefits as arrays, one per row of `benefits` (``person`` indexes the population)."""

    person: npt.NDArray[np.intp]
    code: I64
    kind: npt.NDArray[np.int8]
    start: I64
    end: I64
    monthly: I64
    lump: I64
    status: npt.NDArray[np.int8]
    decided: I64
    after_death: Mask
    """Rows left active after their holder's death (the injected error)."""

    def table(self) -> pa.Table:
        """The `benefits` file, sorted by BHXH code, kind and start date."""
        return pa.table(
            {
                "bhxh_code": col.digits(self.code, 10),
                "kind": col.strings(BENEFIT_KINDS, self.kind),
                "start_date": col.date32(self.start),
                "end_date": col.date32(self.end, self.end < 0),
                "monthly_amount": col.integers(self.monthly, self.monthly < 0),
                "lump_sum": col.integers(self.lump, self.lump < 0),
                "status": col.strings(BENEFIT_STATUSES, self.status),
                "decided_at": col.date32(self.decided, self.decided < 0),
            }
        )

    def codes_paid_after_death(self) -> I64:
        """BHXH codes holding a benefit paid after its holder's death, sorted, unique."""
        return np.unique(self.code[self.after_death])


@dataclass(frozen=True)
class _Block:
    person: npt.NDArray[np.intp]
    code: I64
    kind: int
    start: I64
    end: I64
    monthly: I64
    lump: I64
    decided: I64


def base_salary_on(days: npt.NDArray[np.integer]) -> I64:
    """The base salary (lương cơ sở) in force on each day; the first catalogued one before it."""
    starts = np.array([days_since_epoch(e.valid_from) for e in BASE_SALARY_HISTORY])
    amounts = np.array([e.amount for e in BASE_SALARY_HISTORY], dtype=np.int64)
    index = np.searchsorted(starts, np.asarray(days), side="right") - 1
    return np.asarray(amounts[np.maximum(index, 0)], dtype=np.int64)


def first_day(month: npt.NDArray[np.integer]) -> I64:
    """The first day of each month (days since 1970-01-01)."""
    as_month = np.asarray(month, dtype=np.int64).astype("datetime64[M]")
    return np.asarray(as_month.astype("datetime64[D]").astype(np.int64))


def _none(size: int) -> I64:
    return np.full(size, NONE, dtype=np.int64)


def _days(rng: np.random.Generator, low: int, high: int, size: int) -> I64:
    return np.asarray(rng.integers(low, high + 1, size), dtype=np.int64)


def _pensions(
    rng: np.random.Generator, population: Population, coverage: Coverage, floor: int
) -> _Block:
    """A monthly pension (lương hưu) for every pensioner, from the retirement month."""
    person = np.flatnonzero(coverage.group == Group.HT)
    size = len(person)
    start = first_day(coverage.start[person])
    past_start, past_end = coverage.past_start[person], coverage.past_end[person]
    years = np.where(past_start >= 0, (past_end - past_start + 1) / 12, rng.uniform(15, 35, size))
    base_years = np.where(
        population.male[person], YEARS_FOR_MIN_RATE_MALE, YEARS_FOR_MIN_RATE_FEMALE
    )
    rate = np.clip(
        PENSION_RATE_MIN + PENSION_RATE_PER_YEAR * np.floor(years - base_years),
        PENSION_RATE_MIN,
        PENSION_RATE_MAX,
    )
    wage = np.clip(rng.lognormal(np.log(PENSIONER_WAGE_MEDIAN), 0.45, size), 3.5e6, 40e6)
    monthly = np.maximum(floor, np.round(wage * rate, -2)).astype(np.int64)
    decided = start - _days(rng, 10, 45, size)
    decided[rng.random(size) < DECISION_DATE_UNKNOWN_SHARE] = NONE
    return _Block(
        person,
        coverage.primary_code[person],
        PENSION,
        start,
        _none(size),
        monthly,
        _none(size),
        decided,
    )


def _birthday(dob: I64, years: int) -> I64:
    """The day someone born on ``dob`` turns ``years`` (29 February → 1 March)."""
    month = month_of(dob)
    return first_day(month + 12 * years) + (dob - first_day(month))


def _survivors(
    rng: np.random.Generator, population: Population, coverage: Coverage, today_days: int, base: int
) -> _Block:
    """Monthly survivors' allowances (trợ cấp tuất hằng tháng) to a relative in the household of
    a dead pensioner or employee: a child under 18 or a parent or spouse past working age."""
    size = population.size
    deceased = np.flatnonzero(
        population.dead & np.isin(coverage.group, (Group.HT, Group.DN, Group.HC))
    )
    start = first_day(month_of(population.death_date[deceased]) + 1)
    keep = start <= today_days
    deceased, start = deceased[keep], start[keep]
    relative = np.full(len(deceased), NONE, dtype=np.int64)
    for step in (-1, 1):  # prefer the next member (spouse or child of a head)
        other = np.clip(deceased + step, 0, size - 1)
        age = (start - population.dob[other]) / DAYS_PER_YEAR
        old_enough = age >= np.where(population.male[other], 60, 55)
        fits = (
            (other == deceased + step)
            & (population.household[other] == population.household[deceased])
            & (coverage.primary_code[other] >= 0)
            & (~population.dead[other] | (population.death_date[other] >= start))
            & (((age >= 0) & (age < 18)) | old_enough)
        )
        relative = np.where(fits, other, relative)
    chosen = (relative >= 0) & (rng.random(len(deceased)) < SURVIVOR_SHARE)
    relative, start, deceased = relative[chosen], start[chosen], deceased[chosen]
    relative, first = np.unique(relative, return_index=True)  # one allowance per relative
    start, deceased = start[first], deceased[first]
    count = len(relative)
    adult_on = _birthday(population.dob[relative].astype(np.int64), 18)
    end = np.where(adult_on > start, adult_on - 1, NONE)
    rate = np.where(rng.random(count) < NO_CARER_SHARE, SURVIVOR_RATE_NO_CARER, SURVIVOR_RATE)
    monthly = np.round(base * rate).astype(np.int64)
    decided = np.minimum(population.death_date[deceased] + _days(rng, 5, 40, count), today_days)
    return _Block(
        relative,
        coverage.primary_code[relative],
        SURVIVOR,
        start,
        end,
        monthly,
        _none(count),
        decided,
    )


def _one_time(
    rng: np.random.Generator, population: Population, coverage: Coverage, today: date
) -> _Block:
    """One-time BHXH payments (BHXH một lần) to people out of insured work for over a year,
    under the code of their past period."""
    now = today_month(today)
    size = population.size
    last = np.where(population.dead, month_of(population.death_date) - 1, now - 1)
    last = np.where(coverage.is_employee(), np.minimum(last, coverage.start - 1), last)
    earliest = coverage.past_end + 13
    u = rng.random((2, size))
    person = np.flatnonzero(
        (coverage.past_end >= 0)
        & (coverage.group != Group.HT)
        & (last >= earliest)
        & (u[0] < ONE_TIME_SHARE)
    )
    count = len(person)
    month = earliest[person] + np.floor(u[1, person] * (last[person] - earliest[person] + 1))
    start = first_day(month) + _days(rng, 0, 27, count)
    months_paid = coverage.past_end[person] - coverage.past_start[person] + 1
    wage = np.clip(rng.lognormal(np.log(7_000_000), 0.4, count), 4.5e6, 40e6)
    lump = np.round(wage * ONE_TIME_MONTHS_PER_YEAR * months_paid / 12, -3).astype(np.int64)
    code = np.where(
        coverage.second_code[person] >= 0,
        coverage.second_code[person],
        coverage.primary_code[person],
    )
    decided = start - _days(rng, 3, 20, count)
    return _Block(person, code, ONE_TIME, start, start.copy(), _none(count), lump, decided)


def _episodes(
    rng: np.random.Generator,
    population: Population,
    coverage: Coverage,
    wages: Wages,
    today_days: int,
) -> tuple[_Block, _Block]:
    """Sick leave and maternity leave of current employees over the last year and a half."""
    person = wages.people
    size = len(person)
    wage = wages.latest(population.size)[person]
    employed_from = first_day(coverage.start[person])
    dies = np.where(population.dead[person], population.death_date[person], np.iinfo(np.int32).max)
    u = rng.random((3, size))

    start = today_days - 1 - np.floor(u[1] * 365).astype(np.int64)
    length = 1 + np.minimum(29, np.floor(rng.lognormal(np.log(3.0), 0.7, size))).astype(np.int64)
    end = start + length - 1
    sick = (u[0] < SICKNESS_SHARE) & (start >= employed_from) & (end < dies)
    paid_days = np.maximum(1, np.round(length * 6 / 7))
    lump = np.round(wage * SICKNESS_RATE / 24 * paid_days).astype(np.int64)
    decided = np.minimum(start + _days(rng, 5, 40, size), today_days)
    sickness = _Block(
        person[sick],
        coverage.primary_code[person[sick]],
        SICKNESS,
        start[sick],
        end[sick],
        _none(int(sick.sum())),
        lump[sick],
        decided[sick],
    )

    age = (today_days - population.dob[person]) / DAYS_PER_YEAR
    birth = today_days - 1 - np.floor(u[2] * 540).astype(np.int64)
    leave_end = birth + MATERNITY_DAYS - 1
    mother = (
        (u[0] >= 1 - MATERNITY_SHARE)
        & ~population.male[person]
        & (age >= 20)
        & (age < 42)
        & (birth >= employed_from + 183)
        & (leave_end < dies)
    )
    grant = CHILDBIRTH_GRANT_BASES * base_salary_on(birth[mother])
    decided = np.minimum(birth + _days(rng, 5, 40, size), today_days)
    maternity = _Block(
        person[mother],
        coverage.primary_code[person[mother]],
        MATERNITY,
        birth[mother],
        leave_end[mother],
        wage[mother],
        grant,
        decided[mother],
    )
    return sickness, maternity


def make_benefits(
    rng: np.random.Generator,
    population: Population,
    coverage: Coverage,
    wages: Wages,
    after_death_rate: float,
    today: date,
) -> Benefits:
    """Every benefit of the synthetic population, with statuses as of ``today``."""
    today_days = days_since_epoch(today)
    base = int(base_salary_on(np.array([today_days]))[0])
    blocks = [
        _pensions(rng, population, coverage, base),
        _survivors(rng, population, coverage, today_days, base),
        _one_time(rng, population, coverage, today),
        *_episodes(rng, population, coverage, wages, today_days),
    ]
    person = np.concatenate([b.person for b in blocks]).astype(np.intp)
    kind = np.concatenate([np.full(len(b.person), b.kind, np.int8) for b in blocks])
    code, start, end, monthly, lump, decided = (
        np.concatenate([getattr(b, name) for b in blocks]).astype(np.int64)
        for name in ("code", "start", "end", "monthly", "lump", "decided")
    )

    died = population.dead[person]
    death = np.where(died, population.death_date[person], NONE)
    monthly_kind = np.isin(kind, MONTHLY_KINDS)
    running_at_death = monthly_kind & died & ((end < 0) | (end >= death))
    still_due = (end < 0) | (end >= today_days)
    after_death = running_at_death & still_due & (rng.random(len(person)) < after_death_rate)
    stopped = running_at_death & ~after_death
    end = np.where(stopped, death, end)
    status = np.where(
        stopped, STOPPED, np.where((end >= 0) & (end < today_days), ENDED, ACTIVE)
    ).astype(np.int8)

    order = np.lexsort((start, kind, code))
    return Benefits(
        person=person[order],
        code=code[order],
        kind=kind[order],
        start=start[order],
        end=end[order],
        monthly=monthly[order],
        lump=lump[order],
        status=status[order],
        decided=decided[order],
        after_death=after_death[order],
    )


def mark_records(
    truth: pa.Table, record_codes: pa.ChunkedArray | pa.Array, codes: I64, label: str
) -> pa.Table:
    """Add ``label`` to ``truth.errors`` of the records holding one of ``codes``."""
    if len(codes) == 0:
        return truth
    flagged = pc.is_in(record_codes, value_set=col.digits(codes, 10))
    errors = truth.column("errors")
    appended = pc.utf8_ltrim(
        pc.binary_join_element_wise(pc.fill_null(errors, ""), pa.scalar(label), ";"), characters=";"
    )
    index = truth.schema.get_field_index("errors")
    return truth.set_column(index, "errors", pc.if_else(flagged, appended, errors))
