"""A detection snapshot straight from generated files, without the store (for benchmarks).

``nidb import`` of ten million visits row by row, then ``nidb export``, would measure the
loader rather than detection. This module makes the same Parquet tables from the files of
``nidb generate`` (Parquet or CSV) with one DuckDB statement per table, the way the loader
stores them: card codes split into holder, group, level and province, months as first days.

Identity is taken as resolved: each record is verified to the registry person the generator's
``truth`` file names (what ``nidb verify``, ``nidb match`` and the review queue are for, and are
measured on elsewhere), with one open ``verified`` identity link per BHXH code and person;
records of people missing from the registry stay unverified. Detection is then measured on its
own, not on the errors injected into identities. Only the columns the rules read are written.
"""

from __future__ import annotations

from pathlib import Path

from nidb.detect.runner import DETECT_TABLES

_SELECTS: dict[str, str] = {
    "citizens": """
        SELECT CAST(personal_id AS VARCHAR) AS personal_id, full_name, CAST(status AS VARCHAR)
               AS status, CAST(death_date AS DATE) AS death_date
        FROM {registry}""",
    "persons": """
        SELECT CAST(r.record_id AS VARCHAR) AS record_id,
               lpad(CAST(r.bhxh_code AS VARCHAR), 10, '0') AS bhxh_code, r.full_name,
               CAST(regexp_extract(CAST(r.date_of_birth AS VARCHAR), '([0-9]{{4}})', 1) AS INTEGER)
                   AS birth_year,
               CAST(r.employer_code AS VARCHAR) AS employer_code,
               CAST(t.personal_id AS VARCHAR) AS verified_personal_id
        FROM {records} r LEFT JOIN {truth} t ON t.record_id = r.record_id""",
    "identity_links": """
        SELECT DISTINCT lpad(CAST(r.bhxh_code AS VARCHAR), 10, '0') AS bhxh_code,
               CAST(t.personal_id AS VARCHAR) AS personal_id, 'verified' AS source,
               CAST(NULL AS TIMESTAMP) AS valid_to
        FROM {records} r JOIN {truth} t ON t.record_id = r.record_id
        WHERE length(CAST(t.personal_id AS VARCHAR)) = 12""",
    "employers": """
        SELECT employer_code, enterprise_code, name, lpad(CAST(province AS VARCHAR), 2, '0')
               AS province, employer_type, CAST(registered_workers AS BIGINT)
               AS registered_workers, status
        FROM {employers}""",
    "participation_periods": """
        SELECT lpad(CAST(bhxh_code AS VARCHAR), 10, '0') AS bhxh_code, scheme, employer_code,
               participant_type, CAST(start_month || '-01' AS DATE) AS start_month,
               CAST(end_month || '-01' AS DATE) AS end_month
        FROM {participation}""",
    "contributions": """
        SELECT lpad(CAST(bhxh_code AS VARCHAR), 10, '0') AS bhxh_code, employer_code,
               CAST(period || '-01' AS DATE) AS period, CAST(wage AS BIGINT) AS wage,
               CAST(bhxh_amount AS BIGINT) AS bhxh_amount
        FROM {contributions}""",
    "health_cards": """
        SELECT card_code, right(card_code, 10) AS bhxh_code, substr(card_code, 1, 2) AS group_code,
               CAST(substr(card_code, 3, 1) AS BIGINT) AS benefit_level,
               substr(card_code, 4, 2) AS province_code,
               lpad(CAST(facility_code AS VARCHAR), 5, '0') AS facility_code,
               CAST(valid_from AS DATE) AS valid_from, CAST(valid_to AS DATE) AS valid_to, status
        FROM {cards}""",
    "benefits": """
        SELECT row_number() OVER () AS id, lpad(CAST(bhxh_code AS VARCHAR), 10, '0') AS bhxh_code,
               kind, CAST(start_date AS DATE) AS start_date, CAST(end_date AS DATE) AS end_date,
               CAST(monthly_amount AS BIGINT) AS monthly_amount,
               CAST(lump_sum AS BIGINT) AS lump_sum, status
        FROM {benefits}""",
    "health_visits": """
        SELECT CAST(visit_id AS VARCHAR) AS visit_id, card_code, right(card_code, 10) AS bhxh_code,
               lpad(CAST(facility_code AS VARCHAR), 5, '0') AS facility_code,
               CAST(admitted_at AS TIMESTAMP) AS admitted_at,
               CAST(discharged_at AS TIMESTAMP) AS discharged_at,
               CAST(inpatient AS INTEGER) = 1 AS inpatient, icd10,
               CAST(total_cost AS BIGINT) AS total_cost,
               CAST(insurer_paid AS BIGINT) AS insurer_paid,
               CAST(patient_paid AS BIGINT) AS patient_paid
        FROM {visits}""",
}
_SOURCES = (
    "registry",
    "records",
    "truth",
    "employers",
    "participation",
    "contributions",
    "cards",
    "benefits",
    "visits",
)


def _reader(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix == ".csv":
        return f"read_csv('{quoted}', header = true, all_varchar = true)"  # keeps leading 0s
    return f"read_parquet('{quoted}')"


def snapshot_from_generated(data_dir: Path, out_dir: Path) -> dict[str, int]:
    """Write ``out_dir/<table>.parquet`` for every table the rules read; rows per table."""
    import duckdb

    fmt = "parquet" if (data_dir / "visits.parquet").exists() else "csv"
    sources = {name: _reader(data_dir / f"{name}.{fmt}") for name in _SOURCES}
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    con = duckdb.connect()
    try:
        for table in DETECT_TABLES:
            target = str(out_dir / f"{table}.parquet").replace("'", "''")
            query = _SELECTS[table].format(**sources)
            con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
            rows[table] = int(
                con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()[0][0]
            )
    finally:
        con.close()
    return rows
