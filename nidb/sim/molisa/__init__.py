"""Stand-in for MOLISA's social-welfare database (CSDL về an sinh xã hội).

A real HTTP service holding welfare beneficiaries (personal ID, program `BTXH` / `HONGHEO` /
`NCC`, start and end date, monthly amount) with a change feed of `added` and `ended` events
(`GET /v1/changes?after=CURSOR&limit=N`), admin endpoints that make events, and the population
stand-in's fault injection. Run it with `serve` (`nidb sim molisa`) or build it with
`create_app` and run it on a thread with `nidb.sim.population.BackgroundServer`.
"""

from nidb.sim.molisa.app import (
    PROGRAMS,
    Beneficiary,
    WelfareRegistry,
    create_app,
    load_beneficiaries,
    serve,
)

__all__ = [
    "PROGRAMS",
    "Beneficiary",
    "WelfareRegistry",
    "create_app",
    "load_beneficiaries",
    "serve",
]
