"""The counts behind the open datasets, read from the store with plain SQL (both engines).

Every function returns raw counts keyed by the 34-province code: the SQL groups by the codes
as stored (old 63-list codes on older cards and IDs) and Python folds them into the list of
1 July 2025. Nothing here is suppressed yet: :mod:`nidb.analytics.publish` does that.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import Engine, text

from nidb.analytics.icd10 import chapter_of
from nidb.analytics.quality import province34

AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5),
    ("6-17", 6, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, None),
)
UNKNOWN_AGE = "unknown"


def age_band(birth_year: int | None, on: date) -> str:
    """The age band of someone born in ``birth_year``, by age reached in the year of ``on``."""
    if birth_year is None:
        return UNKNOWN_AGE
    age = on.year - int(birth_year)
    for label, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return UNKNOWN_AGE


def _month_start(on: date) -> str:
    return on.replace(day=1).isoformat()


def active_participation(on: date) -> str:
    """Two SQL CTEs: ``active`` (each BHXH code and scheme with a participation period open on
    ``on``, with its employer) and ``code_province`` (a code's card province). A participant's
    province is their employer's, else their card's (open data and the reports alike)."""
    day, month = on.isoformat(), _month_start(on)
    return f"""active AS (
        SELECT bhxh_code || '' AS bhxh_code, scheme, MIN(employer_code) AS employer_code
        FROM participation_periods
        WHERE start_month <= '{day}' AND (end_month IS NULL OR end_month >= '{month}')
        GROUP BY bhxh_code || '', scheme
    ), code_province AS (
        SELECT bhxh_code || '' AS bhxh_code, MIN(province_code) AS province
        FROM health_cards GROUP BY bhxh_code || ''
    )"""


def participants(engine: Engine, on: date) -> Counter[tuple[str, str, str]]:
    """People (BHXH codes) with a participation period open on ``on``, by scheme, province
    (their employer's, else their card's) and age band."""
    sql = f"""
    WITH {active_participation(on)}, birth AS (
        SELECT bhxh_code || '' AS bhxh_code, MIN(birth_year) AS birth_year
        FROM persons GROUP BY bhxh_code || ''
    )
    SELECT a.scheme, COALESCE(e.province, cp.province, '00') AS province, b.birth_year,
           COUNT(*) AS n
    FROM active a
    LEFT JOIN employers e ON e.employer_code = a.employer_code
    LEFT JOIN code_province cp ON cp.bhxh_code = a.bhxh_code
    LEFT JOIN birth b ON b.bhxh_code = a.bhxh_code
    GROUP BY a.scheme, COALESCE(e.province, cp.province, '00'), b.birth_year
    """
    counts: Counter[tuple[str, str, str]] = Counter()
    with engine.connect() as conn:
        for scheme, province, year, n in conn.execute(text(sql)):
            counts[(scheme, province34(province), age_band(year, on))] += int(n)
    return counts


def cardholders(engine: Engine, on: date) -> Counter[tuple[str, str]]:
    """People holding an active health-insurance card on ``on``, by the card's province and
    beneficiary group (one person counted once per province and group)."""
    day = on.isoformat()
    sql = f"""
    SELECT province_code, group_code, COUNT(DISTINCT bhxh_code) AS n
    FROM health_cards
    WHERE status = 'active' AND valid_from <= '{day}' AND valid_to >= '{day}'
    GROUP BY province_code, group_code
    """
    counts: Counter[tuple[str, str]] = Counter()
    with engine.connect() as conn:
        for province, group, n in conn.execute(text(sql)):
            counts[(province34(province), group)] += int(n)
    return counts


def coverage(engine: Engine, on: date) -> Counter[tuple[str, str]]:
    """Living citizens of the population-database extract on ``on`` by birth-registration
    province, split into ``insured`` (an active card through a verified record) and
    ``uninsured``."""
    day = on.isoformat()
    sql = f"""
    WITH insured AS (
        SELECT DISTINCT p.verified_personal_id AS personal_id
        FROM persons p JOIN health_cards h ON h.bhxh_code = p.bhxh_code
        WHERE p.verification_status = 'verified' AND p.verified_personal_id IS NOT NULL
          AND h.status = 'active' AND h.valid_from <= '{day}' AND h.valid_to >= '{day}'
    )
    SELECT substr(c.birth_province, 2, 2) AS province,
           CASE WHEN i.personal_id IS NULL THEN 'uninsured' ELSE 'insured' END AS kind,
           COUNT(*) AS n
    FROM citizens c LEFT JOIN insured i ON i.personal_id = c.personal_id
    WHERE c.death_date IS NULL OR c.death_date > '{day}'
    GROUP BY substr(c.birth_province, 2, 2),
             CASE WHEN i.personal_id IS NULL THEN 'uninsured' ELSE 'insured' END
    """
    counts: Counter[tuple[str, str]] = Counter()
    with engine.connect() as conn:
        for province, kind, n in conn.execute(text(sql)):
            counts[(province34(province), kind)] += int(n)
    return counts


def visits(engine: Engine, first: date, last: date) -> Counter[tuple[str, str, str]]:
    """Insured visits admitted between ``first`` and ``last`` (inclusive, by month), by month
    (``YYYY-MM``), the facility's province and ICD-10 chapter."""
    sql = f"""
    SELECT substr(CAST(admitted_at AS VARCHAR(32)), 1, 7) AS month,
           substr(facility_code, 1, 2) AS province, icd10, COUNT(*) AS n
    FROM health_visits
    WHERE admitted_at >= '{first.isoformat()}'
      AND admitted_at < '{_day_after(last)}'
    GROUP BY substr(CAST(admitted_at AS VARCHAR(32)), 1, 7), substr(facility_code, 1, 2), icd10
    """
    counts: Counter[tuple[str, str, str]] = Counter()
    with engine.connect() as conn:
        for month, province, icd, n in conn.execute(text(sql)):
            counts[(month, province34(province), chapter_of(icd))] += int(n)
    return counts


def _day_after(on: date) -> str:
    from datetime import timedelta

    return (on + timedelta(days=1)).isoformat()


def facility_codes(engine: Engine) -> list[tuple[str, str]]:
    """Every facility code named by a card or a visit, with its 34-province code."""
    sql = """
    SELECT facility_code FROM health_cards UNION SELECT facility_code FROM health_visits
    """
    with engine.connect() as conn:
        codes = sorted({row[0] for row in conn.execute(text(sql))})
    return [(code, province34(code[:2])) for code in codes]
