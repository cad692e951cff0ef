"""Fraud patterns injected on purpose, with their ground truth (the `frauds` file).

Each pattern is what one detection rule (nidb.detect) looks for; its rate is a field of
:class:`~nidb.sim.generate.config.ErrorRates` of the same name. Patterns are drawn from a
stream of their own, on cards of living holders with an active card, each card in at most one
pattern, so that one injected fraud is one rule's business. A row of `frauds` names the rule,
the subject an alert would be about (a card, a BHXH code, an employer, a facility, a visit)
and a short detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from nidb.domain.icd10 import chapter_of
from nidb.sim.generate import columns as col
from nidb.sim.generate.cards import ACTIVE, Cards, draw_facility
from nidb.sim.generate.config import ErrorRates
from nidb.sim.generate.coverage import Coverage, Wages, today_month
from nidb.sim.generate.employers import Employers
from nidb.sim.generate.health import ICD10_CODES, diagnosis_weights
from nidb.sim.generate.places import ProvinceTable
from nidb.sim.generate.population import Population, days_since_epoch
from nidb.sim.generate.visits import DAYS_BACK, MINUTES_PER_DAY, Visits, insurer_paid

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

SMALL_EMPLOYER = 10
"""Employers registering fewer workers are never made under-declarers (the rule ignores them)."""
UNDER_DECLARED_SHARE = (0.30, 0.60)
"""An under-declaring employer insures this share of the workers it registered."""
STOPPED_MONTHS = (3, 5)
"""An employer whose contributions stop does not pay for the last 3 to 5 months."""
PEER_GROUP_MIN = 50
"""Cost frauds go only where the peers (same chapter and setting) are at least this many."""
OUTLIER_SIGMAS = (6.8, 8.0)
OUTLIER_SIGMA = 0.9
"""A cost outlier costs e^(6.8…8 × 0.9), 450 to 1,300 times, a typical visit of its setting."""
TYPICAL_COST = {False: 250_000, True: 6_000_000}
FACILITY_INFLATION = (4.0, 6.0)
"""A facility overbilling a chapter charges 4 to 6 times the going cost for all its visits."""
EXTRA_VISITS_BASE, EXTRA_VISITS_PER_VISIT = 40, 8
"""A card used by many people gets (1 to 2) × (40 + 8 × visits per person) extra visits."""
NEAR_EQUAL = 0.004
"""A claim submitted twice costs the same within ±0.4% (the rule accepts 1%)."""

FRAUD_COLUMNS = ("rule", "subject_type", "subject_id", "detail")


@dataclass
class FraudTruth:
    """The injected frauds, one row each, in the order they were injected."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(
        self,
        rule: str,
        subject_type: str,
        subjects: pa.Array | list[str],
        details: list[str] | None = None,
    ) -> None:
        """Record that ``rule`` should find each of ``subjects``."""
        values = subjects.to_pylist() if isinstance(subjects, pa.Array) else list(subjects)
        notes = details or [""] * len(values)
        self.rows.extend((rule, subject_type, s, n) for s, n in zip(values, notes, strict=True))

    def table(self) -> pa.Table:
        """The `frauds` file: unique rows sorted by rule and subject."""
        unique = sorted(set(self.rows))
        return pa.table(
            {
                name: pa.array([row[k] for row in unique], pa.string())
                for k, name in enumerate(FRAUD_COLUMNS)
            }
        )


def under_declare(
    rng: np.random.Generator,
    table: pa.Table,
    employers: Employers,
    works_at: npt.NDArray[np.int32],
    alive: Mask,
    rate: float,
    truth: FraudTruth,
) -> pa.Table:
    """Raise `registered_workers` of some active employers above the workers they insure:
    what the business registry says they employ, while BHXH knows only 30–60% of them."""
    headcount = np.bincount(works_at[alive], minlength=employers.count)
    chosen = (
        ~employers.closed & (headcount >= SMALL_EMPLOYER) & (rng.random(employers.count) < rate)
    )
    registered = np.asarray(table.column("registered_workers").to_numpy(zero_copy_only=False))
    share = rng.uniform(*UNDER_DECLARED_SHARE, employers.count)
    registered = np.where(chosen, np.ceil(headcount / share), registered).astype(np.int64)
    truth.add("employer_under_declared", "employer", employers.code.filter(pa.array(chosen)))
    index = table.schema.get_field_index("registered_workers")
    return table.set_column(index, "registered_workers", col.integers(registered))


def stop_contributions(
    rng: np.random.Generator,
    wages: Wages,
    coverage: Coverage,
    employers: Employers,
    months: int,
    rate: float,
    today: date,
    truth: FraudTruth,
) -> Wages:
    """Stop the contributions of some active employers for their last 3–5 months while
    their workers stay declared (participation still open)."""
    longest = min(STOPPED_MONTHS[1], months - 1)
    if longest < STOPPED_MONTHS[0] or not len(wages.people):
        return wages
    last_month = today_month(today) - 1
    employer = coverage.employer[wages.people]
    alive = coverage.work_end[wages.people] < 0
    paid_early = alive & (wages.count > 0) & (wages.first <= last_month - longest)
    eligible = np.zeros(employers.count, dtype=bool)
    eligible[employer[paid_early]] = True
    chosen = eligible & ~employers.closed & (rng.random(employers.count) < rate)
    stop = rng.integers(STOPPED_MONTHS[0], longest + 1, employers.count)
    hit = chosen[employer]
    until = last_month - stop[employer]
    last = wages.first + wages.count - 1
    count = np.where(hit, np.maximum(0, np.minimum(last, until) - wages.first + 1), wages.count)
    picked = np.flatnonzero(chosen)
    truth.add(
        "contributions_stopped",
        "employer",
        employers.code.take(pa.array(picked)),
        [f"months={int(stop[e])}" for e in picked],
    )
    return Wages(
        people=wages.people,
        first=wages.first,
        count=count.astype(np.int64),
        wage=wages.wage,
        raised_from=wages.raised_from,
        raise_to=wages.raise_to,
    )


def _chapters() -> I64:
    return np.array([chapter_of(code).number for code in ICD10_CODES], dtype=np.int64)


def _pick(rng: np.random.Generator, candidates: Mask, rate: float, used: Mask, holder: I64) -> I64:
    """Rows among ``candidates`` drawn with ``rate``, at most one per card and on cards not
    used by another pattern; marks their cards used."""
    rows = np.flatnonzero(candidates & ~used[holder] & (rng.random(len(candidates)) < rate))
    _, first = np.unique(holder[rows], return_index=True)
    rows = rows[np.sort(first)]
    used[holder[rows]] = True
    return rows


@dataclass
class VisitFrauds:
    """Visits after injection, and the rows of visit-level frauds (to name them by visit id)."""

    visits: Visits
    cost_outliers: I64


def inject_visit_frauds(
    rng: np.random.Generator,
    visits: Visits,
    after_death: Mask,
    cards: Cards,
    population: Population,
    provinces: ProvinceTable,
    rates: ErrorRates,
    per_person: float,
    today: date,
    truth: FraudTruth,
) -> VisitFrauds:
    """Every visit-level pattern, in a fixed order; card-level truth goes to ``truth``."""
    truth.add(
        "card_after_death", "card", cards.code.take(pa.array(np.unique(visits.holder[after_death])))
    )
    holder = visits.holder
    clean_card = (~population.dead[cards.person]) & (cards.status == ACTIVE)
    used = ~clean_card
    eligible = clean_card[holder] & ~after_death
    chapter = _chapters()[visits.diagnosis]
    group = chapter * 2 + visits.inpatient
    group_size = np.bincount(group, minlength=2 * 23)[group]

    # a facility overbilling one chapter and setting: all its visits there cost 4–6 times more
    key = visits.facility.astype(np.int64) * 100 + group
    keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    inflated_keys = (counts >= PEER_GROUP_MIN) & (
        rng.random(len(keys)) < rates.facility_cost_outlier
    )
    factor = rng.uniform(*FACILITY_INFLATION, len(keys))
    inflated = inflated_keys[inverse]
    total = np.where(inflated, np.round(visits.total * factor[inverse], -2), visits.total)
    total = total.astype(np.int64)
    for k in np.flatnonzero(inflated_keys):
        facility, rest = divmod(int(keys[k]), 100)
        chapter_number, setting = divmod(rest, 2)
        truth.add(
            "facility_cost_outlier",
            "facility",
            [f"{facility:05d}"],
            [f"chapter={chapter_number};inpatient={setting}"],
        )

    # a visit billed hundreds of times the going cost of its chapter and setting
    outliers = _pick(
        rng, eligible & ~inflated & (group_size >= PEER_GROUP_MIN), rates.cost_outlier, used, holder
    )
    typical = np.where(visits.inpatient[outliers], TYPICAL_COST[True], TYPICAL_COST[False])
    sigmas = rng.uniform(*OUTLIER_SIGMAS, len(outliers))
    total[outliers] = np.round(typical * np.exp(sigmas * OUTLIER_SIGMA), -3).astype(np.int64)
    visits = Visits(
        visits.holder,
        visits.admitted,
        visits.discharged,
        visits.inpatient,
        visits.facility,
        visits.diagnosis,
        total,
        insurer_paid(total, cards, holder),
    )
    extra: list[Visits] = []

    # the same claim twice: a copy, minutes later the same day, at a near-equal cost
    twice = _pick(rng, eligible, rates.duplicate_claim, used, holder)
    copy = visits.take(twice)
    day_end = copy.day() * MINUTES_PER_DAY + MINUTES_PER_DAY - 1
    shift = np.minimum(rng.integers(0, 31, len(twice)), day_end - copy.admitted)
    near = copy.total * (1 + rng.uniform(-NEAR_EQUAL, NEAR_EQUAL, len(twice)))
    cost = np.round(near, -2).astype(np.int64)
    extra.append(
        Visits(
            copy.holder,
            copy.admitted + shift,
            copy.discharged + shift,
            copy.inpatient,
            copy.facility,
            copy.diagnosis,
            cost,
            insurer_paid(cost, cards, copy.holder),
        )
    )
    truth.add("duplicate_claim", "card", cards.code.take(pa.array(copy.holder)))

    # a second inpatient stay, elsewhere, inside the first one
    overlap = _pick(rng, eligible & visits.inpatient, rates.overlapping_inpatient, used, holder)
    base = visits.take(overlap)
    length = base.discharged - base.admitted
    start = base.admitted + np.floor(rng.uniform(0.1, 0.6, len(overlap)) * length).astype(np.int64)
    end = start + np.maximum(60, np.floor(rng.uniform(0.2, 0.4, len(overlap)) * length)).astype(
        np.int64
    )
    elsewhere = draw_facility(rng, cards.province[base.holder], provinces)
    elsewhere = np.where(elsewhere == base.facility, base.facility + 1, elsewhere).astype(np.int32)
    extra.append(_new_visits(rng, cards, base.holder, start, end, True, elsewhere))
    truth.add("overlapping_inpatient", "card", cards.code.take(pa.array(base.holder)))

    # an outpatient visit in another province an hour or two after one at home
    away = _pick(rng, eligible & ~visits.inpatient, rates.two_provinces_same_day, used, holder)
    base = visits.take(away)
    count = len(provinces.codes)
    # another province than the first visit's facility (which may be a central hospital)
    where = np.searchsorted(provinces.codes, base.facility // 1000)
    other = (where + rng.integers(1, count, len(away))) % count
    start = base.discharged + rng.integers(20, 151, len(away))
    end = start + rng.integers(20, 61, len(away))
    far = draw_facility(rng, other.astype(np.int16), provinces)
    extra.append(_new_visits(rng, cards, base.holder, start, end, False, far))
    truth.add("two_provinces_same_day", "card", cards.code.take(pa.array(base.holder)))

    extra.append(
        _many_visits(
            rng,
            visits,
            cards,
            population,
            rates.visits_per_card_outlier,
            per_person,
            today,
            used,
            truth,
        )
    )
    for more in extra:
        visits = visits.append(more)
    return VisitFrauds(visits, outliers)


def _new_visits(
    rng: np.random.Generator,
    cards: Cards,
    holder: I64,
    start: I64,
    end: I64,
    inpatient: bool,
    facility: npt.NDArray[np.int32],
) -> Visits:
    size = len(holder)
    diagnosis = rng.choice(len(ICD10_CODES), size, p=diagnosis_weights(inpatient=inpatient))
    median = TYPICAL_COST[inpatient]
    total = np.round(rng.lognormal(np.log(median), 0.8, size), -2).astype(np.int64)
    return Visits(
        holder.astype(np.int64),
        start.astype(np.int64),
        end.astype(np.int64),
        np.full(size, inpatient),
        facility.astype(np.int32),
        diagnosis.astype(np.int64),
        total,
        insurer_paid(total, cards, holder),
    )


def _many_visits(
    rng: np.random.Generator,
    visits: Visits,
    cards: Cards,
    population: Population,
    rate: float,
    per_person: float,
    today: date,
    used: Mask,
    truth: FraudTruth,
) -> Visits:
    """Cards used far more often than their peers: many outpatient visits on days the card was
    not otherwise used, at its own facility (a card lent to others, or phantom visits)."""
    today_days = days_since_epoch(today)
    first_day = np.maximum.reduce(
        [
            cards.valid_from.astype(np.int64),
            population.dob[cards.person].astype(np.int64),
            np.full(len(cards.person), today_days - DAYS_BACK),
        ]
    )
    span = today_days - first_day
    chosen = np.flatnonzero(~used & (span >= 300) & (rng.random(len(used)) < rate))
    used[chosen] = True
    wanted = np.round(
        rng.uniform(1, 2, len(chosen)) * (EXTRA_VISITS_BASE + EXTRA_VISITS_PER_VISIT * per_person)
    ).astype(np.int64)
    mine = np.isin(visits.holder, chosen)
    busy = set((visits.holder[mine] * 100_000 + visits.day()[mine]).tolist())
    holders: list[I64] = []
    days: list[I64] = []
    for card, count, begin in zip(
        chosen.tolist(), wanted.tolist(), first_day[chosen].tolist(), strict=True
    ):
        free = np.array(
            [d for d in range(begin, today_days) if card * 100_000 + d not in busy], dtype=np.int64
        )
        picked = rng.choice(free, size=min(count, len(free)), replace=False)
        holders.append(np.full(len(picked), card, dtype=np.int64))
        days.append(np.sort(picked))
    holder = np.concatenate(holders) if holders else np.zeros(0, np.int64)
    day = np.concatenate(days) if days else np.zeros(0, np.int64)
    start = day * MINUTES_PER_DAY + 7 * 60 + rng.integers(0, 9 * 60, len(day))
    end = start + rng.integers(20, 121, len(day))
    truth.add("visits_per_card_outlier", "card", cards.code.take(pa.array(chosen)))
    return _new_visits(rng, cards, holder, start, end, False, cards.facility[holder])
