"""Who is insured and how: each person's beneficiary group, and who is missing from the registry."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from nidb.sim.generate.health import Group
from nidb.sim.generate.population import Population, days_since_epoch

NOT_INSURED = -1
EMPLOYEE = 100
"""Placeholder group until the employer's type decides between DN and HC."""

RETIREMENT_AGE_MALE = 61
RETIREMENT_AGE_FEMALE = 57
"""Roughly the 2026 retirement ages (rising by steps under the 2019 Labour Code)."""

# (lowest age, {group: probability}); the rest of each band has no insurance record.
_BANDS: tuple[tuple[int, dict[int, float]], ...] = (
    (0, {Group.TE: 0.98}),
    (6, {Group.HS: 0.93, Group.GD: 0.03}),
    (18, {Group.SV: 0.38, EMPLOYEE: 0.25, Group.GD: 0.15, Group.CN: 0.02}),
    (23, {EMPLOYEE: 0.46, Group.GD: 0.32, Group.CN: 0.04, Group.QN: 0.006, Group.CA: 0.004}),
)
_RETIRED: dict[int, float] = {Group.HT: 0.34, Group.GD: 0.42, Group.CN: 0.05, Group.CC: 0.03}
_VERY_OLD: dict[int, float] = {
    Group.HT: 0.30,
    Group.BT: 0.25,
    Group.GD: 0.30,
    Group.CN: 0.04,
    Group.CC: 0.04,
}


def age_at_last_day(population: Population, today: date) -> npt.NDArray[np.float64]:
    """Age in years at ``today``, or at death for the dead."""
    end = np.where(population.dead, population.death_date, days_since_epoch(today))
    return np.asarray((end - population.dob) / 365.2425, dtype=np.float64)


def _draw(
    rng: np.random.Generator,
    mask: npt.NDArray[np.bool_],
    shares: dict[int, float],
    groups: npt.NDArray[np.int16],
) -> None:
    count = int(mask.sum())
    codes = np.array([*shares.keys(), NOT_INSURED], dtype=np.int16)
    weights = np.array([*shares.values(), max(0.0, 1.0 - sum(shares.values()))])
    groups[mask] = rng.choice(codes, size=count, p=weights / weights.sum())


def assign_groups(
    rng: np.random.Generator, population: Population, today: date
) -> npt.NDArray[np.int16]:
    """Each person's beneficiary group (`Group`), `EMPLOYEE`, or `NOT_INSURED`."""
    age = age_at_last_day(population, today)
    groups = np.full(population.size, NOT_INSURED, dtype=np.int16)
    retired = age >= np.where(population.male, RETIREMENT_AGE_MALE, RETIREMENT_AGE_FEMALE)
    limits = [low for low, _ in _BANDS[1:]] + [1000]
    for (low, shares), high in zip(_BANDS, limits, strict=True):
        _draw(rng, (age >= low) & (age < high) & ~retired, shares, groups)
    _draw(rng, retired & (age < 80), _RETIRED, groups)
    _draw(rng, retired & (age >= 80), _VERY_OLD, groups)
    # Army and police are drawn for men only; women of that band become employees.
    armed = np.isin(groups, [Group.QN, Group.CA]) & ~population.male
    groups[armed] = EMPLOYEE
    return groups


def choose_outsiders(
    rng: np.random.Generator, population: Population, groups: npt.NDArray[np.int16], count: int
) -> None:
    """Take ``count`` living insured people out of the registry (they keep their records)."""
    candidates = np.flatnonzero((groups != NOT_INSURED) & ~population.dead)
    chosen = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
    population.in_registry[np.sort(chosen)] = False


def outsider_count(people: int, share_of_records: float) -> int:
    """People to invent beyond the registry so that about ``share_of_records`` of records
    belong to people who are not in it (about 88% of registry people have a record)."""
    if share_of_records <= 0:
        return 0
    insured = 0.88 * people
    return round(insured * share_of_records / (1.0 - share_of_records))
