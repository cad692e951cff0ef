"""Insured hospital visits of the last year (after table XML1 of Decision 130/QĐ-BYT).

Visits are drawn as arrays (:class:`Visits`), cleared of the impossible situations that
independent draws can produce (two inpatient stays at once, one card in two provinces the same
day), so that only the frauds injected on purpose (nidb.sim.generate.frauds) break those rules,
and then written as the `visits` file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from nidb.sim.generate import columns as col
from nidb.sim.generate.cards import ACTIVE, Cards, draw_facility
from nidb.sim.generate.health import ICD10_CODES, diagnosis_weights, insurer_share_of
from nidb.sim.generate.places import ProvinceTable
from nidb.sim.generate.population import Population, days_since_epoch

DAYS_BACK = 365
MINUTES_PER_DAY = 24 * 60
OWN_FACILITY_SHARE = 0.85
CENTRAL_HOSPITAL_SHARE = 0.03
CENTRAL_PROVINCES = ("01", "79")
MAX_COST = 2_000_000_000

# Relative visit rates by age: small children and the old see doctors most.
_AGE_EDGES = (0, 6, 18, 40, 60, 200)
_AGE_RATE = (2.2, 0.8, 0.7, 1.2, 2.6)
_INPATIENT_BY_AGE = (0.08, 0.05, 0.08, 0.11, 0.16)

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Visits:
    """Visits as arrays; ``holder`` indexes the cards, times are minutes since 1970 (local)."""

    holder: I64
    admitted: I64
    discharged: I64
    inpatient: npt.NDArray[np.bool_]
    facility: npt.NDArray[np.int32]
    diagnosis: I64
    total: I64
    insurer: I64

    @property
    def size(self) -> int:
        """Number of visits."""
        return len(self.holder)

    def take(self, rows: npt.NDArray[np.integer] | npt.NDArray[np.bool_]) -> Visits:
        """The visits at ``rows`` (indices or a mask)."""
        return Visits(**{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)})

    def append(self, other: Visits) -> Visits:
        """These visits followed by ``other``."""
        return Visits(
            **{
                f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                for f in dataclasses.fields(self)
            }
        )

    def day(self) -> I64:
        """Day of admission (days since 1970-01-01, local time)."""
        return self.admitted // MINUTES_PER_DAY

    def table(self, rng: np.random.Generator, cards: Cards) -> tuple[pa.Table, I64]:
        """The `visits` file, sorted by admission; also each row's visit number (the id)."""
        size = self.size
        order = np.lexsort((self.holder, self.admitted))
        visit_number = np.empty(size, dtype=np.int64)
        visit_number[order] = np.cumsum(rng.integers(1, 50, size))
        ordered = visit_number[order]
        return pa.table(
            {
                "visit_id": visit_ids(ordered),
                "card_code": cards.code.take(pa.array(self.holder[order])),
                "facility_code": col.digits(self.facility[order], 5),
                "admitted_at": _timestamps(self.admitted[order]),
                "discharged_at": _timestamps(self.discharged[order]),
                "inpatient": pa.array(self.inpatient[order].astype(np.int8)),
                "icd10": col.strings(ICD10_CODES, self.diagnosis[order]),
                "total_cost": col.integers(self.total[order]),
                "insurer_paid": col.integers(self.insurer[order]),
                "patient_paid": col.integers(self.total[order] - self.insurer[order]),
            }
        ), visit_number


def visit_ids(number: I64) -> pa.Array:
    """Visit ids (MA_LK) ``LK`` + 10 digits."""
    return col.join(
        [col.strings(["LK"], np.zeros(len(number), np.int64)), col.digits(number, 10)], ""
    )


def _time_labels() -> pa.Array:
    return pa.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(MINUTES_PER_DAY)], pa.string())


def _timestamps(minutes: I64) -> pa.Array:
    """Minutes since 1970-01-01 00:00 as ``YYYY-MM-DDTHH:MM``."""
    day, minute = np.divmod(minutes, MINUTES_PER_DAY)
    return col.join([col.days_text(day), col.strings(_time_labels(), minute)], "T")


def insurer_paid(total: I64, cards: Cards, holder: I64) -> I64:
    """What the fund pays of ``total`` at each holder's benefit level, in whole đồng."""
    share = np.round(insurer_share_of(cards.level[holder]) * 1000).astype(np.int64)
    paid: I64 = np.minimum(total, (total * share + 500) // 1000)
    return paid


def draw_visits(
    rng: np.random.Generator,
    cards: Cards,
    population: Population,
    provinces: ProvinceTable,
    per_person: float,
    after_death_share: float,
    today: date,
) -> tuple[Visits, npt.NDArray[np.bool_]]:
    """About ``per_person`` visits per card-holder over the last year, and which of them come
    after the holder's death (kept on a still-active card with ``after_death_share``)."""
    today_days = days_since_epoch(today)
    person = cards.person
    age = (today_days - population.dob[person]) / 365.2425
    band = np.clip(np.searchsorted(_AGE_EDGES, age, side="right") - 1, 0, len(_AGE_RATE) - 1)
    rate = np.asarray(_AGE_RATE)[band]
    expected = rate / rate.mean() * per_person if len(rate) else rate
    count = rng.poisson(expected)
    holder = np.repeat(np.arange(len(person)), count)
    size = len(holder)

    day = today_days - 1 - np.floor(rng.random(size) * DAYS_BACK).astype(np.int64)
    inpatient = rng.random(size) < np.asarray(_INPATIENT_BY_AGE)[band[holder]]
    stay = np.where(inpatient, np.clip(np.round(rng.lognormal(np.log(4.0), 0.6, size)), 1, 60), 0)
    day = np.minimum(day, today_days - 1 - stay).astype(np.int64)
    who = person[holder]
    dead = population.dead[who]
    after_death = dead & (day > population.death_date[who])
    keep = (
        (day >= population.dob[who])
        & (day <= cards.valid_to[holder])
        & (
            ~after_death
            | ((cards.status[holder] == ACTIVE) & (rng.random(size) < after_death_share))
        )
    )
    holder, day, inpatient, stay = holder[keep], day[keep], inpatient[keep], stay[keep]
    after_death = after_death[keep]
    size = len(holder)

    admitted = day * MINUTES_PER_DAY + np.where(
        inpatient,
        np.floor(rng.random(size) * MINUTES_PER_DAY),
        7 * 60 + np.floor(rng.random(size) * 9 * 60),
    ).astype(np.int64)
    discharged = np.where(
        inpatient,
        (day + stay) * MINUTES_PER_DAY + 8 * 60 + np.floor(rng.random(size) * 9 * 60),
        admitted + 20 + np.floor(rng.random(size) * 220),
    ).astype(np.int64)
    discharged = np.maximum(discharged, admitted)

    where = rng.random(size)
    own = cards.facility[holder]
    nearby = draw_facility(rng, cards.province[holder], provinces)
    central_rows = np.array([provinces.index_of(int(c)) for c in CENTRAL_PROVINCES])
    central = (
        provinces.codes[central_rows[rng.integers(0, len(central_rows), size)]].astype(np.int32)
        * 1000
        + rng.integers(1, 6, size)
    ).astype(np.int32)
    facility = np.select(
        [where < OWN_FACILITY_SHARE, where < 1 - CENTRAL_HOSPITAL_SHARE], [own, nearby], central
    )

    diagnosis = np.where(
        inpatient,
        rng.choice(len(ICD10_CODES), size, p=diagnosis_weights(inpatient=True)),
        rng.choice(len(ICD10_CODES), size, p=diagnosis_weights(inpatient=False)),
    )
    outpatient_cost = np.round(rng.lognormal(np.log(250_000), 0.9, size), -2)
    inpatient_cost = np.round(
        rng.lognormal(np.log(6_000_000), 0.8, size) * np.sqrt(np.maximum(stay, 1) / 4), -3
    )
    total = np.minimum(np.where(inpatient, inpatient_cost, outpatient_cost), MAX_COST).astype(
        np.int64
    )
    visits = Visits(
        holder.astype(np.int64),
        admitted,
        discharged,
        inpatient,
        facility.astype(np.int32),
        diagnosis.astype(np.int64),
        total,
        insurer_paid(total, cards, holder),
    )
    kept = possible(visits)
    return visits.take(kept), after_death[kept]


def possible(visits: Visits) -> npt.NDArray[np.bool_]:
    """Which visits to keep so that no card has two inpatient stays at once, outpatient visits
    in two provinces on one day, or two visits at one facility on one day for one diagnosis:
    independent draws make a few such pairs, which would look like fraud. The later visit of a
    clashing pair is dropped (conservatively: a visit clashing with one already dropped is
    dropped too)."""
    keep = np.ones(visits.size, dtype=bool)
    same = np.lexsort(
        (
            visits.admitted,
            visits.inpatient,
            visits.diagnosis,
            visits.facility,
            visits.day(),
            visits.holder,
        )
    )
    columns = (visits.holder, visits.day(), visits.facility, visits.diagnosis, visits.inpatient)
    repeated = np.ones(max(len(same) - 1, 0), dtype=bool)
    for column in columns:
        ordered = column[same]
        repeated &= ordered[1:] == ordered[:-1]
    keep[same[1:][repeated]] = False
    big = np.int64(1) << 40  # above any minute count: keys of one holder stay together

    stays = np.flatnonzero(visits.inpatient)
    stays = stays[np.lexsort((visits.admitted[stays], visits.holder[stays]))]
    key = visits.holder[stays] * big
    reach = np.maximum.accumulate(key + visits.discharged[stays])
    previous = np.concatenate([[np.int64(-1)], reach[:-1]])
    keep[stays[key + visits.admitted[stays] < previous]] = False

    outs = np.flatnonzero(~visits.inpatient)
    day = visits.day()[outs]
    outs_order = np.lexsort((visits.admitted[outs], day, visits.holder[outs]))
    outs, day = outs[outs_order], day[outs_order]
    province = visits.facility[outs] // 1000
    first = np.ones(len(outs), dtype=bool)
    first[1:] = (visits.holder[outs][1:] != visits.holder[outs][:-1]) | (day[1:] != day[:-1])
    head = np.maximum.accumulate(np.where(first, np.arange(len(outs)), 0))
    keep[outs[province != province[head]]] = False
    return keep
