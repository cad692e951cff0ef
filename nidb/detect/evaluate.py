"""Precision and recall of each rule against the frauds the generator injected.

The generator's ``frauds`` file (nidb.sim.generate.frauds) names, for each injected fraud, the
rule that should find it and the subject an alert would be about. A finding counts as true when
its rule and subject are in that file; both sides are compared as sets of subjects, so a card
with two alerts of one rule is one hit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nidb.detect.runner import RuleResult


@dataclass(frozen=True, slots=True)
class RuleScore:
    """One rule's score: what it found, what was injected, and what they share."""

    rule: str
    found: int
    injected: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        """Share of the subjects found that were injected (None when nothing was found)."""
        return self.true_positives / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        """Share of the injected subjects found (None when nothing was injected)."""
        return self.true_positives / self.injected if self.injected else None


def read_truth(path: Path) -> dict[str, set[str]]:
    """Subjects per rule from a ``frauds`` file (CSV or Parquet)."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such truth file (the frauds file of nidb generate)")
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    else:
        options = pa_csv.ConvertOptions(column_types={"subject_id": "string", "rule": "string"})
        table = pa_csv.read_csv(path, convert_options=options)
    missing = {"rule", "subject_id"} - set(table.column_names)
    if missing:
        raise ValueError(
            f"{path}: not a frauds file, missing column(s) {', '.join(sorted(missing))}"
        )
    truth: dict[str, set[str]] = defaultdict(set)
    for rule, subject in zip(
        table.column("rule").to_pylist(), table.column("subject_id").to_pylist(), strict=True
    ):
        truth[str(rule)].add(str(subject))
    return dict(truth)


def score(results: Sequence[RuleResult], truth: dict[str, set[str]]) -> list[RuleScore]:
    """Each rule of ``results`` scored against ``truth``."""
    scores = []
    for result in results:
        name = result.rule.name
        found = {f.subject_id for f in result.findings}
        injected = truth.get(name, set())
        scores.append(RuleScore(name, len(found), len(injected), len(found & injected)))
    return scores
