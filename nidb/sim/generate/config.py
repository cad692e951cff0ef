"""Settings of the synthetic data generator: error rates, the summary it returns, constants."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

GENERATOR_VERSION = "3"
"""Bumped whenever the same seed would give different files."""

DEFAULT_TODAY = date(2026, 11, 1)
"""The generator's "today": fixed, so that a seed always gives the same files."""

DEFAULT_CONTRIBUTION_MONTHS = 6
DEFAULT_VISITS_PER_PERSON = 1.5

Format = Literal["csv", "parquet"]

TABLES = (
    "registry",
    "records",
    "employers",
    "participation",
    "contributions",
    "cards",
    "visits",
    "benefits",
    "truth",
    "frauds",
)
"""The files written, in the order they are written."""


class InjectedError(StrEnum):
    """Codes of the errors injected into `records`, as written in `truth.errors`."""

    NAME_NO_DIACRITICS = "NAME_NO_DIACRITICS"
    NAME_NFD = "NAME_NFD"
    NAME_UPPER = "NAME_UPPER"
    NAME_LEGACY_TONE = "NAME_LEGACY_TONE"
    NAME_TYPO = "NAME_TYPO"
    NAME_MIDDLE_MISSING = "NAME_MIDDLE_MISSING"
    DOB_YEAR_ONLY = "DOB_YEAR_ONLY"
    DOB_DAY_MONTH_SWAPPED = "DOB_DAY_MONTH_SWAPPED"
    DOB_FORMAT_DMY = "DOB_FORMAT_DMY"
    GENDER_MISSING = "GENDER_MISSING"
    GENDER_WRONG = "GENDER_WRONG"
    ID_MISSING = "ID_MISSING"
    ID_WRONG = "ID_WRONG"
    ID_OLD_CMND = "ID_OLD_CMND"
    ID_OTHER_PERSON = "ID_OTHER_PERSON"
    DUPLICATE_BHXH = "DUPLICATE_BHXH"
    NOT_IN_REGISTRY = "NOT_IN_REGISTRY"
    BENEFIT_AFTER_DEATH = "BENEFIT_AFTER_DEATH"
    """A monthly benefit under this record's BHXH code is still paid after the person died."""


class InvalidRates(ValueError):
    """An error rate is unknown, out of [0, 1], or a set of exclusive rates adds up past 1."""

    def __init__(self, name: str, value: object, reason: str) -> None:
        super().__init__(f"rate {name}={value!r}: {reason}")
        self.name = name
        self.value = value


@dataclass(frozen=True)
class ErrorRates:
    """Probabilities of the errors and population features the generator injects.

    Each ``name_*``, ``dob_*``, ``gender_*`` and ``id_*`` field is the probability that one
    `records` row gets that error, among the rows where the error can show (a name with
    diacritics, a date with a day, a person old enough to have held a CMND...). The field name in
    upper case is the code written to ``truth.errors``. Several errors can hit one row, except
    that a row gets at most one gender error and at most one ID error.
    """

    name_no_diacritics: float = 0.08
    name_nfd: float = 0.03
    name_upper: float = 0.05
    name_legacy_tone: float = 0.05
    """Among names with a syllable whose tone mark moves (Hòa → Hoà, Thủy → Thuỷ)."""
    name_typo: float = 0.02
    name_middle_missing: float = 0.02
    dob_year_only: float = 0.03
    dob_day_month_swapped: float = 0.01
    """Among full dates whose day is at most 12 and differs from the month."""
    dob_format_dmy: float = 0.20
    gender_missing: float = 0.02
    gender_wrong: float = 0.003
    id_missing: float = 0.06
    id_wrong: float = 0.01
    id_old_cmnd: float = 0.04
    """Among people born before 2007, who could have held a 9-digit CMND."""
    id_other_person: float = 0.001
    """Among people who share their household with someone."""
    duplicate_bhxh: float = 0.02
    """Share of insured adults holding a second BHXH code (a second record to merge, gộp sổ)."""
    not_in_registry: float = 0.02
    """Share of records whose person is not in the registry extract."""
    shared_bhxh: float = 0.005
    """Share of insured people with two record rows under one BHXH code (no error code)."""
    twins: float = 0.01
    """Probability that a child other than the first is the twin of the previous child."""
    namesakes: float = 0.01
    """Share of household heads given the full name of another head of their sex and birth year."""
    benefit_after_death: float = 0.10
    """Among monthly benefits (pension, survivors' allowance) still running when their holder
    died, the share left `active` in `benefits`: paid after death (BENEFIT_AFTER_DEATH)."""
    card_after_death: float = 0.15
    """Among the visits drawn after a holder's death on a card still active, the share kept:
    a card used after its holder died (rule card_after_death; `frauds` names the card)."""
    overlapping_inpatient: float = 0.002
    """Share of inpatient stays given a second stay at another facility inside them."""
    two_provinces_same_day: float = 0.001
    """Share of outpatient visits followed, an hour or two later, by one in another province."""
    duplicate_claim: float = 0.001
    """Share of visits claimed twice (a copy minutes later, cost within ±0.4%)."""
    cost_outlier: float = 0.0005
    """Share of visits billed 450 to 1,300 times the typical cost of their setting."""
    facility_cost_outlier: float = 0.01
    """Share of (facility, ICD-10 chapter, setting) groups of 50+ visits all billed 4–6 times."""
    visits_per_card_outlier: float = 0.0005
    """Share of cards given (1–2) × (40 + 8 × visits per person) extra visits over the year."""
    employer_under_declared: float = 0.02
    """Share of active employers of 10+ workers registering 1/0.6–1/0.3 times those insured."""
    contributions_stopped: float = 0.02
    """Share of active employers whose contributions stop for the last 3–5 months."""

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidRates(item.name, value, "must be a number")
            if not 0.0 <= float(value) <= 1.0:
                raise InvalidRates(item.name, value, "must be between 0 and 1")
        exclusive = {
            "gender_*": self.gender_missing + self.gender_wrong,
            "id_*": self.id_missing + self.id_wrong + self.id_old_cmnd + self.id_other_person,
        }
        for name, total in exclusive.items():
            if total > 1.0:
                raise InvalidRates(name, total, "these exclusive rates add up to more than 1")
        if self.not_in_registry >= 1.0:
            raise InvalidRates("not_in_registry", self.not_in_registry, "must be below 1")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The configurable rate names, in declaration order."""
        return tuple(item.name for item in dataclasses.fields(cls))

    def with_overrides(self, overrides: Mapping[str, float]) -> ErrorRates:
        """Return a copy with some rates replaced; unknown names raise `InvalidRates`."""
        known = set(self.names())
        for name, value in overrides.items():
            if name not in known:
                raise InvalidRates(name, value, f"unknown rate; known: {', '.join(self.names())}")
        return dataclasses.replace(self, **{k: float(v) for k, v in overrides.items()})

    def as_dict(self) -> dict[str, float]:
        """The rates by name, for the manifest."""
        return {name: float(getattr(self, name)) for name in self.names()}


@dataclass(frozen=True)
class GenerationSummary:
    """What `generate` wrote: the directory, the format and the row count of every file."""

    out_dir: Path
    format: Format
    seed: int
    people: int
    rows: Mapping[str, int] = field(default_factory=dict)
    """Rows per table, keyed by table name (``registry``, ``records``…) in file order."""

    def path(self, table: str) -> Path:
        """Path of one table's file."""
        return self.out_dir / f"{table}.{self.format}"

    @property
    def files(self) -> dict[str, int]:
        """Rows per file name (``registry.csv`` …)."""
        return {f"{table}.{self.format}": count for table, count in self.rows.items()}
