"""Insured hospital visits of the last year (after table XML1 of Decision 130/QĐ-BYT)."""

from __future__ import annotations

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
VISITS_AFTER_DEATH_SHARE = 0.15
"""Visits kept after a death on a card still active: claims a fraud check should catch."""

# Relative visit rates by age: small children and the old see doctors most.
_AGE_EDGES = (0, 6, 18, 40, 60, 200)
_AGE_RATE = (2.2, 0.8, 0.7, 1.2, 2.6)
_INPATIENT_BY_AGE = (0.08, 0.05, 0.08, 0.11, 0.16)


def _time_labels() -> pa.Array:
    return pa.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(MINUTES_PER_DAY)], pa.string())


def _timestamps(minutes: npt.NDArray[np.int64]) -> pa.Array:
    """Minutes since 1970-01-01 00:00 as ``YYYY-MM-DDTHH:MM``."""
    day, minute = np.divmod(minutes, MINUTES_PER_DAY)
    return col.join([col.days_text(day), col.strings(_time_labels(), minute)], "T")


def visits_table(rng: np.random.Generator, cards: Cards, population: Population,
                 provinces: ProvinceTable, per_person: float, today: date) -> pa.Table:
    """The `visits` file: about ``per_person`` visits per card-holder over the last year."""
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
    keep = (day >= population.dob[who]) & (day <= cards.valid_to[holder]) & (
        ~after_death | ((cards.status[holder] == ACTIVE)
                        & (rng.random(size) < VISITS_AFTER_DEATH_SHARE)))
    holder, day, inpatient, stay = holder[keep], day[keep], inpatient[keep], stay[keep]
    size = len(holder)

    admitted = day * MINUTES_PER_DAY + np.where(
        inpatient, np.floor(rng.random(size) * MINUTES_PER_DAY),
        7 * 60 + np.floor(rng.random(size) * 9 * 60)).astype(np.int64)
    discharged = np.where(
        inpatient,
        (day + stay) * MINUTES_PER_DAY + 8 * 60 + np.floor(rng.random(size) * 9 * 60),
        admitted + 20 + np.floor(rng.random(size) * 220)).astype(np.int64)
    discharged = np.maximum(discharged, admitted)

    where = rng.random(size)
    own = cards.facility[holder]
    nearby = draw_facility(rng, cards.province[holder], provinces)
    central_rows = np.array([provinces.index_of(int(c)) for c in CENTRAL_PROVINCES])
    central = (provinces.codes[central_rows[rng.integers(0, len(central_rows), size)]]
               .astype(np.int32) * 1000 + rng.integers(1, 6, size)).astype(np.int32)
    facility = np.select(
        [where < OWN_FACILITY_SHARE, where < 1 - CENTRAL_HOSPITAL_SHARE], [own, nearby], central)

    diagnosis = np.where(
        inpatient,
        rng.choice(len(ICD10_CODES), size, p=diagnosis_weights(inpatient=True)),
        rng.choice(len(ICD10_CODES), size, p=diagnosis_weights(inpatient=False)))
    outpatient_cost = np.round(rng.lognormal(np.log(250_000), 0.9, size), -2)
    inpatient_cost = np.round(
        rng.lognormal(np.log(6_000_000), 0.8, size) * np.sqrt(np.maximum(stay, 1) / 4), -3)
    total = np.minimum(np.where(inpatient, inpatient_cost, outpatient_cost), 2e9).astype(np.int64)
    share = np.round(insurer_share_of(cards.level[holder]) * 1000).astype(np.int64)
    insurer = np.minimum(total, (total * share + 500) // 1000)

    order = np.lexsort((holder, admitted))
    gaps = rng.integers(1, 50, size)
    visit_number = np.cumsum(gaps)
    return pa.table({
        "visit_id": col.join([col.strings(["LK"], np.zeros(size, np.int64)),
                              col.digits(visit_number, 10)], ""),
        "card_code": cards.code.take(pa.array(holder[order])),
        "facility_code": col.digits(facility[order], 5),
        "admitted_at": _timestamps(admitted[order]),
        "discharged_at": _timestamps(discharged[order]),
        "inpatient": pa.array(inpatient[order].astype(np.int8)),
        "icd10": col.strings(ICD10_CODES, diagnosis[order]),
        "total_cost": col.integers(total[order]),
        "insurer_paid": col.integers(insurer[order]),
        "patient_paid": col.integers(total[order] - insurer[order]),
    })
