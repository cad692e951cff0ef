"""Insurance records as the insurer holds them, with injected errors, and their ground truth."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from nidb.sim.generate import columns as col
from nidb.sim.generate.config import ErrorRates, InjectedError
from nidb.sim.generate.coverage import NONE, Coverage
from nidb.sim.generate.employers import Employers
from nidb.sim.generate.errors import (
    TokenForms,
    error_text,
    inject_dob_errors,
    inject_gender_errors,
    inject_id_errors,
    inject_name_errors,
)
from nidb.sim.generate.places import ProvinceTable
from nidb.sim.generate.population import Population, make_addresses

I64 = npt.NDArray[np.int64]

SAME_ADDRESS_SHARE = 0.70
NO_ADDRESS_SHARE = 0.15
"""The rest of the records hold an older address somewhere else in the same province."""
NO_BIRTH_PROVINCE_SHARE = 0.15
MAX_RECORD_NUMBER = 999_999_999


def person_ids(index: npt.NDArray[np.integer]) -> pa.Array:
    """The generator's person identifiers: ``P`` + 9 digits."""
    prefix = col.strings(["P"], np.zeros(len(index), np.int64))
    return col.join([prefix, col.digits(index, 9)], "")


def _record_rows(
    rng: np.random.Generator, coverage: Coverage, rates: ErrorRates
) -> tuple[npt.NDArray[np.intp], I64, npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
    """Person, BHXH code, employer and "second code" flag of every record row, unshuffled."""
    holders = coverage.holders()
    doubles = np.flatnonzero(coverage.second_code >= 0)
    shared = holders[rng.random(len(holders)) < rates.shared_bhxh]
    person = np.concatenate([holders, doubles, shared])
    code = np.concatenate(
        [
            coverage.primary_code[holders],
            coverage.second_code[doubles],
            coverage.primary_code[shared],
        ]
    )
    employer = np.concatenate(
        [coverage.employer[holders], coverage.past_employer[doubles], coverage.employer[shared]]
    )
    second = np.zeros(len(person), dtype=bool)
    second[len(holders) : len(holders) + len(doubles)] = True
    return person, code, employer, second


def _household_neighbour(population: Population) -> I64:
    """For each registry person, the personal ID of another registry member of the household."""
    size = population.size
    household, registered = population.household, population.in_registry
    result = np.full(size, NONE, dtype=np.int64)
    for step in (-1, 1):  # prefer the next member; fall back to the previous one
        other = np.arange(size) + step
        inside = (other >= 0) & (other < size)
        other = np.clip(other, 0, size - 1)
        fits = inside & (household[other] == household) & registered[other] & registered
        result[fits] = population.personal_id[other[fits]]
    return result


def records_and_truth(
    rng: np.random.Generator,
    population: Population,
    coverage: Coverage,
    employers: Employers,
    provinces: ProvinceTable,
    forms: TokenForms,
    rates: ErrorRates,
    today: date,
) -> tuple[pa.Table, pa.Table]:
    """The `records` file and its `truth`, rows shuffled and sorted by record_id."""
    person, code, employer, second = _record_rows(rng, coverage, rates)
    order = rng.permutation(len(person))
    person, code, employer, second = person[order], code[order], employer[order], second[order]
    size = len(person)

    names, name_errors = inject_name_errors(
        rng,
        rates,
        forms,
        population.family[person],
        population.middle1[person],
        population.middle2[person],
        population.given[person],
    )
    dob, dob_errors = inject_dob_errors(
        rng, rates, population.dob[person], population.dob_precision[person], today
    )
    gender, gender_errors = inject_gender_errors(rng, rates, population.male[person])
    cmnd = population.cmnd[person]
    neighbour = _household_neighbour(population)[person]
    ids, id_errors = inject_id_errors(
        rng, rates, population.personal_id[person], cmnd, neighbour, population.personal_id
    )

    household = population.household[person]
    where = rng.random(size)
    elsewhere = where >= SAME_ADDRESS_SHARE + NO_ADDRESS_SHARE
    moved = np.flatnonzero(elsewhere)
    older_address = make_addresses(rng, population.household_province[household[moved]], provinces)[
        0
    ]
    address = col.replace_rows(
        population.household_address_old.take(pa.array(household)), moved, older_address
    )
    address = col.nullify(
        address, (where >= SAME_ADDRESS_SHARE) & (where < SAME_ADDRESS_SHARE + NO_ADDRESS_SHARE)
    )
    birth_province = col.digits(
        provinces.codes[population.birth_province[person]],
        3,
        rng.random(size) < NO_BIRTH_PROVINCE_SHARE,
    )

    gap = max(1, min(500, MAX_RECORD_NUMBER // max(size, 1) - 1))
    number = np.cumsum(rng.integers(1, 2 * gap, size))
    record_id = col.join([col.strings(["R"], np.zeros(size, np.int64)), col.digits(number, 9)], "")

    masks = {**name_errors, **dob_errors, **gender_errors, **id_errors}
    registered = population.in_registry[person]
    masks[InjectedError.DUPLICATE_BHXH] = second
    masks[InjectedError.NOT_IN_REGISTRY] = ~registered
    records = pa.table(
        {
            "record_id": record_id,
            "bhxh_code": col.digits(code, 10),
            "full_name": names,
            "date_of_birth": dob,
            "gender": gender,
            "personal_id": ids,
            "birth_province": birth_province,
            "address": address,
            "employer_code": col.strings(employers.code, employer),
        }
    )
    truth = pa.table(
        {
            "record_id": record_id,
            "person_id": person_ids(person),
            "personal_id": col.digits(population.personal_id[person], 12, ~registered),
            "errors": error_text(masks, size),
        }
    )
    return records, truth
