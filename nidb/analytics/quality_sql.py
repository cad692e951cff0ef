"""The SQL of the data-quality measures: one query per information group.

Each query returns one row per raw province code with a numerator and a denominator for each
of the four measures (đúng correct, đủ complete, sạch clean, sống alive). The text is plain SQL
that SQLite, PostgreSQL and DuckDB all run unchanged: the store is measured directly, and the
same text runs in DuckDB over a Parquet snapshot (``--engine duckdb``) — see docs/analytics.md
for which is faster and why the store is the default.

Literals (the day, the cut-off instant, catalogue codes) are rendered from validated Python
values, never from user text: a ``date`` is formatted by ``isoformat`` and codes come from the
catalogues in ``nidb.domain``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nidb.domain.catalogues import BENEFICIARY_GROUPS, Payer

MEASURES = ("correct", "complete", "clean", "alive")

# Beneficiary groups whose contributions an employer declares: a period of theirs names one.
_EMPLOYER_GROUPS = tuple(
    code for code, g in BENEFICIARY_GROUPS.items() if g.payer is Payer.EMPLOYER_EMPLOYEE
)
# Benefits paid monthly carry a monthly amount; one-off ones a lump sum (as the import checks).
_MONTHLY = ("pension", "survivor", "unemployment")
_LUMP_SUM = ("one_time", "funeral")


def _codes(codes: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{c}'" for c in codes if c.isalnum() or c.replace("_", "").isalnum())


def cutoff_instant(as_of: date, timezone: str = "Asia/Ho_Chi_Minh") -> datetime:
    """The end of ``as_of`` in Vietnam as a UTC instant: what happened before it counts."""
    local = datetime.combine(as_of + timedelta(days=1), time(0), ZoneInfo(timezone))
    return local.astimezone(ZoneInfo("UTC"))


# A person record's province: its employer's, else its birth-registration province, else the
# one a well-formed 12-digit ID carries in its first three digits.
PERSON_PROVINCE = """COALESCE(e.province, substr(p.birth_province, 2, 2),
    CASE WHEN p.declared_id_kind = 'cccd' THEN substr(p.declared_id, 2, 2) END, '00')"""


# Sets every group's query needs, computed once per run into temporary tables (one scan of
# persons and cards each, instead of one per group) and read through these CTEs. The dead are
# found from the citizens side (few have a death date; SQLite takes CROSS JOIN as the order);
# grouping by ``bhxh_code || ''`` keeps SQLite from walking a whole table in index order (a
# random read per row: 8–10 s instead of 1–4 s at 1M rows), and changes nothing elsewhere.
HELPER_TABLES = ("q_dead", "q_verified_codes", "q_code_province")


def helper_statements(day: str, cut: str) -> list[str]:
    """Create and fill the helper tables: codes whose verified holder died on or before the
    day (CSDL dân cư says dead), codes verified before the cut-off, each code's card province."""
    return [
        *(f"DROP TABLE IF EXISTS {table}" for table in HELPER_TABLES),
        "CREATE TEMPORARY TABLE q_dead (bhxh_code VARCHAR(10) PRIMARY KEY, death_date DATE)",
        f"""INSERT INTO q_dead (bhxh_code, death_date)
        SELECT p.bhxh_code, MIN(c.death_date)
        FROM citizens c CROSS JOIN persons p
        WHERE p.verified_personal_id = c.personal_id
          AND p.verification_status = 'verified' AND p.verified_at < '{cut}'
          AND c.death_date IS NOT NULL AND c.death_date <= '{day}'
        GROUP BY p.bhxh_code""",
        "CREATE TEMPORARY TABLE q_verified_codes (bhxh_code VARCHAR(10) PRIMARY KEY)",
        f"""INSERT INTO q_verified_codes (bhxh_code)
        SELECT bhxh_code || '' FROM persons
        WHERE verification_status = 'verified' AND verified_at < '{cut}'
        GROUP BY bhxh_code || ''""",
        "CREATE TEMPORARY TABLE q_code_province (bhxh_code VARCHAR(10) PRIMARY KEY, "
        "province VARCHAR(2))",
        """INSERT INTO q_code_province (bhxh_code, province)
        SELECT bhxh_code || '', MIN(province_code) FROM health_cards
        GROUP BY bhxh_code || ''""",
    ]


_DEAD = "dead AS (SELECT bhxh_code, death_date FROM q_dead)"
_VERIFIED_CODES = "verified_codes AS (SELECT bhxh_code FROM q_verified_codes)"

_CODE_PROVINCE = "code_province AS (SELECT bhxh_code, province FROM q_code_province)"


def _aggregate(inner: str) -> str:
    sums = ", ".join(f"SUM({m}_num) AS {m}_num, SUM({m}_den) AS {m}_den" for m in MEASURES)
    return f"SELECT province, {sums} FROM ({inner}) AS flags GROUP BY province"


def person_sql(day: str, cut: str) -> str:
    """(a) person records: verified, the Art. 6.1(a) fields held, not a duplicate, in step."""
    verified = f"(p.verification_status = 'verified' AND p.verified_at < '{cut}')"
    inner = f"""
    SELECT {PERSON_PROVINCE} AS province,
        CASE WHEN {verified} THEN 1 ELSE 0 END AS correct_num, 1 AS correct_den,
        CASE WHEN p.full_name <> '' AND p.gender IS NOT NULL AND p.declared_id IS NOT NULL
              AND p.birth_province IS NOT NULL AND p.address IS NOT NULL
             THEN 1 ELSE 0 END AS complete_num, 1 AS complete_den,
        CASE WHEN COALESCE(p.declared_id_kind, '') <> 'cccd_invalid'
              AND length(p.bhxh_code) = 10
              AND p.record_id NOT IN (SELECT r.record_id FROM review_items r
                                      WHERE r.kind = 'dedupe' AND r.status = 'open')
              AND NOT EXISTS (SELECT 1 FROM persons q
                              WHERE q.verified_personal_id = p.verified_personal_id
                                AND q.verification_status = 'verified'
                                AND q.bhxh_code <> p.bhxh_code)
             THEN 1 ELSE 0 END AS clean_num, 1 AS clean_den,
        CASE WHEN {verified} AND c.personal_id IS NOT NULL
              AND p.bhxh_code NOT IN (SELECT bhxh_code FROM out_of_step)
             THEN 1 ELSE 0 END AS alive_num,
        CASE WHEN {verified} THEN 1 ELSE 0 END AS alive_den
    FROM persons p
    LEFT JOIN employers e ON e.employer_code = p.employer_code
    LEFT JOIN citizens c ON c.personal_id = p.verified_personal_id
    """
    out_of_step = f"""
    out_of_step AS (
        SELECT d.bhxh_code FROM dead d
        WHERE EXISTS (SELECT 1 FROM health_cards h WHERE h.bhxh_code = d.bhxh_code
                      AND h.status = 'active' AND h.valid_from <= '{day}'
                      AND h.valid_to > d.death_date)
           OR EXISTS (SELECT 1 FROM benefits b WHERE b.bhxh_code = d.bhxh_code
                      AND b.status = 'active' AND b.start_date <= '{day}'
                      AND (b.end_date IS NULL OR b.end_date > d.death_date))
    )"""
    return f"WITH {_DEAD}, {out_of_step} {_aggregate(inner)}"


def employer_sql(day: str) -> str:
    """(g) employers: in the business registry, Art. 6.1(g) fields, one unit per enterprise,
    a closed employer with nobody still participating through it."""
    inner = f"""
    SELECT e.province AS province,
        CASE WHEN e.employer_type = 'enterprise' AND e.enterprise_code IS NOT NULL
              AND length(e.enterprise_code) IN (10, 14) THEN 1 ELSE 0 END AS correct_num,
        CASE WHEN e.employer_type = 'enterprise' THEN 1 ELSE 0 END AS correct_den,
        CASE WHEN e.name <> '' AND e.address IS NOT NULL AND e.business_line IS NOT NULL
              AND (e.phone IS NOT NULL OR e.email IS NOT NULL)
             THEN 1 ELSE 0 END AS complete_num, 1 AS complete_den,
        CASE WHEN e.enterprise_code IS NULL OR NOT EXISTS (
                SELECT 1 FROM employers f WHERE f.enterprise_code = e.enterprise_code
                AND f.employer_code <> e.employer_code)
             THEN 1 ELSE 0 END AS clean_num, 1 AS clean_den,
        CASE WHEN e.status = 'closed' AND EXISTS (
                SELECT 1 FROM participation_periods pp
                WHERE pp.employer_code = e.employer_code AND pp.start_month <= '{day}'
                  AND pp.end_month IS NULL)
             THEN 0 ELSE 1 END AS alive_num, 1 AS alive_den
    FROM employers e
    """
    return _aggregate(inner)


def participation_sql(scheme: str, day: str, cut: str) -> str:
    """(d) BHXH, (đ) BHYT, (e) BHTN participation periods begun by the day."""
    employer_groups = _codes(_EMPLOYER_GROUPS)
    all_groups = _codes(sorted(BENEFICIARY_GROUPS))
    month = day[:8] + "01"
    inner = f"""
    SELECT COALESCE(e.province, cp.province, '00') AS province,
        CASE WHEN pp.bhxh_code IN (SELECT bhxh_code FROM verified_codes)
             THEN 1 ELSE 0 END AS correct_num, 1 AS correct_den,
        CASE WHEN pp.participant_type NOT IN ({employer_groups}) OR pp.employer_code IS NOT NULL
             THEN 1 ELSE 0 END AS complete_num, 1 AS complete_den,
        CASE WHEN pp.participant_type IN ({all_groups})
              AND EXISTS (SELECT 1 FROM persons k WHERE k.bhxh_code = pp.bhxh_code)
              AND NOT EXISTS (SELECT 1 FROM participation_periods q
                   WHERE q.bhxh_code = pp.bhxh_code AND q.scheme = pp.scheme AND q.id <> pp.id
                     AND q.start_month <= COALESCE(pp.end_month, '{month}')
                     AND COALESCE(q.end_month, '{month}') >= pp.start_month)
             THEN 1 ELSE 0 END AS clean_num, 1 AS clean_den,
        CASE WHEN pp.end_month IS NOT NULL AND pp.end_month < '{month}' THEN 0
             WHEN d.bhxh_code IS NOT NULL AND (pp.end_month IS NULL
                  OR pp.end_month > d.death_date) THEN 0
             ELSE 1 END AS alive_num,
        CASE WHEN pp.end_month IS NULL OR pp.end_month >= '{month}'
             THEN 1 ELSE 0 END AS alive_den
    FROM participation_periods pp
    LEFT JOIN employers e ON e.employer_code = pp.employer_code
    LEFT JOIN code_province cp ON cp.bhxh_code = pp.bhxh_code
    LEFT JOIN dead d ON d.bhxh_code = pp.bhxh_code
    WHERE pp.scheme = '{scheme}' AND pp.start_month <= '{day}'
    """
    ctes = f"{_DEAD}, {_VERIFIED_CODES}, {_CODE_PROVINCE}"
    return f"WITH {ctes} {_aggregate(inner)}"


def card_sql(day: str, cut: str) -> str:
    """(đ) health-insurance cards issued by the day: one active card per person, a code
    consistent with its group and holder, a chosen facility, no live card of the dead."""
    all_groups = _codes(sorted(BENEFICIARY_GROUPS))
    active = f"(h.status = 'active' AND h.valid_from <= '{day}' AND h.valid_to >= '{day}')"
    inner = f"""
    SELECT h.province_code AS province,
        CASE WHEN h.bhxh_code IN (SELECT bhxh_code FROM verified_codes)
             THEN 1 ELSE 0 END AS correct_num, 1 AS correct_den,
        CASE WHEN substr(h.facility_code, 3, 3) <> '000'
             THEN 1 ELSE 0 END AS complete_num, 1 AS complete_den,
        CASE WHEN h.group_code IN ({all_groups}) AND h.benefit_level BETWEEN 1 AND 5
              AND length(h.card_code) = 15 AND substr(h.card_code, 1, 2) = h.group_code
              AND substr(h.card_code, 6, 10) = h.bhxh_code
              AND NOT ({active} AND EXISTS (SELECT 1 FROM health_cards q
                   WHERE q.bhxh_code = h.bhxh_code AND q.id <> h.id AND q.status = 'active'
                     AND q.valid_from <= '{day}' AND q.valid_to >= '{day}'))
             THEN 1 ELSE 0 END AS clean_num, 1 AS clean_den,
        CASE WHEN {active} AND d.bhxh_code IS NULL THEN 1 ELSE 0 END AS alive_num,
        CASE WHEN {active} THEN 1 ELSE 0 END AS alive_den
    FROM health_cards h
    LEFT JOIN dead d ON d.bhxh_code = h.bhxh_code
    WHERE h.valid_from <= '{day}'
    """
    return f"WITH {_DEAD}, {_VERIFIED_CODES} {_aggregate(inner)}"


def benefit_sql(day: str, cut: str) -> str:
    """(d) benefits begun by the day: the amount its kind needs, a known holder, none paid on
    past the holder's death."""
    monthly, lump = _codes(_MONTHLY), _codes(_LUMP_SUM)
    active = f"(b.status = 'active' AND (b.end_date IS NULL OR b.end_date >= '{day}'))"
    inner = f"""
    SELECT COALESCE(cp.province, '00') AS province,
        CASE WHEN b.bhxh_code IN (SELECT bhxh_code FROM verified_codes)
             THEN 1 ELSE 0 END AS correct_num, 1 AS correct_den,
        CASE WHEN b.decided_at IS NOT NULL
              AND (b.kind NOT IN ({monthly}) OR b.monthly_amount IS NOT NULL)
              AND (b.kind NOT IN ({lump}) OR b.lump_sum IS NOT NULL)
             THEN 1 ELSE 0 END AS complete_num, 1 AS complete_den,
        CASE WHEN EXISTS (SELECT 1 FROM persons k WHERE k.bhxh_code = b.bhxh_code)
              AND COALESCE(b.monthly_amount, 0) >= 0 AND COALESCE(b.lump_sum, 0) >= 0
             THEN 1 ELSE 0 END AS clean_num, 1 AS clean_den,
        CASE WHEN {active} AND (d.bhxh_code IS NULL OR b.end_date <= d.death_date)
             THEN 1 ELSE 0 END AS alive_num,
        CASE WHEN {active} THEN 1 ELSE 0 END AS alive_den
    FROM benefits b
    LEFT JOIN code_province cp ON cp.bhxh_code = b.bhxh_code
    LEFT JOIN dead d ON d.bhxh_code = b.bhxh_code
    WHERE b.start_date <= '{day}'
    """
    ctes = f"{_DEAD}, {_VERIFIED_CODES}, {_CODE_PROVINCE}"
    return f"WITH {ctes} {_aggregate(inner)}"


def day_and_cut(as_of: date, timezone: str = "Asia/Ho_Chi_Minh") -> tuple[str, str]:
    """The literals of the day and of its cut-off instant (UTC)."""
    cut = cutoff_instant(as_of, timezone).strftime("%Y-%m-%d %H:%M:%S+00:00")
    return as_of.isoformat(), cut


def group_queries(as_of: date, timezone: str = "Asia/Ho_Chi_Minh") -> dict[str, str]:
    """The query of every information group for the day ``as_of``, by group key; they read
    the helper tables of :func:`helper_statements`."""
    day, cut = day_and_cut(as_of, timezone)
    return {
        "person": person_sql(day, cut),
        "bhxh": participation_sql("BHXH", day, cut),
        "bhyt": participation_sql("BHYT", day, cut),
        "bhtn": participation_sql("BHTN", day, cut),
        "card": card_sql(day, cut),
        "benefit": benefit_sql(day, cut),
        "employer": employer_sql(day),
    }
