"""Employers (đơn vị sử dụng lao động) and which employee works where."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from nidb.domain.names import strip_diacritics
from nidb.sim.generate import columns as col
from nidb.sim.generate.places import (
    BRAND_WORDS,
    BUSINESS_LINES,
    COMMUNES,
    COMPANY_FORMS,
    SECTOR_WORDS,
    STATE_UNIT_FORMS,
    ProvinceTable,
)
from nidb.sim.generate.population import make_addresses

EMPLOYEES_PER_EMPLOYER = 25
MIN_EMPLOYERS = 5
CLOSED_SHARE = 0.03
BRANCH_SHARE = 0.08
UNDER_DECLARING_SHARE = 0.15
WORKING_ELSEWHERE_SHARE = 0.10

ENTERPRISE, STATE, HOUSEHOLD_BUSINESS, COOPERATIVE, OTHER = range(5)
EMPLOYER_TYPES = ("enterprise", "state", "household_business", "cooperative", "other")
_TYPE_SHARES = (0.84, 0.10, 0.03, 0.02, 0.01)
_TYPE_SIZE_FACTOR = np.array([1.0, 2.0, 0.15, 0.5, 0.5])
_STATE_LINES = ("8411", "8521", "8522", "8610", "8412")


@dataclass
class Employers:
    """Employers as arrays; the first ``active`` ones employ people today, the rest are closed."""

    province: npt.NDArray[np.int16]
    kind: npt.NDArray[np.int8]
    size_weight: npt.NDArray[np.float64]
    code: pa.Array
    closed: npt.NDArray[np.bool_]

    @property
    def count(self) -> int:
        """Number of employers."""
        return len(self.province)

    def is_state(self) -> npt.NDArray[np.bool_]:
        """Public bodies: their employees are civil servants (group HC)."""
        return np.asarray(self.kind == STATE)


def _codes(rng: np.random.Generator, count: int) -> pa.Array:
    """Unit codes ``TA`` + 4 digits + a letter, unique; more prefixes if one is not enough."""
    per_prefix = 10_000 * 26
    prefixes = [f"T{chr(ord('A') + k)}" for k in range(26)]
    space = per_prefix * max(1, -(-count * 2 // per_prefix))
    drawn = rng.choice(space, size=count, replace=False)
    prefix, rest = np.divmod(drawn, per_prefix)
    number, letter = np.divmod(rest, 26)
    return col.join(
        [
            col.strings(prefixes, prefix),
            col.digits(number, 4),
            col.strings([chr(ord("A") + k) for k in range(26)], letter),
        ],
        "",
    )


def make_employers(
    rng: np.random.Generator, provinces: ProvinceTable, employee_province: npt.NDArray[np.int16]
) -> tuple[Employers, npt.NDArray[np.int32]]:
    """Invent employers for the employees living in ``employee_province``; return the employers
    and each employee's employer (an index into them)."""
    province_count = len(provinces.codes)
    per_province = np.bincount(employee_province, minlength=province_count)
    wanted = np.round(per_province / EMPLOYEES_PER_EMPLOYER).astype(np.int64)
    wanted[(per_province > 0) & (wanted == 0)] = 1
    shortfall = MIN_EMPLOYERS - int(wanted.sum())
    if shortfall > 0:
        wanted += np.bincount(
            rng.choice(province_count, shortfall, p=provinces.weights), minlength=province_count
        )
    active = int(wanted.sum())
    province = np.repeat(np.arange(province_count, dtype=np.int16), wanted)
    kind = rng.choice(5, size=active, p=_TYPE_SHARES).astype(np.int8)
    size_weight = rng.lognormal(0.0, 1.2, active) * _TYPE_SIZE_FACTOR[kind]

    employer = np.empty(len(employee_province), dtype=np.int32)
    first = np.cumsum(wanted) - wanted
    u = rng.random(len(employee_province))
    for p in np.flatnonzero(per_province):
        members = np.flatnonzero(employee_province == p)
        weights = np.cumsum(size_weight[first[p] : first[p] + wanted[p]])
        picked = np.searchsorted(weights, u[members] * weights[-1], side="right")
        employer[members] = first[p] + np.minimum(picked, wanted[p] - 1)
    elsewhere = rng.random(len(employee_province)) < WORKING_ELSEWHERE_SHARE
    overall = np.cumsum(size_weight)
    picked = np.searchsorted(overall, rng.random(int(elsewhere.sum())) * overall[-1], "right")
    employer[elsewhere] = np.minimum(picked, active - 1)

    closed_count = max(1, round(active * CLOSED_SHARE))
    province = np.concatenate(
        [province, rng.choice(province_count, closed_count, p=provinces.weights).astype(np.int16)]
    )
    kind = np.concatenate([kind, np.full(closed_count, ENTERPRISE, dtype=np.int8)])
    size_weight = np.concatenate([size_weight, np.full(closed_count, float(np.mean(size_weight)))])
    closed = np.arange(active + closed_count) >= active
    employers = Employers(province, kind, size_weight, _codes(rng, len(province)), closed)
    return employers, employer


def _names(
    rng: np.random.Generator,
    employers: Employers,
    provinces: ProvinceTable,
    branch_of: npt.NDArray[np.int64],
) -> list[str]:
    count = employers.count
    forms = [f for f, _ in COMPANY_FORMS]
    form_weights = np.array([w for _, w in COMPANY_FORMS])
    form = rng.choice(len(forms), count, p=form_weights / form_weights.sum())
    sector = rng.integers(0, len(SECTOR_WORDS), count)
    brand = rng.integers(0, len(BRAND_WORDS), count)
    place = rng.integers(0, len(COMMUNES), count)
    unit = rng.integers(0, len(STATE_UNIT_FORMS), count)
    names: list[str] = []
    for i, kind in enumerate(employers.kind.tolist()):
        if kind == STATE:
            names.append(f"{STATE_UNIT_FORMS[unit[i]]} {COMMUNES[place[i]]}")
        elif kind == HOUSEHOLD_BUSINESS:
            names.append(f"Hộ kinh doanh {BRAND_WORDS[brand[i]]}")
        elif kind == COOPERATIVE:
            names.append(f"Hợp tác xã Nông nghiệp {COMMUNES[place[i]]}")
        elif kind == OTHER:
            names.append(f"Văn phòng Luật sư {BRAND_WORDS[brand[i]]}")
        else:
            names.append(f"{forms[form[i]]} {SECTOR_WORDS[sector[i]]} {BRAND_WORDS[brand[i]]}")
    for i in np.flatnonzero(branch_of >= 0).tolist():
        names[i] = f"Chi nhánh {names[branch_of[i]]} tại {provinces.names[employers.province[i]]}"
    return names


def employers_table(
    rng: np.random.Generator,
    employers: Employers,
    provinces: ProvinceTable,
    employer_of: npt.NDArray[np.int32],
    alive_employee: npt.NDArray[np.bool_],
) -> pa.Table:
    """The `employers` file: one row per employer, in the interchange layout."""
    count = employers.count
    enterprise_like = employers.kind == ENTERPRISE
    base = rng.choice(7_000_000_000, size=count, replace=False) + 100_000_000
    branch = enterprise_like & ~employers.closed & (rng.random(count) < BRANCH_SHARE)
    heads = np.flatnonzero(enterprise_like & ~branch)
    branch_of = np.full(count, -1, dtype=np.int64)
    if len(heads):
        branch_of[branch] = rng.choice(heads, size=int(branch.sum()))
    else:
        branch[:] = False
    base_text = col.digits(np.where(branch, base[np.maximum(branch_of, 0)], base), 10)
    suffix = col.digits(rng.integers(1, 4, count), 3)
    enterprise_code = col.pick([base_text, col.join([base_text, suffix], "-")], branch)
    enterprise_code = col.nullify(enterprise_code, employers.kind == HOUSEHOLD_BUSINESS)

    headcount = np.bincount(employer_of[alive_employee], minlength=count)
    declared = np.where(
        rng.random(count) < UNDER_DECLARING_SHARE,
        np.floor(headcount * rng.uniform(0.5, 0.95, count)),
        headcount,
    ).astype(np.int64)
    declared[employers.closed] = 0

    line_codes = [code for code, _ in BUSINESS_LINES]
    business_line = col.pick(
        [
            col.strings(line_codes, rng.integers(0, len(line_codes), count)),
            col.strings(_STATE_LINES, rng.integers(0, len(_STATE_LINES), count)),
        ],
        employers.is_state(),
    )
    slugs = [strip_diacritics(b).lower().replace(" ", "") for b in BRAND_WORDS]
    email = col.join(
        [
            col.strings(["lienhe@"], np.zeros(count, np.int64)),
            col.strings(slugs, rng.integers(0, len(slugs), count)),
            col.digits(rng.integers(1, 1000, count), 1),
            col.strings([".vn"], np.zeros(count, np.int64)),
        ],
        "",
    )
    return pa.table(
        {
            "employer_code": employers.code,
            "enterprise_code": enterprise_code,
            "name": pa.array(_names(rng, employers, provinces, branch_of), pa.string()),
            "province": col.digits(provinces.codes[employers.province], 2),
            "address": make_addresses(rng, employers.province, provinces)[0],
            "business_line": business_line,
            "employer_type": col.strings(EMPLOYER_TYPES, employers.kind),
            "registered_workers": col.integers(declared),
            "status": col.strings(["active", "closed"], employers.closed.astype(np.int64)),
            "phone": col.nullify(
                col.join(
                    [
                        col.strings(["02"], np.zeros(count, np.int64)),
                        col.digits(rng.integers(0, 10**9, count), 9),
                    ],
                    "",
                ),
                rng.random(count) < 0.2,
            ),
            "email": col.nullify(email, rng.random(count) < 0.5),
        }
    )
