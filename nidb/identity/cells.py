"""Malformed cells of a records file: set aside, listed, and never allowed to stop a run.

A records file of the insurance system is typed over decades; one record may carry an ID of 11
digits (a spreadsheet dropped its leading zero), a birth date 31/02, or a gender ``X``. Such a
cell is not a reason to refuse the other ninety thousand records, nor the record itself: the
cell is treated as empty, the record is matched on its other fields, the cell is listed in a
side file with the layout of the import's quarantine (``FILE.rejected.csv`` in
docs/interchange.md: row, column, value, rule, reason), and the record's answer carries a reason
code (``ID_MALFORMED``, ``DOB_MALFORMED``, ``GENDER_MALFORMED``).

Where a malformed ID has one likely intended form — 11 digits whose leading ``0`` a spreadsheet
dropped, or 12 digits written with spaces, dots or dashes — that form is kept as *evidence*
(``pid_hint``): it finds candidates and agrees or disagrees with them, but it never confirms a
record by itself and never makes a link automatic unless the name letters and birth year agree.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from nidb.domain.spreadsheet import neutralise_sql

REJECT_COLUMNS = ("row", "column", "value", "rule", "reason")
"""The quarantine layout of docs/interchange.md (``FILE.rejected.csv``)."""

CELL_REASONS = {
    "personal_id": "ID_MALFORMED",
    "date_of_birth": "DOB_MALFORMED",
    "gender": "GENDER_MALFORMED",
}
"""The reason code that marks, in the answer, a record whose cell of that column was set aside."""

VALID_GENDER = "upper({c}) IN ('M', 'NAM', 'MALE', '1', 'F', 'NỮ', 'NU', 'FEMALE', '2')"


def rejected_path_for(out: Path) -> Path:
    """Where the set-aside cells of a run that writes ``out`` go: ``OUT.rejected.csv``."""
    return out.with_name(out.name + ".rejected.csv")


def set_aside(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """List the malformed ID, birth-date and gender cells of ``table`` and empty them.

    ``table`` is a records input table (``_row`` plus text columns) and ``dob_map`` holds its
    parsed birth dates with ``rule`` and ``reason``. Creates ``rejected_cells`` (the quarantine
    rows) and adds to ``table`` the columns ``cell_reasons`` (``;``-joined codes) and ``pid_hint``
    (a likely intended 12-digit ID of a malformed ID cell). Returns the number of cells set aside.
    """
    digits = "regexp_replace(personal_id, '[\\s.\\-]', '', 'g')"
    gender_ok = VALID_GENDER.format(c="gender")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE rejected_cells AS
        SELECT _row AS "row", 'personal_id' AS "column", personal_id AS value,
               'ID_NUMBER_FORMAT' AS rule,
               'số giấy tờ phải gồm 12 chữ số (định danh cá nhân) hoặc 9 chữ số (CMND) '
               || '(ID number must be 12 digits (personal ID) or 9 digits (old ID card))' AS reason
        FROM {table}
        WHERE personal_id IS NOT NULL
          AND NOT regexp_full_match(personal_id, '[0-9]{{12}}|[0-9]{{9}}')
        UNION ALL
        SELECT t._row, 'date_of_birth', t.date_of_birth, d.rule, d.reason
        FROM {table} t JOIN dob_map d USING (date_of_birth)
        WHERE d.rule IS NOT NULL
        UNION ALL
        SELECT _row, 'date_of_birth', '', 'REQUIRED_MISSING',
               'bắt buộc nhưng để trống (required but empty)'
        FROM {table} WHERE date_of_birth IS NULL
        UNION ALL
        SELECT _row, 'gender', gender, 'GENDER_INVALID',
               'giới tính phải là M/F, Nam/Nữ hoặc 1/2 (gender must be M/F, Nam/Nữ or 1/2)'
        FROM {table} WHERE gender IS NOT NULL AND NOT ({gender_ok})
    """)
    codes = " ".join(f"WHEN '{column}' THEN '{code}'" for column, code in CELL_REASONS.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table}_cells AS
        SELECT "row" AS _row,
               string_agg(DISTINCT CASE "column" {codes} END, ';'
                          ORDER BY CASE "column" {codes} END) AS cell_reasons,
               bool_or("column" = 'personal_id') AS id_bad,
               bool_or("column" = 'date_of_birth') AS dob_bad,
               bool_or("column" = 'gender') AS gender_bad
        FROM rejected_cells GROUP BY 1
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT t.* REPLACE (
                   CASE WHEN c.id_bad THEN NULL ELSE t.personal_id END AS personal_id,
                   CASE WHEN c.dob_bad THEN NULL ELSE t.date_of_birth END AS date_of_birth,
                   CASE WHEN c.gender_bad THEN NULL ELSE t.gender END AS gender),
               c.cell_reasons,
               CASE WHEN c.id_bad AND regexp_full_match({digits}, '[0-9]{{12}}') THEN {digits}
                    WHEN c.id_bad AND regexp_full_match(t.personal_id, '[1-9][0-9]{{10}}')
                         THEN '0' || t.personal_id
               END AS pid_hint
        FROM {table} t LEFT JOIN {table}_cells c USING (_row)
        ORDER BY t._row
    """)
    return int(con.execute("SELECT count(*) FROM rejected_cells").fetchall()[0][0])


def write_rejected(con: duckdb.DuckDBPyConnection, out: Path) -> Path | None:
    """Write ``rejected_cells`` beside ``out`` as ``OUT.rejected.csv``; None when there are none.

    A side file of an earlier run of the same answer is removed when this run set nothing
    aside, so the file beside an answer is always that answer's. Cells a spreadsheet could run
    as formulas get a leading quote (``nidb.domain.spreadsheet``).
    """
    target = rejected_path_for(out)
    count = int(con.execute("SELECT count(*) FROM rejected_cells").fetchall()[0][0])
    if count == 0:
        target.unlink(missing_ok=True)
        return None
    cells = ", ".join(
        f'"{c}"' if c == "row" else f'{neutralise_sql(f"{chr(34)}{c}{chr(34)}")} AS "{c}"'
        for c in REJECT_COLUMNS
    )
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    con.execute(
        f'COPY (SELECT {cells} FROM rejected_cells ORDER BY "row", "column") '
        f"TO '{temp}' (FORMAT csv, HEADER true)"
    )
    os.replace(temp, target)
    return target
