"""Every rule on a generated data set with injected frauds: precision and recall ≥ 0.95.

The data set is imported into the store (SQLite and PostgreSQL), exported and searched, the way
`nidb detect` runs. Identity errors are switched off: which BHXH code is which citizen is the
identity layer's job (tests/identity), and here a wrong link would be a miss of the identity
layer counted against a rule. The fraud rates are raised so that every rule has cases.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from nidb.cli import app
from nidb.cli.demo import IMPORT_ORDER
from nidb.detect import RULES, find, run_detection, select_rules
from nidb.detect.evaluate import RuleScore, read_truth, score
from nidb.detect.synthetic import snapshot_from_generated
from nidb.ingest.loader import import_file
from nidb.sim.generate import ErrorRates, generate

RATES = ErrorRates(
    id_missing=0.0,
    id_wrong=0.0,
    id_old_cmnd=0.0,
    id_other_person=0.0,
    not_in_registry=0.0,
    benefit_after_death=0.5,
    card_after_death=0.5,
    overlapping_inpatient=0.05,
    two_provinces_same_day=0.01,
    duplicate_claim=0.01,
    cost_outlier=0.005,
    facility_cost_outlier=0.5,
    visits_per_card_outlier=0.004,
    employer_under_declared=0.2,
    contributions_stopped=0.2,
)
MINIMUM = 0.95


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("frauds")
    generate(folder, 12_000, 21, rates=RATES, visits_per_person=4.0)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _load(engine: Engine, folder: Path) -> None:
    for kind in IMPORT_ORDER:
        report = import_file(engine, kind, folder / f"{kind}.csv")
        assert report.rejected == 0, (kind, report.rejected_by_rule)


def _low(scores: list[RuleScore]) -> list[RuleScore]:
    return [s for s in scores if (s.precision or 0) < MINIMUM or (s.recall or 0) < MINIMUM]


def test_every_injected_pattern_is_found_with_precision_and_recall_of_at_least_095(
    engine: Engine, generated: Path, cli: CliRunner
) -> None:
    _load(engine, generated)
    truth = read_truth(generated / "frauds.csv")
    assert set(truth) == set(RULES)  # the generator injects cases of every rule
    assert all(len(subjects) >= 3 for subjects in truth.values()), {
        rule: len(s) for rule, s in truth.items()
    }
    scores = score(run_detection(engine), truth)
    assert not _low(scores), _low(scores)

    run = cli.invoke(app, ["detect", "--evaluate", str(generated / "frauds.csv")])
    assert run.exit_code == 0, run.output
    assert "evaluation against injected frauds" in run.output
    assert "contributions_stopped" in run.output and "1.000" in run.output
    missing = cli.invoke(app, ["detect", "--evaluate", str(generated / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv" in missing.output
    wrong = cli.invoke(app, ["detect", "--evaluate", str(generated / "employers.csv")])
    assert wrong.exit_code == 2 and "not a frauds file" in wrong.output


def test_the_snapshot_made_straight_from_generated_files_scores_as_well(
    generated: Path, tmp_path: Path
) -> None:
    rows = snapshot_from_generated(generated, tmp_path / "snapshot")
    assert rows["health_visits"] > 40_000 and rows["identity_links"] > 0
    scores = score(
        find(tmp_path / "snapshot", select_rules(None)), read_truth(generated / "frauds.csv")
    )
    assert [s.rule for s in scores] == list(RULES)
    assert not _low(scores), _low(scores)
