"""Health-insurance cards (thẻ BHYT): one current card per insured person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from nidb.sim.generate import columns as col
from nidb.sim.generate.coverage import NONE, Coverage, month_of, today_month
from nidb.sim.generate.health import GROUP_CODES, Group, level_of
from nidb.sim.generate.places import ProvinceTable
from nidb.sim.generate.population import Population, days_since_epoch

ACTIVE, SUSPENDED, REVOKED, EXPIRED = range(4)
CARD_STATUSES = ("active", "suspended", "revoked", "expired")
CONTINUITY_GAP_MONTHS = 3
"""Breaks up to three months do not interrupt the five continuous years (Law on HI, Art. 22)."""


@dataclass(frozen=True)
class Cards:
    """Cards as arrays, one per insured person (``person`` indexes the population)."""

    person: npt.NDArray[np.intp]
    code: pa.Array
    level: npt.NDArray[np.int8]
    province: npt.NDArray[np.int16]
    facility: npt.NDArray[np.int32]
    valid_from: npt.NDArray[np.int32]
    valid_to: npt.NDArray[np.int32]
    five_years_from: npt.NDArray[np.int32]
    status: npt.NDArray[np.int8]

    def table(self) -> pa.Table:
        """The `cards` file in the interchange layout."""
        return pa.table(
            {
                "card_code": self.code,
                "facility_code": col.digits(self.facility, 5),
                "valid_from": col.date32(self.valid_from),
                "valid_to": col.date32(self.valid_to),
                "five_years_from": col.date32(self.five_years_from, self.five_years_from < 0),
                "status": col.strings(CARD_STATUSES, self.status),
            }
        )


def facility_counts(provinces: ProvinceTable) -> npt.NDArray[np.int32]:
    """Primary-care facilities per province, by population (between 10 and 300)."""
    return np.clip(np.round(provinces.weights * 1500), 10, 300).astype(np.int32)


def draw_facility(
    rng: np.random.Generator, province: npt.NDArray[np.int16], provinces: ProvinceTable
) -> npt.NDArray[np.int32]:
    """A facility code (2-digit province + 3 digits) in each province; low numbers (the big
    hospitals) are drawn more often."""
    counts = facility_counts(provinces)[province]
    number = 1 + np.floor(counts * rng.random(len(province)) ** 2).astype(np.int32)
    return (provinces.codes[province].astype(np.int32) * 1000 + number).astype(np.int32)


def _first_day(month: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
    as_month = np.asarray(month, dtype=np.int64).astype("datetime64[M]")
    return np.asarray(as_month.astype("datetime64[D]").astype(np.int32))


def make_cards(
    rng: np.random.Generator,
    coverage: Coverage,
    population: Population,
    provinces: ProvinceTable,
    today: date,
) -> Cards:
    """Issue each insured person's current card from their group and periods."""
    person = coverage.holders()
    size = len(person)
    now = today_month(today)
    today_days = days_since_epoch(today)
    group = coverage.group[person]
    level = level_of(group.astype(np.int8))
    province = population.household_province[population.household[person]]
    code = col.join(
        [
            col.strings(GROUP_CODES, group),
            col.digits(level, 1),
            col.digits(provinces.codes[province], 2),
            col.digits(coverage.primary_code[person], 10),
        ],
        "",
    )

    dead = population.dead[person]
    kept = coverage.card_kept_after_death[person]
    start, end = coverage.start[person], coverage.end[person]
    reference = np.where(dead & ~kept, month_of(population.death_date[person]), now)
    issued = np.maximum(start, reference - np.floor(rng.random(size) * 12).astype(np.int32))
    lapsed = (end >= 0) & ~dead
    issued = np.where(lapsed, np.maximum(start, end - 11), issued)
    valid_from = _first_day(issued)
    valid_to = np.where(lapsed, _first_day(end + 1) - 1, _first_day(issued + 12) - 1)
    is_child = group == Group.TE
    birth = population.dob[person]
    sixth_birthday = _first_day(month_of(birth) + 72) + (birth - _first_day(month_of(birth)))
    valid_from = np.where(is_child, birth, valid_from).astype(np.int32)
    valid_to = np.where(is_child, sixth_birthday - 1, valid_to).astype(np.int32)

    status = np.full(size, ACTIVE, dtype=np.int8)
    status[valid_to < today_days] = EXPIRED
    withdrawn = dead & ~kept & (valid_to >= today_days)
    status[withdrawn] = np.where(rng.random(int(withdrawn.sum())) < 0.6, SUSPENDED, REVOKED)

    past_start, past_end = coverage.past_start[person], coverage.past_end[person]
    continuous = np.where(
        (past_start >= 0) & (start - past_end <= CONTINUITY_GAP_MONTHS + 1), past_start, start
    )
    child_start = month_of(birth)
    had_child_card = coverage.child_history[person] & (
        start - (child_start + 71) <= CONTINUITY_GAP_MONTHS + 1
    )
    continuous = np.where(had_child_card, child_start, continuous)
    reached = continuous + 60
    five_years = np.where(
        (reached <= now) & (reached <= month_of(valid_to)), _first_day(reached), NONE
    ).astype(np.int32)

    return Cards(
        person=person,
        code=code,
        level=level,
        province=province,
        facility=draw_facility(rng, province, provinces),
        valid_from=valid_from,
        valid_to=valid_to,
        five_years_from=five_years,
        status=status,
    )
