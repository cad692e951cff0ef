"""Run the detection rules: export a Parquet snapshot, query it in DuckDB, store the alerts.

The snapshot is exported with :func:`nidb.ingest.export.export_snapshot` into a temporary folder
(or an existing export is read), so the rules never load the live store. Alerts are written in
one transaction; an alert already held for the same rule, subject and evidence key — whatever
its status, so a dismissed alert is not raised again — is not inserted a second time.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from nidb.detect.rules import RULES, Finding, Rule
from nidb.detect.rules_claims import COST_PEERS_VIEW
from nidb.store import models

DETECT_TABLES = (
    "citizens",
    "persons",
    "identity_links",
    "employers",
    "participation_periods",
    "contributions",
    "health_cards",
    "benefits",
    "health_visits",
)

HELPER_VIEWS = (
    """
    CREATE OR REPLACE TEMP VIEW holder_death AS
    WITH links AS (
        SELECT bhxh_code, verified_personal_id AS personal_id FROM persons
        WHERE verified_personal_id IS NOT NULL
        UNION
        SELECT bhxh_code, personal_id FROM identity_links WHERE valid_to IS NULL
    )
    SELECT l.bhxh_code, min(c.personal_id) AS personal_id, min(c.full_name) AS full_name,
           min(c.death_date) AS death_date
    FROM links l JOIN citizens c ON c.personal_id = l.personal_id
    WHERE c.death_date IS NOT NULL
    GROUP BY l.bhxh_code
    """,
    """
    CREATE OR REPLACE TEMP VIEW card_info AS
    SELECT card_code, max_by(bhxh_code, valid_from) AS bhxh_code,
           max_by(group_code, valid_from) AS group_code,
           max_by(province_code, valid_from) AS province_code
    FROM health_cards GROUP BY card_code
    """,
    """
    CREATE OR REPLACE TEMP VIEW code_province AS
    WITH by_card AS (
        SELECT bhxh_code, max_by(province_code, valid_from) AS province
        FROM health_cards GROUP BY bhxh_code
    ), by_employer AS (
        SELECT p.bhxh_code, min(e.province) AS province
        FROM persons p JOIN employers e ON e.employer_code = p.employer_code
        GROUP BY p.bhxh_code
    )
    SELECT coalesce(c.bhxh_code, e.bhxh_code) AS bhxh_code,
           coalesce(c.province, e.province) AS province
    FROM by_card c FULL OUTER JOIN by_employer e ON e.bhxh_code = c.bhxh_code
    """,
    COST_PEERS_VIEW,
)


class UnknownRule(ValueError):
    """A rule name that is not one of :data:`RULES`."""


@dataclass
class RuleResult:
    """What one rule found in this run and how many of those alerts are new."""

    rule: Rule
    findings: list[Finding] = field(default_factory=list)
    new: int = 0


def select_rules(names: Sequence[str] | None) -> list[Rule]:
    """The rules named (all when ``names`` is empty), in the order of :data:`RULES`."""
    if not names:
        return list(RULES.values())
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise UnknownRule(
            f"quy tắc không có (unknown rule): {', '.join(unknown)}; one of {', '.join(RULES)}"
        )
    return [rule for name, rule in RULES.items() if name in names]


def snapshot_files(snapshot_dir: Path) -> dict[str, Path]:
    """The Parquet file of each table the rules read; a missing one is an error."""
    files = {}
    for table in DETECT_TABLES:
        path = snapshot_dir / f"{table}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing from the snapshot (nidb export)")
        files[table] = path
    return files


def find(
    snapshot_dir: Path,
    rules: Sequence[Rule],
    on_rule: Callable[[RuleResult, float], None] | None = None,
) -> list[RuleResult]:
    """Run ``rules`` in DuckDB over the Parquet files of ``snapshot_dir``; nothing is stored.

    ``on_rule`` is called after each rule with its result and the seconds it took.
    """
    import duckdb

    files = snapshot_files(snapshot_dir)
    con = duckdb.connect()
    try:
        for table, path in files.items():
            quoted = str(path).replace("'", "''")
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{quoted}')")
        for view in HELPER_VIEWS:  # each is read by several rules: computed once
            con.execute(view.replace("TEMP VIEW", "TEMP TABLE", 1))
        results = []
        for rule in rules:
            started = time.perf_counter()
            cursor = con.execute(rule.sql)
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            result = RuleResult(rule, [rule.explain(row) for row in rows])
            results.append(result)
            if on_rule:
                on_rule(result, time.perf_counter() - started)
        return results
    finally:
        con.close()


_STORE_LOCK = 0x64657463  # "detc"


def store(engine: Engine, results: Sequence[RuleResult]) -> None:
    """Insert the findings not already held as alerts; sets each result's ``new``."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # two runs at once must not both insert an alert
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": _STORE_LOCK})
        for result in results:
            kind = result.rule.name
            held = {
                (subject, (detail or {}).get("evidence_key"))
                for subject, detail in conn.execute(
                    select(models.Alert.subject_id, models.Alert.detail).where(
                        models.Alert.kind == kind
                    )
                )
            }
            rows: list[dict[str, Any]] = []
            for f in result.findings:
                key = (f.subject_id, f.evidence_key)
                if key in held:
                    continue
                held.add(key)
                rows.append(
                    {
                        "kind": kind,
                        "province": f.province,
                        "subject_type": f.subject_type,
                        "subject_id": f.subject_id,
                        "detail": {
                            "rule": kind,
                            "evidence_key": f.evidence_key,
                            "explanation_vi": f.explanation_vi,
                            "explanation_en": f.explanation_en,
                            "evidence": f.evidence,
                        },
                    }
                )
            if rows:
                conn.execute(insert(models.Alert), rows)
            result.new = len(rows)


def run_detection(
    engine: Engine, rule_names: Sequence[str] | None = None, snapshot_dir: Path | None = None
) -> list[RuleResult]:
    """Export a snapshot (unless ``snapshot_dir`` holds one), run the rules, store new alerts."""
    rules = select_rules(rule_names)
    if snapshot_dir is not None:
        results = find(snapshot_dir, rules)
    else:
        from nidb.ingest.export import export_snapshot

        with tempfile.TemporaryDirectory(prefix="nidb-detect-") as temp:
            export_snapshot(engine, Path(temp), DETECT_TABLES)
            results = find(Path(temp), rules)
    store(engine, results)
    return results
