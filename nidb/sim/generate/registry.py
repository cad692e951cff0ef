"""The population registry extract (`registry`): what the national population database holds.

Beside the INTERCHANGE columns it writes the optional column ``old_id``: the 9-digit number of
the person's old ID card (số CMND), which the national population database keeps for every
citizen who held one (people born before 2007, the cards having been issued from age 14 until
2021; see ``population.CMND_BORN_BEFORE_YEAR``), empty for the others. This is realism, not
tuning: a clerk who has only the old card types its number, and that number is evidence.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nidb.sim.generate import columns as col
from nidb.sim.generate.errors import TokenForms, full_names
from nidb.sim.generate.places import ProvinceTable
from nidb.sim.generate.population import Population


def registry_table(population: Population, forms: TokenForms, provinces: ProvinceTable) -> pa.Table:
    """The `registry` file: the people in the population registry, NFC, in household order."""
    rows = np.flatnonzero(population.in_registry)
    iso = col.days_text(population.dob[rows])
    precision = population.dob_precision[rows]
    dob = col.pick([iso, _slice(iso, 7), _slice(iso, 4)], precision)
    household = population.household[rows]
    code = population.household_code[household]
    dead = population.dead[rows]
    cmnd = population.cmnd[rows]
    return pa.table(
        {
            "personal_id": col.digits(population.personal_id[rows], 12),
            "full_name": full_names(
                forms.table(),
                len(forms.original),
                population.family[rows],
                population.middle1[rows],
                population.middle2[rows],
                population.given[rows],
            ),
            "date_of_birth": dob,
            "gender": col.strings(["F", "M"], population.male[rows].astype(np.int64)),
            "birth_province": col.digits(provinces.codes[population.birth_province[rows]], 3),
            "permanent_address": population.household_address.take(pa.array(household)),
            "household_id": col.digits(code, 10, code < 0),
            "status": col.strings(["alive", "dead"], dead.astype(np.int64)),
            "death_date": col.date32(population.death_date[rows], ~dead),
            "old_id": col.digits(np.maximum(cmnd, 0), 9, cmnd < 0),
        }
    )


def _slice(text: pa.Array, length: int) -> pa.Array:
    return pc.utf8_slice_codeunits(text, 0, length)
