"""Synthetic data generator: a population registry, insurance records with known errors, and
the employers, participation, contributions, cards, visits, benefits and ground truth around them.

    from nidb.sim.generate import ErrorRates, generate
    summary = generate(Path("data"), people=100_000, seed=42, rates=ErrorRates(id_missing=0.1))

Layouts: ``shared/INTERCHANGE.md`` (registry, records) and ``docs/interchange.md`` (the rest).
"""

from nidb.sim.generate.config import (
    DEFAULT_TODAY,
    GENERATOR_VERSION,
    TABLES,
    ErrorRates,
    GenerationSummary,
    InjectedError,
    InvalidRates,
)
from nidb.sim.generate.core import STAGES, generate

__all__ = [
    "DEFAULT_TODAY",
    "GENERATOR_VERSION",
    "STAGES",
    "TABLES",
    "ErrorRates",
    "GenerationSummary",
    "InjectedError",
    "InvalidRates",
    "generate",
]
