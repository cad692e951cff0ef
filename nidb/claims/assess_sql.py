"""The assessment's SQL (giám định tự động), one text for DuckDB and Spark SQL alike.

Each step is a ``SELECT`` that nidb.claims.assess keeps under a name (a temporary table in
DuckDB, a cached view in Spark) for the next steps to read. The text uses only what both engines
read the same way, as nidb.detect's rules do:

- integer division is ``div(a, b)``: Spark's built-in, and in DuckDB a one-line macro over
  ``//`` (``DUCKDB_MACROS``), so money stays in exact integers on both;
- ``row_number()`` in a subquery instead of DuckDB's ``QUALIFY``; a range join on
  ``[valid_from, valid_until)`` instead of DuckDB's ``ASOF JOIN`` for the base salary;
- every window's ``ORDER BY`` says ``NULLS FIRST``/``NULLS LAST`` (the engines' defaults differ)
  and ends on a key that makes it total, so that both pick the same row;
- ``INTERVAL '7' HOUR``, ``CAST(… AS STRING)``, ``max_by``, ``any_value``, ``year()``.
"""

from __future__ import annotations

from datetime import date

from nidb.domain.catalogues import BASE_SALARY_HISTORY
from nidb.domain.claims import (
    CHEAP_VISIT_SHARE_PCT,
    EXEMPTION_BASE_SALARY_MONTHS,
    LEVEL_PCT,
    wrong_route_pct,
)

DUCKDB_MACROS = ("CREATE MACRO div(a, b) AS a // b",)
"""What DuckDB lacks of the common text: Spark's ``div`` (integer division)."""

_OPEN_END = date(9999, 12, 31)


def base_salary_sql() -> str:
    """The base salary (lương cơ sở) by period: ``valid_from`` ≤ day < ``valid_until``."""
    history = sorted(BASE_SALARY_HISTORY, key=lambda b: b.valid_from)
    ends = [b.valid_from for b in history[1:]] + [_OPEN_END]
    rows = ", ".join(
        f"(DATE '{b.valid_from.isoformat()}', DATE '{end.isoformat()}', CAST({b.amount} AS BIGINT))"
        for b, end in zip(history, ends, strict=True)
    )
    return f"SELECT * FROM (VALUES {rows}) AS b(valid_from, valid_until, amount)"


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


def half_up(numerator: str, denominator: int) -> str:
    """SQL: ``numerator / denominator`` rounded half up to a whole number (numerator ≥ 0)."""
    return f"div(({numerator}) * 2 + {denominator}, {2 * denominator})"


def claims_sql(only_new: bool) -> str:
    """The claims to decide, with their visit day (Vietnam time, UTC+7, no summer time)."""
    where = "WHERE c.outcome IS NULL" if only_new else ""
    return f"""
SELECT c.*, CAST(c.admitted_at + INTERVAL '7' HOUR AS DATE) AS visit_day
FROM claims c {where}
"""


CARD_SQL = """
SELECT claim_id, card_code, benefit_level, card_facility, five_years_from, status, valid_then
FROM (
    SELECT c.id AS claim_id, h.card_code, h.benefit_level, h.facility_code AS card_facility,
           h.five_years_from, h.status,
           h.valid_from <= c.visit_day AND c.visit_day <= h.valid_to AS valid_then,
           row_number() OVER (
               PARTITION BY c.id
               ORDER BY (h.valid_from <= c.visit_day AND c.visit_day <= h.valid_to) DESC NULLS LAST,
                        h.status IN ('suspended', 'revoked') ASC NULLS LAST,
                        h.valid_from DESC NULLS LAST, h.card_code ASC NULLS LAST,
                        h.valid_to DESC NULLS LAST) AS pick
    FROM c JOIN health_cards h ON h.bhxh_code = c.bhxh_code
     AND (length(c.card_code) = 10 OR h.card_code = c.card_code)
) ranked
WHERE pick = 1
"""
"""The card each claim is judged by: one valid on the visit day if any, an active one first."""

FACILITY_SQL = """
SELECT c.id AS claim_id, max(f.level) AS level
FROM c JOIN claim_facilities f ON f.code = c.facility_code AND f.contract_from <= c.visit_day
 AND (f.contract_to IS NULL OR c.visit_day <= f.contract_to)
GROUP BY c.id
"""

VISITS_VIEWS: tuple[tuple[str, str], ...] = (
    (
        "health_visits",
        """
        SELECT CAST(id AS STRING) AS visit_id, card_code, bhxh_code, facility_code, admitted_at,
               discharged_at, inpatient, icd10, claimed_total AS total_cost, 0 AS insurer_paid
        FROM claims
        """,
    ),
    (
        "card_info",
        """
        SELECT card_code, max_by(bhxh_code, valid_from) AS bhxh_code,
               max_by(province_code, valid_from) AS province_code
        FROM health_cards GROUP BY card_code
        """,
    ),
    (
        "code_province",
        """
        SELECT bhxh_code, max_by(province_code, valid_from) AS province
        FROM health_cards GROUP BY bhxh_code
        """,
    ),
)
"""What detect's overlapping-inpatient rule reads (health_visits, card_info, code_province)."""

OVERLAPPING_COLUMNS = (("claim_id", "BIGINT"), ("overlap_vi", "STRING"), ("overlap_en", "STRING"))
"""The later stay of each overlapping pair, and detect's explanation of the pair."""


def decision_sql() -> str:
    """Per claim: the rule that rejects it whole, if any, and its route, level and base salary."""
    return f"""
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
LEFT JOIN base_salary b ON b.valid_from <= c.visit_day AND c.visit_day < b.valid_until
"""


def lines_sql() -> str:
    """Per line: duplicate or not, the catalogue's price and ratio that day, money after the
    price cap and the route."""
    capped = half_up("l.quantity_milli * k.price", 1000)
    return f"""
WITH l AS (
    SELECT l.*, d.visit_day, d.reject_rule, d.route_pct, d.facility_level,
           min(l.line_no) OVER (PARTITION BY l.claim_id, l.kind, l.item_code,
                                l.quantity_milli, l.unit_price) AS first_line
    FROM claim_lines l JOIN decided d ON d.claim_id = l.claim_id
), ranked AS (
    SELECT l.*, k.price AS catalogue_price, k.payment_ratio,
           CASE WHEN l.first_line < l.line_no THEN l.first_line END AS duplicate_of,
           CASE WHEN l.reject_rule IS NOT NULL OR l.first_line < l.line_no OR k.price IS NULL
                THEN 0
                WHEN l.unit_price > k.price THEN least(l.amount, {capped})
                ELSE l.amount END AS price_ok,
           row_number() OVER (PARTITION BY l.id ORDER BY k.valid_from DESC NULLS LAST) AS pick
    FROM l LEFT JOIN claim_catalogue k ON k.kind = l.kind AND k.code = l.item_code
     AND k.valid_from <= l.visit_day AND (k.valid_to IS NULL OR l.visit_day <= k.valid_to)
), priced AS (
    SELECT * FROM ranked WHERE pick = 1
)
SELECT *,
       CASE WHEN duplicate_of IS NULL AND catalogue_price IS NOT NULL AND reject_rule IS NULL
            THEN amount - price_ok ELSE 0 END AS price_reduction,
       price_ok - {half_up("price_ok * route_pct", 100)} AS route_reduction,
       {half_up("price_ok * route_pct", 100)} AS accepted
FROM priced
"""


def shares_sql() -> str:
    """Per claim: the fund's share (level, cheap visit, or five years and copayments passed)."""
    return f"""
WITH totals AS (
    SELECT d.claim_id, any_value(d.card_code) AS card_code, any_value(d.visit_day) AS visit_day,
           any_value(d.admitted_at) AS admitted_at, any_value(d.level_pct) AS level_pct,
           any_value(d.five_years) AS five_years, any_value(d.base_salary) AS base_salary,
           coalesce(sum(m.accepted), 0) AS accepted_total,
           coalesce(sum({half_up("m.accepted * m.payment_ratio * d.level_pct", 10000)}), 0)
               AS fund_at_level
    FROM decided d LEFT JOIN line_money m ON m.claim_id = d.claim_id
    GROUP BY d.claim_id
), running AS (
    SELECT *, coalesce(sum(accepted_total - fund_at_level) OVER (
        PARTITION BY card_code, year(visit_day)
        ORDER BY admitted_at ASC NULLS LAST, claim_id ASC NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS earlier_copay
    FROM totals
)
SELECT claim_id,
       CASE WHEN accepted_total * 100 < {CHEAP_VISIT_SHARE_PCT} * base_salary THEN 100
            WHEN five_years AND earlier_copay > {EXEMPTION_BASE_SALARY_MONTHS} * base_salary THEN 100
            ELSE level_pct END AS share_pct
FROM running
"""


def line_outcome_sql() -> str:
    """Per line, what is collected: the money, whether it is reduced, and what explains it."""
    return f"""
SELECT m.id, m.claim_id, m.accepted,
       {half_up("m.accepted * coalesce(m.payment_ratio, 0) * s.share_pct", 10000)} AS insurer,
       m.reject_rule IS NULL AND (m.duplicate_of IS NOT NULL
           OR m.catalogue_price IS NULL OR m.price_reduction > 0
           OR m.route_reduction > 0) AS flagged,
       m.line_no, m.kind, m.item_code, m.unit_price, m.amount, m.visit_day,
       m.catalogue_price, m.duplicate_of, m.price_reduction, m.route_reduction,
       m.route_pct, m.facility_level, m.payment_ratio
FROM line_money m JOIN claim_share s ON s.claim_id = m.claim_id
"""
