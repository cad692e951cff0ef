"""Synthetic people in households: ages, sexes, names, birth places, IDs, deaths, addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from nidb.sim.generate import columns as col
from nidb.sim.generate.config import ErrorRates
from nidb.sim.generate.places import COMMUNES, STREETS, VILLAGES, ProvinceTable
from nidb.sim.generate.vocabulary import (
    MODERN_NAMING_FROM_YEAR,
    NO_MIDDLE_NAME_SHARE,
    TWO_MIDDLE_NAMES_SHARE,
    NamePart,
    NameVocabulary,
)

I8 = npt.NDArray[np.int8]
I16 = npt.NDArray[np.int16]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

EPOCH = date(1970, 1, 1)

HEAD, SPOUSE, CHILD, GRANDPARENT = 0, 1, 2, 3

HOUSEHOLD_SIZE_SHARES = (0.10, 0.20, 0.23, 0.25, 0.13, 0.09)
"""Shares of households of 1..6 people (mean ≈ 3.4, the 2019 census says 3.5)."""

PARTIAL_DOB_BEFORE_YEAR = 1960
YEAR_ONLY_SHARE = 0.20
YEAR_MONTH_SHARE = 0.04
CMND_BORN_BEFORE_YEAR = 2007
"""CMND cards were issued from age 14 until 2021: people born later never held one."""


def days_since_epoch(day: date) -> int:
    """A date as days since 1970-01-01."""
    return (day - EPOCH).days


def split_date(days: npt.NDArray[np.integer]) -> tuple[I32, I32, I32]:
    """Year, month and day of days since 1970-01-01."""
    as_days = np.asarray(days, dtype="datetime64[D]")
    months = as_days.astype("datetime64[M]")
    year = as_days.astype("datetime64[Y]").astype(np.int32) + 1970
    month = months.astype(np.int32) % 12 + 1
    day = (as_days - months.astype("datetime64[D]")).astype(np.int32) + 1
    return year, month, day


@dataclass
class Population:
    """Everyone the generator invents: registry people and those missing from the registry.

    Arrays are per person; ``household_*`` arrays are per household. Province values are rows of
    the `ProvinceTable`, not codes.
    """

    household: I32
    role: I8
    male: Bools
    dob: I32
    dob_precision: I8
    """0 full date, 1 year and month, 2 year only — as the registry holds it."""
    family: I16
    middle1: I16
    middle2: I16
    given: I16
    birth_province: I16
    personal_id: I64
    cmnd: I64
    dead: Bools
    death_date: I32
    in_registry: Bools
    household_province: I16
    household_code: I64
    household_address: pa.Array
    """As the registry writes it (province names current on the generator's today)."""
    household_address_old: pa.Array
    """The same address with the 63-province name, as older insurance records have it."""

    @property
    def size(self) -> int:
        """Number of people."""
        return len(self.household)

    def birth_year(self) -> I32:
        """Year of birth."""
        return split_date(self.dob)[0]


def _choice(rng: np.random.Generator, part: NamePart, count: int) -> I16:
    return np.asarray(rng.choice(part.tokens, size=count, p=part.weights), dtype=np.int16)


def unique_draws(rng: np.random.Generator, prefix: I64, scale: int, count: int) -> I64:
    """``prefix * scale + serial`` with serials drawn until every value is unique."""
    values = prefix * scale + rng.integers(0, scale, size=count, dtype=np.int64)
    for _ in range(100):
        # stable: which of two equal values is redrawn must not depend on the sort's SIMD path
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        clash = order[1:][ordered[1:] == ordered[:-1]]
        if len(clash) == 0:
            return values
        values[clash] = prefix[clash] * scale + rng.integers(0, scale, size=len(clash))
    raise RuntimeError("could not draw unique identifiers: the serial space is too small")


def _household_sizes(rng: np.random.Generator, people: int) -> I32:
    shares = np.asarray(HOUSEHOLD_SIZE_SHARES)
    mean = float((np.arange(1, 7) * shares).sum())
    sizes = rng.choice(6, size=int(people / mean * 1.1) + 16, p=shares).astype(np.int32) + 1
    while sizes.sum() < people:
        sizes = np.concatenate([sizes, rng.choice(6, size=64, p=shares).astype(np.int32) + 1])
    total = np.cumsum(sizes)
    count = int(np.searchsorted(total, people)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= int(total[count - 1]) - people
    return sizes


def _ages_by_role(
    rng: np.random.Generator,
    sizes: I32,
    household: I32,
    role: I8,
    n_children: I32,
    n_grand: I32,
    has_spouse: Bools,
) -> I16:
    households = len(sizes)
    u = rng.random(households)
    young_single = rng.integers(18, 41, households)
    old = np.clip(np.round(rng.gamma(3.0, 5.0, households)) + 55, 55, 98)
    young_couple = rng.integers(20, 36, households)
    parents = np.round(rng.triangular(21, 41, 76, households))
    with_grandparents = np.round(rng.triangular(23, 35, 56, households))
    head = np.where(
        n_children > 0,
        np.where(n_grand > 0, with_grandparents, parents),
        np.where(
            has_spouse, np.where(u < 0.35, young_couple, old), np.where(u < 0.45, young_single, old)
        ),
    )
    head_of = head[household]
    size = len(household)
    gap = rng.integers(19, 41, size)
    child = head_of - gap
    too_young = child < 0
    child[too_young] = np.floor(rng.random(int(too_young.sum())) * (head_of[too_young] - 17))
    spouse = np.clip(head_of + np.round(rng.normal(-2.5, 3.0, size)), 18, 98)
    grand = np.clip(head_of + rng.integers(20, 36, size), 40, 99)
    age = np.select(
        [role == HEAD, role == SPOUSE, role == CHILD],
        [head_of, spouse, np.maximum(child, 0)],
        grand,
    )
    return age.astype(np.int16)


def _middle_names(
    rng: np.random.Generator, vocab: NameVocabulary, male: Bools, modern: Bools
) -> tuple[I16, I16]:
    size = len(male)
    middle1 = np.empty(size, dtype=np.int16)
    middle2 = np.full(size, -1, dtype=np.int16)
    parts = (
        (male & ~modern, vocab.middle_male_old),
        (male & modern, vocab.middle_male_new),
        (~male & ~modern, vocab.middle_female_old),
        (~male & modern, vocab.middle_female_new),
    )
    u = rng.random(size)
    for mask, part in parts:
        middle1[mask] = _choice(rng, part, int(mask.sum()))
        second = mask & (u < TWO_MIDDLE_NAMES_SHARE)
        weights = part.weights * ~np.isin(part.tokens, list(vocab.common_middles))
        drawn = rng.choice(part.tokens, size=int(second.sum()), p=weights / weights.sum())
        middle2[second] = drawn
    middle2[middle2 == middle1] = -1
    none = u > 1.0 - NO_MIDDLE_NAME_SHARE
    middle1[none] = -1
    return middle1, middle2


def _given_names(rng: np.random.Generator, vocab: NameVocabulary, male: Bools) -> I16:
    given = np.empty(len(male), dtype=np.int16)
    given[male] = _choice(rng, vocab.given_male, int(male.sum()))
    given[~male] = _choice(rng, vocab.given_female, int((~male).sum()))
    return given


def _make_twins(
    rng: np.random.Generator,
    vocab: NameVocabulary,
    pop_role: I8,
    household: I32,
    rate: float,
    male: Bools,
    age: I16,
    names: tuple[I16, I16, I16],
) -> I32:
    """Mark children born with their previous sibling; return the index of that sibling or -1."""
    size = len(household)
    twin_of = np.full(size, -1, dtype=np.int32)
    if size < 2 or rate <= 0:
        return twin_of
    index = np.arange(1, size)
    candidate = (
        (pop_role[1:] == CHILD) & (pop_role[:-1] == CHILD) & (household[1:] == household[:-1])
    )
    chosen = index[candidate & (rng.random(size - 1) < rate)]
    twin_of[chosen] = chosen - 1
    middle1, middle2, given = names
    for person in chosen.tolist():  # twins are rare: a loop keeps chains (triplets) right
        sibling = person - 1
        age[person] = age[sibling]
        if male[person] == male[sibling] and rng.random() < 0.8:
            middle1[person], middle2[person] = middle1[sibling], middle2[sibling]
        part = vocab.given_male if male[person] else vocab.given_female
        while given[person] == given[sibling]:
            given[person] = _choice(rng, part, 1)[0]
    return twin_of


def make_addresses(
    rng: np.random.Generator, province: I16, provinces: ProvinceTable
) -> tuple[pa.Array, pa.Array]:
    """Addresses (house number, street or village, commune, province) in the given provinces,
    written with the 63-province names and with the names current on the generator's today."""
    size = len(province)
    urban = rng.random(size) < provinces.urban[province]
    number = col.digits(rng.integers(1, 300, size), 1)
    alley = col.join([number, col.digits(rng.integers(1, 40, size), 1)], "/")
    house = col.join(
        [
            col.strings(["Số"], np.zeros(size, np.int64)),
            col.pick([number, alley], rng.random(size) < 0.2),
        ],
        " ",
    )
    street = col.strings([f"đường {s}" for s in STREETS], rng.integers(0, len(STREETS), size))
    village = col.strings(VILLAGES, rng.integers(0, len(VILLAGES), size))
    commune_index = rng.integers(0, len(COMMUNES), size)
    ward = col.strings([f"phường {c}" for c in COMMUNES], commune_index)
    commune = col.strings([f"xã {c}" for c in COMMUNES], commune_index)
    urban_start = col.join([house, street], " ")
    written = []
    for names in (provinces.names, provinces.current_names):
        province_name = col.strings(names, province)
        urban_address = col.join([urban_start, ward, province_name], ", ")
        rural_address = col.join([house, village, commune, province_name], ", ")
        written.append(col.pick([rural_address, urban_address], urban))
    return written[0], written[1]


def generate_population(
    rng: np.random.Generator,
    people: int,
    today: date,
    rates: ErrorRates,
    provinces: ProvinceTable,
    vocab: NameVocabulary,
) -> Population:
    """Invent ``people`` people in households, all in the registry for now."""
    sizes = _household_sizes(rng, people)
    households = len(sizes)
    household = np.repeat(np.arange(households, dtype=np.int32), sizes)
    start = np.cumsum(sizes) - sizes
    position = np.arange(people, dtype=np.int32) - start[household]
    has_spouse = (sizes >= 2) & (rng.random(households) < 0.85)
    n_grand = ((sizes >= 4) & (rng.random(households) < 0.3)).astype(np.int32)
    n_grand += (
        (sizes - 1 - has_spouse - n_grand >= 2) & (n_grand > 0) & (rng.random(households) < 0.35)
    )
    n_children = sizes - 1 - has_spouse - n_grand
    size_of = sizes[household]
    role = np.full(people, CHILD, dtype=np.int8)
    role[position >= size_of - n_grand[household]] = GRANDPARENT
    role[(position == 1) & has_spouse[household]] = SPOUSE
    role[position == 0] = HEAD

    age = _ages_by_role(rng, sizes, household, role, n_children, n_grand, has_spouse)

    head_male = np.where(has_spouse, rng.random(households) < 0.8, rng.random(households) < 0.5)
    u = rng.random(people)
    first_grand = (role == GRANDPARENT) & (position == size_of - n_grand[household])
    male = np.select(
        [role == HEAD, role == SPOUSE, role == CHILD, first_grand],
        [head_male[household], ~head_male[household], u < 0.512, u < 0.4],
        np.zeros(people, dtype=bool),
    )
    second_grand = (role == GRANDPARENT) & ~first_grand
    male[second_grand] = ~male[np.flatnonzero(second_grand) - 1]

    # Names: everyone draws, then namesakes, twins and family lines overwrite.
    birth_year_guess = today.year - age
    modern = birth_year_guess >= MODERN_NAMING_FROM_YEAR
    family = _choice(rng, vocab.family, people)
    middle1, middle2 = _middle_names(rng, vocab, male, modern)
    given = _given_names(rng, vocab, male)
    twin_of = _make_twins(
        rng, vocab, role, household, rates.twins, male, age, (middle1, middle2, given)
    )

    dob = (
        days_since_epoch(today)
        - 1
        - np.round(age * 365.2425).astype(np.int32)
        - rng.integers(0, 365, people)
    ).astype(np.int32)
    for _ in range(8):  # copy dates of birth along twin chains
        twins = twin_of >= 0
        if np.array_equal(dob[twins], dob[twin_of[twins]]):
            break
        dob[twins] = dob[twin_of[twins]]
    birth_year = split_date(dob)[0]

    heads = np.flatnonzero(role == HEAD)
    order = heads[np.lexsort((birth_year[heads], male[heads]))]
    same = (male[order[1:]] == male[order[:-1]]) & (birth_year[order[1:]] == birth_year[order[:-1]])
    copy = np.flatnonzero(same & (rng.random(len(order) - 1) < rates.namesakes))
    for names in (family, middle1, middle2, given):
        names[order[copy + 1]] = names[order[copy]]

    head_index = start[household]
    father = np.where(
        head_male[household],
        head_index,
        np.where(has_spouse[household], head_index + 1, head_index),
    )
    family[role == CHILD] = family[father[role == CHILD]]
    paternal = (role == GRANDPARENT) & male & head_male[household]
    family[paternal] = family[head_index[paternal]]

    # Birth provinces: migrant households live in the big cities, their adults born elsewhere.
    migrant = rng.random(households) < 0.22
    household_province = np.where(
        migrant,
        rng.choice(len(provinces.codes), households, p=provinces.migration),
        rng.choice(len(provinces.codes), households, p=provinces.weights),
    ).astype(np.int16)
    origin = rng.choice(len(provinces.codes), people, p=provinces.weights).astype(np.int16)
    stay = np.where(role == CHILD, 0.93, np.where(migrant[household], 0.3, 0.88))
    birth_province = np.where(rng.random(people) < stay, household_province[household], origin)

    year_part = birth_year.astype(np.int64)
    century_sex = (year_part >= 2000) * 2 + ~male
    prefix = (provinces.codes[birth_province].astype(np.int64) * 10 + century_sex) * 100 + (
        year_part % 100
    )
    personal_id = unique_draws(rng, prefix, 1_000_000, people)
    has_cmnd = birth_year < CMND_BORN_BEFORE_YEAR
    cmnd = unique_draws(rng, np.zeros(people, np.int64), 400_000_000, people)
    cmnd[~has_cmnd] = -1

    precision = np.zeros(people, dtype=np.int8)
    partial = rng.random(people)
    old = birth_year < PARTIAL_DOB_BEFORE_YEAR
    precision[old & (partial < YEAR_ONLY_SHARE)] = 2
    precision[
        old & (partial >= YEAR_ONLY_SHARE) & (partial < YEAR_ONLY_SHARE + YEAR_MONTH_SHARE)
    ] = 1

    exact_age = (days_since_epoch(today) - dob) / 365.2425
    death_risk = np.select(
        [exact_age < 1, exact_age < 50, exact_age < 60, exact_age < 70, exact_age < 80],
        [0.004, 0.0012, 0.005, 0.015, 0.04],
        0.11,
    )
    dead = rng.random(people) < death_risk
    span = np.minimum(5 * 365, days_since_epoch(today) - 1 - dob)
    death_date = np.where(
        dead, days_since_epoch(today) - 1 - np.floor(rng.random(people) * span), -1
    ).astype(np.int32)

    household_code = unique_draws(
        rng, provinces.codes[household_province].astype(np.int64), 100_000_000, households
    )
    household_code[(sizes == 1) & (rng.random(households) < 0.03)] = -1
    address_old, address = make_addresses(rng, household_province, provinces)

    return Population(
        household=household,
        role=role,
        male=male,
        dob=dob,
        dob_precision=precision,
        family=family,
        middle1=middle1,
        middle2=middle2,
        given=given,
        birth_province=birth_province.astype(np.int16),
        personal_id=personal_id,
        cmnd=cmnd,
        dead=dead,
        death_date=death_date,
        in_registry=np.ones(people, dtype=bool),
        household_province=household_province,
        household_code=household_code,
        household_address=address,
        household_address_old=address_old,
    )
