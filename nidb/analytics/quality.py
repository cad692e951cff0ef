"""Data quality "đúng, đủ, sạch, sống" per province and information group, and its trend.

Four measures, each a ratio kept as numerator / denominator so provinces add up exactly:

- **correct (đúng)** — verified against the population database (persons; the holder of a
  period, card or benefit) or, for employers, linked to the business registry;
- **complete (đủ)** — the fields Decree 43 Art. 6.1 lists for the group are held;
- **clean (sạch)** — valid codes, not a duplicate (open duplicate review item, one personal ID
  under two BHXH codes, two active cards, overlapping periods, two units of one enterprise);
- **alive (sống)** — status in step with the population database: nothing still active for a
  person the registry says died (cards, benefits, open participation), closed employers with
  nobody still participating through them.

The exact definition of each measure per group is the SQL in ``quality_sql.py`` and the table
in docs/analytics.md. Raw province codes (old 63-list codes on older cards and IDs) are mapped
to the 34-province list of 1 July 2025; ``00`` collects records whose province is not known.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, text

from nidb.analytics.quality_sql import (
    HELPER_TABLES,
    MEASURES,
    day_and_cut,
    group_queries,
    helper_statements,
)
from nidb.domain.provinces import successor_or
from nidb.store.audit import write_audit
from nidb.store.models_analytics import QualityMeasure

UNKNOWN_PROVINCE = "00"

INFO_GROUPS: Mapping[str, tuple[str, str]] = {
    "person": ("Thông tin cơ bản về người tham gia (a)", "basic personal data (a)"),
    "bhxh": ("Quá trình tham gia BHXH (d)", "social insurance participation (d)"),
    "bhyt": ("Quá trình tham gia BHYT (đ)", "health insurance participation (đ)"),
    "bhtn": ("Quá trình tham gia BHTN (e)", "unemployment insurance participation (e)"),
    "card": ("Thẻ BHYT (đ)", "health-insurance cards (đ)"),
    "benefit": ("Chế độ hưởng (d)", "benefits (d)"),
    "employer": ("Đơn vị sử dụng lao động (g)", "employers (g)"),
}
MEASURE_NAMES: Mapping[str, tuple[str, str]] = {
    "correct": ("đúng", "correct"),
    "complete": ("đủ", "complete"),
    "clean": ("sạch", "clean"),
    "alive": ("sống", "alive"),
}

# the tables the queries read (the DuckDB engine exports them to Parquet)
QUALITY_TABLES = (
    "citizens",
    "persons",
    "employers",
    "participation_periods",
    "health_cards",
    "benefits",
)


@dataclass(frozen=True)
class Measure:
    """One measure of one group in one province (or ``"VN"``: the whole country)."""

    province: str
    group: str
    measure: str
    numerator: int
    denominator: int

    @property
    def ratio(self) -> float | None:
        """numerator / denominator, or None when nothing was measured."""
        return self.numerator / self.denominator if self.denominator else None


def province34(raw: str | None) -> str:
    """The 34-province code a raw 2-digit code belongs to; ``00`` if unknown or malformed."""
    return successor_or(raw, UNKNOWN_PROVINCE)


def _fold(
    rows: Iterable[tuple[Any, ...]], group: str, into: dict[tuple[str, str, str], list[int]]
) -> None:
    for row in rows:
        province = province34(row[0])
        for i, measure in enumerate(MEASURES):
            cell = into[(province, group, measure)]
            cell[0] += int(row[1 + 2 * i] or 0)
            cell[1] += int(row[2 + 2 * i] or 0)


def _measures(totals: Mapping[tuple[str, str, str], list[int]]) -> list[Measure]:
    return [Measure(p, g, m, num, den) for (p, g, m), (num, den) in sorted(totals.items())]


def compute_quality(engine: Engine, as_of: date, engine_kind: str = "store") -> list[Measure]:
    """Every measure of every group and province on ``as_of``, sorted (province, group, measure).

    ``engine_kind`` ``store`` runs the queries on the register itself; ``duckdb`` exports the
    tables to a Parquet snapshot and runs the same queries in DuckDB.
    """
    queries = group_queries(as_of)
    helpers = helper_statements(*day_and_cut(as_of))
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    if engine_kind == "store":
        # temporary tables only: the register is read, never written (on SQLite they live in
        # the connection's temp database and take no lock on the register)
        with engine.connect() as conn:
            try:
                for statement in helpers:
                    conn.execute(text(statement))
                for group, sql in queries.items():
                    _fold(conn.execute(text(sql)).all(), group, totals)
            finally:
                # roll back first: on PostgreSQL a failed statement leaves the transaction
                # unusable, and the drop would hide the real error
                conn.rollback()
                for table in HELPER_TABLES:
                    conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
                conn.commit()
    elif engine_kind == "duckdb":
        _compute_in_duckdb(engine, helpers, queries, totals)
    else:
        raise ValueError(f"engine must be store or duckdb, not {engine_kind!r}")
    return _measures(totals)


def _compute_in_duckdb(
    engine: Engine,
    helpers: list[str],
    queries: Mapping[str, str],
    totals: dict[tuple[str, str, str], list[int]],
) -> None:
    import duckdb
    import pyarrow as pa

    from nidb.ingest.export import export_snapshot
    from nidb.store import models

    with engine.connect() as conn:  # open duplicate items: few, read directly
        review = conn.execute(
            select(
                models.ReviewItem.record_id, models.ReviewItem.kind, models.ReviewItem.status
            ).where(models.ReviewItem.status == "open")
        ).all()
    with tempfile.TemporaryDirectory(prefix="nidb-quality-") as temp:
        export_snapshot(engine, Path(temp), QUALITY_TABLES)
        con = duckdb.connect()
        try:
            for table in QUALITY_TABLES:
                path = str(Path(temp) / f"{table}.parquet").replace("'", "''")
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
            review_items = pa.table(
                {
                    "record_id": pa.array([r[0] for r in review], pa.string()),
                    "kind": pa.array([r[1] for r in review], pa.string()),
                    "status": pa.array([r[2] for r in review], pa.string()),
                }
            )
            con.register("review_items", review_items)
            for statement in helpers:
                con.execute(statement)
            for group, sql in queries.items():
                _fold(con.execute(sql).fetchall(), group, totals)
        finally:
            con.close()


def national(measures: Iterable[Measure]) -> list[Measure]:
    """The country's measures: the provinces' numerators and denominators added up."""
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for m in measures:
        cell = totals[("VN", m.group, m.measure)]
        cell[0] += m.numerator
        cell[1] += m.denominator
    return _measures(totals)


_SAVE_LOCK = 0x7175616C  # "qual"


def save_quality(conn: Connection, as_of: date, measures: Iterable[Measure], actor: str) -> int:
    """Store ``measures`` as the snapshot of ``as_of`` (replacing one saved earlier that day),
    with an audit entry, in the caller's transaction; the number of rows stored."""
    rows = [
        {
            "as_of": as_of,
            "province": m.province,
            "info_group": m.group,
            "measure": m.measure,
            "numerator": m.numerator,
            "denominator": m.denominator,
            "computed_by": actor,
        }
        for m in measures
    ]
    if conn.dialect.name == "postgresql":  # two saves of one day at once: one after the other
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": _SAVE_LOCK})
    replaced = conn.execute(delete(QualityMeasure).where(QualityMeasure.as_of == as_of)).rowcount
    if rows:
        conn.execute(insert(QualityMeasure), rows)
    write_audit(
        conn,
        actor=actor,
        action="quality.saved",
        subject_type="quality_snapshot",
        subject_id=as_of.isoformat(),
        purpose="BAOCAO",
        detail={"rows": len(rows), "replaced": replaced},
    )
    return len(rows)


def compute_and_save(
    engine: Engine, as_of: date, actor: str, engine_kind: str = "store"
) -> list[Measure]:
    """Compute the measures of ``as_of`` and store them in one transaction."""
    measures = compute_quality(engine, as_of, engine_kind)
    with engine.begin() as conn:
        save_quality(conn, as_of, measures, actor)
    return measures


def saved_trend(engine: Engine, province: str | None = None) -> dict[date, list[Measure]]:
    """The saved snapshots, oldest first: the country's measures (or one province's)."""
    query = select(
        QualityMeasure.as_of,
        QualityMeasure.province,
        QualityMeasure.info_group,
        QualityMeasure.measure,
        QualityMeasure.numerator,
        QualityMeasure.denominator,
    ).order_by(QualityMeasure.as_of)
    if province is not None:
        query = query.where(QualityMeasure.province == province)
    by_day: dict[date, list[Measure]] = defaultdict(list)
    with engine.connect() as conn:
        for day, prov, group, measure, num, den in conn.execute(query):
            by_day[day].append(Measure(prov, group, measure, int(num), int(den)))
    return {
        day: (rows if province is not None else national(rows))
        for day, rows in sorted(by_day.items())
    }
