"""`generate`: write a whole synthetic data set (registry, records, ... truth) for one seed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

import nidb
from nidb.sim.generate import columns as col
from nidb.sim.generate.benefits import make_benefits, mark_records
from nidb.sim.generate.cards import make_cards
from nidb.sim.generate.config import (
    DEFAULT_CONTRIBUTION_MONTHS,
    DEFAULT_TODAY,
    DEFAULT_VISITS_PER_PERSON,
    GENERATOR_VERSION,
    TABLES,
    ErrorRates,
    Format,
    GenerationSummary,
    InjectedError,
)
from nidb.sim.generate.coverage import (
    contributions_table,
    draw_wages,
    participation_table,
    plan_coverage,
)
from nidb.sim.generate.employers import employers_table, make_employers
from nidb.sim.generate.errors import TokenForms
from nidb.sim.generate.frauds import (
    FraudTruth,
    inject_visit_frauds,
    stop_contributions,
    under_declare,
)
from nidb.sim.generate.insured import EMPLOYEE, assign_groups, choose_outsiders, outsider_count
from nidb.sim.generate.places import build_provinces
from nidb.sim.generate.population import generate_population
from nidb.sim.generate.records import records_and_truth
from nidb.sim.generate.registry import registry_table
from nidb.sim.generate.visits import draw_visits, visit_ids
from nidb.sim.generate.vocabulary import build_vocabulary

Progress = Callable[[str, int, int], None]

STAGES = (
    "population",
    "registry",
    "employers",
    "records",
    "participation",
    "contributions",
    "cards",
    "visits",
    "benefits",
)
"""Steps reported to ``progress`` as (stage, steps done, len(STAGES))."""


def _write(table: pa.Table, out_dir: Path, name: str, fmt: Format) -> int:
    """Write one table atomically (temporary file, then rename); return its row count."""
    path = out_dir / f"{name}.{fmt}"
    partial = out_dir / f".{name}.{fmt}.partial"
    if fmt == "csv":
        pa_csv.write_csv(table, partial)
    else:
        pq.write_table(table, partial)
    os.replace(partial, path)
    return int(table.num_rows)


def _ignore(stage: str, done: int, total: int) -> None:
    return None


def generate(
    out_dir: Path,
    people: int,
    seed: int,
    *,
    rates: ErrorRates | None = None,
    fmt: Format = "csv",
    today: date | None = None,
    progress: Progress | None = None,
    contribution_months: int = DEFAULT_CONTRIBUTION_MONTHS,
    visits_per_person: float = DEFAULT_VISITS_PER_PERSON,
) -> GenerationSummary:
    """Write a synthetic registry, insurance records and everything around them to ``out_dir``.

    The same ``seed``, ``people``, ``rates``, ``today`` and options give byte-identical files
    (with the same versions of nidb, numpy and pyarrow). ``people`` is the number of registry
    rows; records cover about 88% of them plus people missing from the registry. ``progress``
    is called as (stage, stages done, stage count) before each stage and once at the end.
    """
    if people < 1:
        raise ValueError(f"people must be at least 1, not {people}")
    if seed < 0:
        raise ValueError(f"seed must not be negative, not {seed}")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if contribution_months < 0:
        raise ValueError(f"contribution_months must not be negative, not {contribution_months}")
    if visits_per_person < 0:
        raise ValueError(f"visits_per_person must not be negative, not {visits_per_person}")
    rates = rates or ErrorRates()
    today = today or DEFAULT_TODAY
    report = progress or _ignore
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # one more stream than stages, for the injected frauds: appending it keeps the others as
    # they were
    *spawned, fraud_rng = np.random.default_rng(seed).spawn(len(STAGES) + 1)
    streams = dict(zip(STAGES, spawned, strict=True))
    frauds = FraudTruth()
    steps = iter(range(len(STAGES)))

    def stage(name: str) -> np.random.Generator:
        report(name, next(steps), len(STAGES))
        return streams[name]

    rows: dict[str, int] = {}
    provinces = build_provinces(today)
    vocab = build_vocabulary()
    forms = TokenForms.of(vocab.tokens)

    rng = stage("population")
    extra = outsider_count(people, rates.not_in_registry)
    population = generate_population(rng, people + extra, today, rates, provinces, vocab)
    groups = assign_groups(rng, population, today)
    choose_outsiders(rng, population, groups, extra)

    stage("registry")
    rows["registry"] = _write(
        registry_table(population, forms, provinces), out_dir, "registry", fmt
    )

    rng = stage("employers")
    employees = np.flatnonzero(groups == EMPLOYEE)
    employers, works_at = make_employers(
        rng, provinces, population.household_province[population.household[employees]]
    )
    employer_of = np.full(population.size, -1, dtype=np.int32)
    employer_of[employees] = works_at
    alive = ~population.dead[employees]
    table = employers_table(rng, employers, provinces, works_at, alive)
    table = under_declare(
        fraud_rng, table, employers, works_at, alive, rates.employer_under_declared, frauds
    )
    rows["employers"] = _write(table, out_dir, "employers", fmt)
    coverage = plan_coverage(
        rng, population, groups, employer_of, employers, provinces, rates.duplicate_bhxh, today
    )

    rng = stage("records")
    records, truth = records_and_truth(
        rng, population, coverage, employers, provinces, forms, rates, today
    )
    rows["records"] = _write(records, out_dir, "records", fmt)
    record_codes = records.column("bhxh_code")
    del records

    stage("participation")
    table = participation_table(coverage, population, employers)
    rows["participation"] = _write(table, out_dir, "participation", fmt)

    rng = stage("contributions")
    wages = draw_wages(rng, coverage, employers, provinces, contribution_months, today)
    paid = stop_contributions(
        fraud_rng,
        wages,
        coverage,
        employers,
        contribution_months,
        rates.contributions_stopped,
        today,
        frauds,
    )
    table = contributions_table(paid, coverage, employers)
    rows["contributions"] = _write(table, out_dir, "contributions", fmt)
    del table

    rng = stage("cards")
    cards = make_cards(rng, coverage, population, provinces, today)
    rows["cards"] = _write(cards.table(), out_dir, "cards", fmt)

    rng = stage("visits")
    drawn, after_death = draw_visits(
        rng, cards, population, provinces, visits_per_person, rates.card_after_death, today
    )
    injected = inject_visit_frauds(
        fraud_rng,
        drawn,
        after_death,
        cards,
        population,
        provinces,
        rates,
        visits_per_person,
        today,
        frauds,
    )
    table, visit_number = injected.visits.table(rng, cards)
    frauds.add("cost_outlier", "visit", visit_ids(visit_number[injected.cost_outliers]))
    rows["visits"] = _write(table, out_dir, "visits", fmt)
    del table, drawn, injected, visit_number

    rng = stage("benefits")
    benefits = make_benefits(rng, population, coverage, wages, rates.benefit_after_death, today)
    rows["benefits"] = _write(benefits.table(), out_dir, "benefits", fmt)
    truth = mark_records(
        truth,
        record_codes,
        benefits.codes_paid_after_death(),
        InjectedError.BENEFIT_AFTER_DEATH.value,
    )
    rows["truth"] = _write(truth, out_dir, "truth", fmt)
    frauds.add("benefit_after_death", "person", col.digits(benefits.codes_paid_after_death(), 10))
    rows["frauds"] = _write(frauds.table(), out_dir, "frauds", fmt)
    report("done", len(STAGES), len(STAGES))

    ordered = {name: rows[name] for name in TABLES}
    manifest = {
        "generator": "nidb.sim.generate",
        "generator_version": GENERATOR_VERSION,
        "nidb_version": nidb.__version__,
        "seed": seed,
        "people": people,
        "format": fmt,
        "today": today.isoformat(),
        "contribution_months": contribution_months,
        "visits_per_person": visits_per_person,
        "rates": rates.as_dict(),
        "files": {f"{name}.{fmt}": count for name, count in ordered.items()},
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (out_dir / "manifest.json").write_text(text, encoding="utf-8")
    return GenerationSummary(out_dir=out_dir, format=fmt, seed=seed, people=people, rows=ordered)
