"""Automatic assessment (giám định tự động): DuckDB SQL over Parquet snapshots of the store.

`snapshot` writes the claims, their lines, the catalogues and the health cards to Parquet;
`assess_snapshot` decides every claim there in SQL (DuckDB); `assess_claims` does both and
writes the outcome back in one transaction with its audit entry and one outbox event per claim.
The same SQL is meant to run on Spark for the whole country; that is not done yet.

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
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, bindparam, select, update

from nidb.claims.rules import claim_reason, line_reductions
from nidb.detect import RULES as DETECT_RULES
from nidb.domain.catalogues import BASE_SALARY_HISTORY
from nidb.domain.claims import (
    CHEAP_VISIT_SHARE_PCT,
    EXEMPTION_BASE_SALARY_MONTHS,
    LEVEL_PCT,
    wrong_route_pct,
)
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


def _base_salary_values() -> str:
    return ", ".join(
        f"(DATE '{b.valid_from.isoformat()}', {b.amount})" for b in BASE_SALARY_HISTORY
    )


def _level_pct_case(column: str) -> str:
    whens = " ".join(f"WHEN {level} THEN {pct}" for level, pct in LEVEL_PCT.items())
    return f"CASE {column} {whens} ELSE 80 END"


def _wrong_route_case() -> str:
    # the share by facility level and setting, from the one rule in nidb.domain.claims
    parts = []
    for level in (1, 2, 3, 4):
        for inpatient in (True, False):
            parts.append(
                f"WHEN f.level = {level} AND c.inpatient = {str(inpatient).upper()} "
                f"THEN {wrong_route_pct(level, inpatient)}"
            )
    return "CASE " + " ".join(parts) + " ELSE 100 END"


def _half_up(numerator: str, denominator: int) -> str:
    return f"(({numerator}) * 2 + {denominator}) // {2 * denominator}"


CLAIMS_SQL = """
CREATE TEMP TABLE c AS
SELECT c.*, CAST(c.admitted_at + INTERVAL 7 HOUR AS DATE) AS visit_day
FROM claims c {where}
"""

CARD_SQL = """
CREATE TEMP TABLE claim_card AS
SELECT c.id AS claim_id, h.card_code, h.benefit_level, h.facility_code AS card_facility,
       h.five_years_from, h.status,
       h.valid_from <= c.visit_day AND c.visit_day <= h.valid_to AS valid_then
FROM c JOIN health_cards h ON h.bhxh_code = c.bhxh_code
 AND (length(c.card_code) = 10 OR h.card_code = c.card_code)
QUALIFY row_number() OVER (
    PARTITION BY c.id
    ORDER BY (h.valid_from <= c.visit_day AND c.visit_day <= h.valid_to) DESC,
             h.status IN ('suspended', 'revoked'), h.valid_from DESC) = 1
"""

FACILITY_SQL = """
CREATE TEMP TABLE claim_facility AS
SELECT c.id AS claim_id, max(f.level) AS level
FROM c JOIN claim_facilities f ON f.code = c.facility_code AND f.contract_from <= c.visit_day
 AND (f.contract_to IS NULL OR c.visit_day <= f.contract_to)
GROUP BY c.id
"""

# detect's overlapping-inpatient rule reads health_visits, card_info and code_province
VISITS_VIEWS = (
    """
    CREATE TEMP VIEW health_visits AS
    SELECT CAST(id AS VARCHAR) AS visit_id, card_code, bhxh_code, facility_code, admitted_at,
           discharged_at, inpatient, icd10, claimed_total AS total_cost, 0 AS insurer_paid
    FROM claims
    """,
    """
    CREATE TEMP VIEW card_info AS
    SELECT card_code, max_by(bhxh_code, valid_from) AS bhxh_code,
           max_by(province_code, valid_from) AS province_code
    FROM health_cards GROUP BY card_code
    """,
    """
    CREATE TEMP VIEW code_province AS
    SELECT bhxh_code, max_by(province_code, valid_from) AS province
    FROM health_cards GROUP BY bhxh_code
    """,
)


def _decision_sql() -> str:
    return f"""
CREATE TEMP TABLE decided AS
SELECT c.id AS claim_id, c.visit_day, c.card_code, c.facility_code, c.claimed_total,
       c.inpatient, c.admitted_at,
       CASE WHEN k.claim_id IS NULL OR NOT k.valid_then THEN 'card_invalid'
            WHEN k.status IN ('suspended', 'revoked') THEN 'card_suspended'
            WHEN f.claim_id IS NULL THEN 'facility_no_contract'
            WHEN o.claim_id IS NOT NULL THEN 'overlapping_inpatient' END AS reject_rule,
       o.overlap_vi, o.overlap_en,
       coalesce(f.level, 4) AS facility_level,
       CASE WHEN c.route IN ('emergency', 'referral') OR c.facility_code = k.card_facility
                 OR coalesce(f.level, 4) >= 3 THEN 100
            ELSE {_wrong_route_case()} END AS route_pct,
       {_level_pct_case("k.benefit_level")} AS level_pct,
       k.five_years_from IS NOT NULL AND k.five_years_from <= c.visit_day AS five_years,
       b.amount AS base_salary
FROM c
LEFT JOIN claim_card k ON k.claim_id = c.id
LEFT JOIN claim_facility f ON f.claim_id = c.id
LEFT JOIN overlapping o ON o.claim_id = c.id
ASOF LEFT JOIN base_salary b ON c.visit_day >= b.valid_from
"""


def _lines_sql() -> str:
    capped = _half_up("l.quantity_milli * k.price", 1000)
    return f"""
CREATE TEMP TABLE line_money AS
WITH l AS (
    SELECT l.*, d.visit_day, d.reject_rule, d.route_pct, d.facility_level,
           min(l.line_no) OVER (PARTITION BY l.claim_id, l.kind, l.item_code,
                                l.quantity_milli, l.unit_price) AS first_line
    FROM claim_lines l JOIN decided d ON d.claim_id = l.claim_id
), priced AS (
    SELECT l.*, k.price AS catalogue_price, k.payment_ratio,
           CASE WHEN l.first_line < l.line_no THEN l.first_line END AS duplicate_of,
           CASE WHEN l.reject_rule IS NOT NULL OR l.first_line < l.line_no OR k.price IS NULL
                THEN 0
                WHEN l.unit_price > k.price THEN least(l.amount, {capped})
                ELSE l.amount END AS price_ok
    FROM l LEFT JOIN claim_catalogue k ON k.kind = l.kind AND k.code = l.item_code
     AND k.valid_from <= l.visit_day AND (k.valid_to IS NULL OR l.visit_day <= k.valid_to)
    QUALIFY row_number() OVER (PARTITION BY l.id ORDER BY k.valid_from DESC) = 1
)
SELECT *,
       CASE WHEN duplicate_of IS NULL AND catalogue_price IS NOT NULL AND reject_rule IS NULL
            THEN amount - price_ok ELSE 0 END AS price_reduction,
       price_ok - {_half_up("price_ok * route_pct", 100)} AS route_reduction,
       {_half_up("price_ok * route_pct", 100)} AS accepted
FROM priced
"""


def _shares_sql() -> str:
    return f"""
CREATE TEMP TABLE claim_share AS
WITH totals AS (
    SELECT d.claim_id, any_value(d.card_code) AS card_code, any_value(d.visit_day) AS visit_day,
           any_value(d.admitted_at) AS admitted_at, any_value(d.level_pct) AS level_pct,
           any_value(d.five_years) AS five_years, any_value(d.base_salary) AS base_salary,
           coalesce(sum(m.accepted), 0) AS accepted_total,
           coalesce(sum({_half_up("m.accepted * m.payment_ratio * d.level_pct", 10000)}), 0)
               AS fund_at_level
    FROM decided d LEFT JOIN line_money m ON m.claim_id = d.claim_id
    GROUP BY d.claim_id
), running AS (
    SELECT *, coalesce(sum(accepted_total - fund_at_level) OVER (
        PARTITION BY card_code, year(visit_day) ORDER BY admitted_at, claim_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS earlier_copay
    FROM totals
)
SELECT claim_id,
       CASE WHEN accepted_total * 100 < {CHEAP_VISIT_SHARE_PCT} * base_salary THEN 100
            WHEN five_years AND earlier_copay > {EXEMPTION_BASE_SALARY_MONTHS} * base_salary THEN 100
            ELSE level_pct END AS share_pct
FROM running
"""


@dataclass
class Assessment:
    """What one run decided, before it is written back."""

    claims: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def assess_snapshot(snapshot_dir: Path, only_new: bool = True) -> Assessment:
    """Decide the claims of a snapshot (those not yet assessed, unless ``only_new`` is False)."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    try:
        for table in SNAPSHOT:
            quoted = str(snapshot_dir / f"{table}.parquet").replace("'", "''")
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{quoted}')")
        con.execute("CREATE TEMP TABLE base_salary(valid_from DATE, amount BIGINT)")
        con.execute(f"INSERT INTO base_salary VALUES {_base_salary_values()}")
        con.execute(CLAIMS_SQL.format(where="WHERE c.outcome IS NULL" if only_new else ""))
        con.execute(CARD_SQL)
        con.execute(FACILITY_SQL)
        for view in VISITS_VIEWS:
            con.execute(view)
        _overlaps(con)
        con.execute(_decision_sql())
        con.execute(_lines_sql())
        con.execute(_shares_sql())
        result = _collect(con)
    finally:
        con.close()
    result.seconds = time.perf_counter() - started
    return result


def _overlaps(con: Any) -> None:
    """The later stay of each overlapping pair found by detect's rule, with its explanation."""
    rule = DETECT_RULES["overlapping_inpatient"]
    cursor = con.execute(rule.sql)
    names = [d[0] for d in cursor.description]
    rows: dict[int, tuple[str, str]] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        later = (
            row["second_visit"]
            if (row["second_admitted"], row["second_visit"])
            >= (row["first_admitted"], row["first_visit"])
            else row["first_visit"]
        )
        finding = rule.explain(row)
        rows.setdefault(int(later), (finding.explanation_vi, finding.explanation_en))
    con.execute(
        "CREATE TEMP TABLE overlapping(claim_id BIGINT, overlap_vi VARCHAR, overlap_en VARCHAR)"
    )
    if rows:
        con.executemany(
            "INSERT INTO overlapping VALUES (?, ?, ?)",
            [(k, vi, en) for k, (vi, en) in rows.items()],
        )


def _rows(con: Any, sql: str) -> Iterator[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    while chunk := cursor.fetchmany(50_000):
        for values in chunk:
            yield dict(zip(names, values, strict=True))


def _collect(con: Any) -> Assessment:
    result = Assessment()
    reduced: Counter[int] = Counter()
    insurer: Counter[int] = Counter()
    accepted: Counter[int] = Counter()
    cursor = con.execute(
        """SELECT m.id, m.claim_id, m.accepted,
                  (m.accepted * coalesce(m.payment_ratio, 0) * s.share_pct * 2 + 10000) // 20000,
                  m.reject_rule IS NULL AND (m.duplicate_of IS NOT NULL
                      OR m.catalogue_price IS NULL OR m.price_reduction > 0
                      OR m.route_reduction > 0),
                  m.line_no, m.kind, m.item_code, m.unit_price, m.amount, m.visit_day,
                  m.catalogue_price, m.duplicate_of, m.price_reduction, m.route_reduction,
                  m.route_pct, m.facility_level, m.payment_ratio
           FROM line_money m JOIN claim_share s ON s.claim_id = m.claim_id"""
    )
    names = [d[0] for d in cursor.description]
    lines = result.lines
    while chunk := cursor.fetchmany(100_000):
        for row in chunk:
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
    shares = dict(con.execute("SELECT claim_id, share_pct FROM claim_share").fetchall())
    for r in _rows(con, "SELECT * FROM decided"):
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


def assess_claims(engine: Engine, actor: str, again: bool = False) -> Assessment:
    """Assess the claims not yet assessed (all of them with ``again``) and store the outcome."""
    with tempfile.TemporaryDirectory(prefix="nidb-claims-") as folder:
        snapshot(engine, Path(folder))
        result = assess_snapshot(Path(folder), only_new=not again)
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
