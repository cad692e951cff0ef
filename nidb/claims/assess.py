"""Automatic assessment (giám định tự động): SQL over Parquet snapshots of the store, in
DuckDB on one machine or in Spark SQL (local mode or a cluster) for the whole country.

`snapshot` writes the claims, their lines, the catalogues and the health cards to Parquet;
`assess_snapshot` decides every claim there in SQL; `assess_claims` does both and writes the
outcome back in one transaction with its audit entry and one outbox event per claim. The SQL is
one text (nidb.claims.assess_sql) that DuckDB (`DuckDBRunner`, the default) and Spark
(nidb.claims.assess_spark, ``engine="spark"``) run alike, step by step, and the explanations
are written in Python from its rows, once: both engines give the same decisions to the đồng
(tests/claims/test_assess_spark.py).

Rules, in order (wording: nidb.claims.rules):
- a claim is rejected whole when no card of its holder is valid on the visit day (the day of
  admission, Vietnam time = UTC+7, no summer time), when that card is suspended or revoked,
  when the facility has no contract that day, or when it is the later of two overlapping
  inpatient stays (nidb.detect's own rule, ``overlapping_inpatient``, run on these claims);
- a line is refused whole when it repeats an earlier line of the claim (same kind, code,
  quantity and price) or when its drug or service is not in the catalogue that day; its price
  is capped at the catalogue's; outside the registered route (not the card's facility, not a
  referral or an emergency, at a central or province hospital) the fund pays 40% of an
  inpatient and nothing of an outpatient stay (nidb.domain.claims.wrong_route_pct);
- the fund's part of an accepted line is its amount × the catalogue's payment ratio × the
  card level's share (80/95/100%), or 100% when the visit costs less than 15% of the base
  salary, or when the card has five continuous years and the year's earlier co-payments passed
  six months of base salary. Every product is rounded half up to a whole đồng, per line.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, bindparam, select, update

from nidb.claims.assess_sql import (
    CARD_SQL,
    DUCKDB_MACROS,
    FACILITY_SQL,
    OVERLAPPING_COLUMNS,
    VISITS_VIEWS,
    base_salary_sql,
    claims_sql,
    decision_sql,
    line_outcome_sql,
    lines_sql,
    shares_sql,
)
from nidb.claims.rules import claim_reason, line_reductions
from nidb.detect import RULES as DETECT_RULES
from nidb.store import models
from nidb.store.audit import write_audit, write_event
from nidb.store.models_claims import (
    Claim,
    ClaimCatalogueItem,
    ClaimFacility,
    ClaimLine,
    ClaimReview,
)

SNAPSHOT: dict[str, list[tuple[str, pa.DataType]]] = {
    "claims": [
        ("id", pa.int64()),
        ("facility_code", pa.string()),
        ("ma_lk", pa.string()),
        ("card_code", pa.string()),
        ("bhxh_code", pa.string()),
        ("admitted_at", pa.timestamp("us")),
        ("discharged_at", pa.timestamp("us")),
        ("inpatient", pa.bool_()),
        ("route", pa.string()),
        ("icd10", pa.string()),
        ("claimed_total", pa.int64()),
        ("outcome", pa.string()),
    ],
    "claim_lines": [
        ("id", pa.int64()),
        ("claim_id", pa.int64()),
        ("line_no", pa.int64()),
        ("kind", pa.string()),
        ("item_code", pa.string()),
        ("quantity_milli", pa.int64()),
        ("unit_price", pa.int64()),
        ("amount", pa.int64()),
    ],
    "claim_catalogue": [
        ("kind", pa.string()),
        ("code", pa.string()),
        ("price", pa.int64()),
        ("payment_ratio", pa.int64()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
    ],
    "claim_facilities": [
        ("code", pa.string()),
        ("level", pa.int64()),
        ("contract_from", pa.date32()),
        ("contract_to", pa.date32()),
    ],
    "health_cards": [
        ("card_code", pa.string()),
        ("bhxh_code", pa.string()),
        ("benefit_level", pa.int64()),
        ("province_code", pa.string()),
        ("facility_code", pa.string()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("five_years_from", pa.date32()),
        ("status", pa.string()),
    ],
}
_MODELS: dict[str, Any] = {
    "claims": Claim,
    "claim_lines": ClaimLine,
    "claim_catalogue": ClaimCatalogueItem,
    "claim_facilities": ClaimFacility,
    "health_cards": models.HealthCard,
}


def snapshot(engine: Engine, out_dir: Path, chunk_rows: int = 100_000) -> None:
    """Write the tables the assessment reads to ``out_dir/<table>.parquet`` (one read
    transaction, so every table is seen at the same moment)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn, conn.begin():
        for name, columns in SNAPSHOT.items():
            table = _MODELS[name].__table__
            schema = pa.schema(columns)
            result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(
                select(*(table.c[c] for c, _ in columns))
            )
            with pq.ParquetWriter(out_dir / f"{name}.parquet", schema) as writer:
                wrote = False
                for part in result.partitions(chunk_rows):
                    rows = list(zip(*part, strict=True))
                    writer.write_table(
                        pa.table(
                            [
                                pa.array(list(v), type=t)
                                for v, (_, t) in zip(rows, columns, strict=True)
                            ],
                            schema=schema,
                        )
                    )
                    wrote = True
                if not wrote:
                    writer.write_table(schema.empty_table())


SqlEngine = Literal["duckdb", "spark"]
ENGINES: tuple[SqlEngine, ...] = ("duckdb", "spark")


class SqlRunner(Protocol):
    """Where the assessment's SQL runs: DuckDB here, Spark (nidb.claims.assess_spark)."""

    def parquet(self, name: str, path: Path) -> None:
        """Read the Parquet file at ``path`` as the table ``name``."""

    def view(self, name: str, sql: str) -> None:
        """Name a query, computed whenever it is read."""

    def keep(self, name: str, sql: str) -> None:
        """Name a query, computed now and kept for the later steps."""

    def load(
        self, name: str, columns: tuple[tuple[str, str], ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """Make a table ``name`` of (column, SQL type) ``columns`` holding ``rows``."""

    def rows(self, sql: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        """The column names and the rows of a query (read them before the next query)."""

    def close(self) -> None:
        """Drop what the run kept."""


class DuckDBRunner:
    """The assessment's SQL in an in-memory DuckDB (temporary tables, Parquet read in place)."""

    def __init__(self) -> None:
        import duckdb

        self.con = duckdb.connect()
        for macro in DUCKDB_MACROS:
            self.con.execute(macro)

    def parquet(self, name: str, path: Path) -> None:
        quoted = str(path).replace("'", "''")
        self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{quoted}')")

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE TEMP VIEW {name} AS {sql}")

    def keep(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE TEMP TABLE {name} AS {sql}")

    def load(
        self, name: str, columns: tuple[tuple[str, str], ...], rows: list[tuple[Any, ...]]
    ) -> None:
        self.con.execute(f"CREATE TEMP TABLE {name}({', '.join(f'{c} {t}' for c, t in columns)})")
        if rows:
            marks = ", ".join("?" for _ in columns)
            self.con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)

    def rows(self, sql: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        cursor = self.con.execute(sql)
        names = [d[0] for d in cursor.description]

        def chunks() -> Iterator[tuple[Any, ...]]:
            while chunk := cursor.fetchmany(100_000):
                yield from chunk

        return names, chunks()

    def close(self) -> None:
        self.con.close()


@dataclass
class Assessment:
    """What one run decided, before it is written back."""

    claims: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def assess_snapshot(
    snapshot_dir: Path, only_new: bool = True, engine: SqlEngine = "duckdb"
) -> Assessment:
    """Decide the claims of a snapshot (those not yet assessed, unless ``only_new`` is False),
    in DuckDB or, with ``engine="spark"``, in Spark SQL: the same SQL text, the same result.

    Spark runs on the process's kept session if there is one (``nidb.engines.spark.start(
    keep=True)``), else on one started and stopped for this call."""
    if engine == "spark":
        from nidb.claims.assess_spark import SparkRunner
        from nidb.engines.spark import runtime

        with runtime() as spark:
            started = time.perf_counter()
            return _timed(SparkRunner(spark.session), snapshot_dir, only_new, started)
    if engine != "duckdb":
        raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    started = time.perf_counter()
    return _timed(DuckDBRunner(), snapshot_dir, only_new, started)


def _timed(db: SqlRunner, snapshot_dir: Path, only_new: bool, started: float) -> Assessment:
    try:
        result = decide(db, snapshot_dir, only_new)
    finally:
        db.close()
    result.seconds = time.perf_counter() - started
    return result


def decide(db: SqlRunner, snapshot_dir: Path, only_new: bool = True) -> Assessment:
    """Run the assessment's steps (nidb.claims.assess_sql) with ``db`` over a snapshot."""
    for table in SNAPSHOT:
        db.parquet(table, snapshot_dir / f"{table}.parquet")
    db.view("base_salary", base_salary_sql())
    db.keep("c", claims_sql(only_new))
    db.keep("claim_card", CARD_SQL)
    db.keep("claim_facility", FACILITY_SQL)
    for name, sql in VISITS_VIEWS:
        db.view(name, sql)
    _overlaps(db)
    db.keep("decided", decision_sql())
    db.keep("line_money", lines_sql())
    db.keep("claim_share", shares_sql())
    return _collect(db)


def _overlaps(db: SqlRunner) -> None:
    """The later stay of each overlapping pair found by detect's rule, with its explanation."""
    rule = DETECT_RULES["overlapping_inpatient"]
    names, found = db.rows(rule.sql)
    rows: dict[int, tuple[str, str]] = {}
    for values in found:
        row = dict(zip(names, values, strict=True))
        later = (
            row["second_visit"]
            if (row["second_admitted"], row["second_visit"])
            >= (row["first_admitted"], row["first_visit"])
            else row["first_visit"]
        )
        finding = rule.explain(row)
        rows.setdefault(int(later), (finding.explanation_vi, finding.explanation_en))
    db.load("overlapping", OVERLAPPING_COLUMNS, [(k, vi, en) for k, (vi, en) in rows.items()])


def _collect(db: SqlRunner) -> Assessment:
    result = Assessment()
    reduced: Counter[int] = Counter()
    insurer: Counter[int] = Counter()
    accepted: Counter[int] = Counter()
    names, found = db.rows(line_outcome_sql())
    lines = result.lines
    for row in found:
        line_id, claim_id, amount_ok, fund, flagged = row[:5]
        reductions = line_reductions(dict(zip(names, row, strict=True))) if flagged else []
        for item in reductions:
            result.by_rule[item["rule"]] += 1
        if reductions:
            reduced[claim_id] += 1
        accepted[claim_id] += amount_ok
        insurer[claim_id] += fund
        lines.append(
            {
                "line_id": line_id,
                "accepted_amount": amount_ok,
                "insurer_amount": fund,
                "reductions": reductions or None,
                "payment_ratio": row[-1],
            }
        )
    shares = dict(db.rows("SELECT claim_id, share_pct FROM claim_share")[1])
    names, found = db.rows("SELECT * FROM decided")
    for values in found:
        r = dict(zip(names, values, strict=True))
        claim_id = r["claim_id"]
        if r["reject_rule"]:
            outcome, reasons = "rejected", [claim_reason(r["reject_rule"], r)]
            result.by_rule[r["reject_rule"]] += 1
        else:
            outcome = "reduced" if reduced[claim_id] else "accepted"
            reasons = []
        result.by_outcome[outcome] += 1
        result.claims.append(
            {
                "claim_key": claim_id,
                "facility_code": r["facility_code"],
                "outcome": outcome,
                "accepted_total": accepted[claim_id],
                "insurer_total": insurer[claim_id],
                "reasons": reasons,
                "share_pct": shares.get(claim_id),
            }
        )
    return result


def assess_claims(
    engine: Engine, actor: str, again: bool = False, on: SqlEngine = "duckdb"
) -> Assessment:
    """Assess the claims not yet assessed (all of them with ``again``) in DuckDB or, ``on``
    ``"spark"``, in Spark, and store the outcome."""
    with tempfile.TemporaryDirectory(prefix="nidb-claims-") as folder:
        snapshot(engine, Path(folder))
        result = assess_snapshot(Path(folder), only_new=not again, engine=on)
    store(engine, result, actor)
    return result


def _keep_reviewed(conn: Connection, result: Assessment) -> None:
    """Drop from ``result`` the claims a staff member reviewed at their current version
    (`nidb claims assess --again` must not undo a review; a resubmission starts over)."""
    if not result.claims:
        return
    reviewed = set(
        conn.execute(
            select(Claim.id)
            .join(ClaimReview, ClaimReview.claim_id == Claim.id)
            .where(ClaimReview.version == Claim.version)
        ).scalars()
    )
    if not reviewed:
        return
    result.claims = [c for c in result.claims if c["claim_key"] not in reviewed]
    lines = set(
        conn.execute(select(ClaimLine.id).where(ClaimLine.claim_id.in_(reviewed))).scalars()
    )
    result.lines = [line for line in result.lines if line["line_id"] not in lines]


def store(engine: Engine, result: Assessment, actor: str) -> None:
    """Write the decisions, one audit entry and one outbox event per claim, in one transaction."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        _keep_reviewed(conn, result)
        if result.lines:
            conn.execute(
                update(ClaimLine)
                .where(ClaimLine.id == bindparam("line_id"))
                .values(
                    accepted_amount=bindparam("accepted_amount"),
                    insurer_amount=bindparam("insurer_amount"),
                    reductions=bindparam("reductions"),
                    payment_ratio=bindparam("payment_ratio"),
                ),
                result.lines,
            )
        if result.claims:
            conn.execute(
                update(Claim)
                .where(Claim.id == bindparam("claim_key"))
                .values(
                    outcome=bindparam("outcome"),
                    accepted_total=bindparam("accepted_total"),
                    insurer_total=bindparam("insurer_total"),
                    reasons=bindparam("reasons"),
                    share_pct=bindparam("share_pct"),
                    assessed_at=now,
                ),
                [{k: v for k, v in c.items() if k != "facility_code"} for c in result.claims],
            )
        for claim in result.claims:
            write_event(
                conn,
                "claims.assessed",
                str(claim["claim_key"]),
                {
                    "claim_id": claim["claim_key"],
                    "facility_code": claim["facility_code"],
                    "outcome": claim["outcome"],
                    "accepted_total": claim["accepted_total"],
                    "insurer_total": claim["insurer_total"],
                },
            )
        write_audit(
            conn,
            actor=actor,
            action="claims.assessed",
            subject_type="claims",
            subject_id="run",
            purpose="GQCD",
            detail={
                "claims": len(result.claims),
                "outcomes": dict(result.by_outcome),
                "rules": dict(result.by_rule),
            },
        )
