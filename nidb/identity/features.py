"""Matching features: interchange files loaded into DuckDB, validated, and normalised.

Both sides (``records`` and the population ``registry``) become one row per input row with the
same feature columns. Names and birth dates are normalised by the domain module itself — once
per *distinct* value, since a country has far fewer distinct names and dates than people — so
matching uses exactly the rules the rest of nidb uses. Bad input is refused with the file, the
row and the column, before any matching starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from nidb.domain.dates import parse_birth_date
from nidb.domain.errors import DomainError
from nidb.domain.names import name_forms
from nidb.identity import cells

RECORDS_REQUIRED = ("record_id", "bhxh_code", "full_name", "date_of_birth")
RECORDS_OPTIONAL = ("gender", "personal_id", "birth_province", "address", "employer_code")
REGISTRY_REQUIRED = ("personal_id", "full_name", "date_of_birth", "gender")
REGISTRY_OPTIONAL = (
    "birth_province",
    "permanent_address",
    "household_id",
    "status",
    "death_date",
    "old_id",
)
"""``old_id`` is an extra column (INTERCHANGE: kept where a table has a place for it): the old
9-digit ID card number (số CMND) the population database keeps for whoever held one."""
MAX_LISTED_ERRORS = 20
FEATURES = (
    "unique_id",
    "pid12",
    "cmnd9",
    "name_lower",
    "name_base",
    "family",
    "middle",
    "given",
    "dob_year",
    "dob_month",
    "dob_day",
    "dob_precision",
    "name_nodob",
    "name_flat",
    "dob_low",
    "dob_high",
    "gender",
    "birth_province",
    "address_key",
    "id_confirmed",
)
"""The columns both sides share in ``records_f`` and ``registry_f`` (Splink's input).

Three are blocking keys only (``nidb.identity.model.BLOCKING_RULES``): ``name_flat``, the name's
base letters without spaces, which a word joined or split (``Thị Thu`` / ``Thịthu``) leaves
alone; ``dob_low`` and ``dob_high``, the smaller and the larger of the birth month and day, which
a day/month swap leaves alone."""


class MatchInputError(Exception):
    """An input file cannot be matched; names the file and, per problem, the row and column."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        shown = problems[:MAX_LISTED_ERRORS]
        more = len(problems) - len(shown)
        tail = f"\n  … và {more} lỗi khác (and {more} more)" if more > 0 else ""
        super().__init__(f"{path}:\n  " + "\n  ".join(shown) + tail)
        self.path = path
        self.problems = problems


@dataclass(frozen=True)
class LoadedInputs:
    """Row counts of the two feature tables ``records_f`` and ``registry_f``."""

    records: int
    registry: int


def _read(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    required: tuple[str, ...],
    optional: tuple[str, ...],
) -> int:
    """Load a CSV/Parquet file as text columns with a row number; check its columns."""
    if not path.is_file():
        raise MatchInputError(path, ["không tìm thấy tệp (file not found)"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        source = (
            "read_csv(?, header = true, all_varchar = true, auto_detect = false, "
            "columns = ?, strict_mode = true)"
        )
    elif suffix == ".parquet":
        source = "read_parquet(?)"
    else:
        raise MatchInputError(
            path,
            [
                f"định dạng '{suffix}' không hỗ trợ; dùng .csv hoặc .parquet "
                f"(unsupported extension '{suffix}')"
            ],
        )
    try:
        if suffix == ".csv":
            header = _csv_header(path)
            missing = [c for c in required if c not in header]
            if missing:
                raise MatchInputError(
                    path, [f"thiếu cột bắt buộc (missing required column): {c}" for c in missing]
                )
            params: list[object] = [str(path), {name: "VARCHAR" for name in header}]
        else:
            params = [str(path)]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_src AS "
            f"SELECT row_number() OVER () AS _row, * FROM {source}",
            params,
        )
    except duckdb.Error as error:
        raise MatchInputError(path, [f"không đọc được tệp (unreadable file): {error}"]) from None
    present = {row[0] for row in con.execute(f"DESCRIBE {table}_src").fetchall()}
    missing = [c for c in required if c not in present]
    if missing:
        raise MatchInputError(
            path, [f"thiếu cột bắt buộc (missing required column): {c}" for c in missing]
        )
    columns = [
        f"NULLIF(trim(CAST({c} AS VARCHAR)), '') AS {c}"
        if c in present
        else f"NULL::VARCHAR AS {c}"
        for c in (*required, *optional)
    ]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT _row, {', '.join(columns)} "
        f"FROM {table}_src"
    )
    con.execute(f"DROP TABLE {table}_src")
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline()
    if not first.strip():
        raise MatchInputError(path, ["tệp rỗng, không có dòng tiêu đề (empty file: no header)"])
    return [name.strip().strip('"') for name in first.decode("utf-8-sig").strip().split(",")]


def _problems(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [row[0] for row in con.execute(sql).fetchall()]


def _distinct(con: duckdb.DuckDBPyConnection, column: str, tables: tuple[str, ...]) -> list[str]:
    union = " UNION ".join(
        f"SELECT DISTINCT {column} FROM {t} WHERE {column} IS NOT NULL" for t in tables
    )
    return [row[0] for row in con.execute(union).fetchall()]


def _distinct_names(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    """``name_map``: every distinct full name of both files at each matching level."""
    raw = _distinct(con, "full_name", tables)
    lower: list[str | None] = []
    base: list[str | None] = []
    family: list[str | None] = []
    middle: list[str | None] = []
    given: list[str | None] = []
    flat: list[str | None] = []
    error: list[str | None] = []
    for name in raw:
        try:
            forms = name_forms(name)
        except DomainError as problem:
            for column in (lower, base, family, middle, given, flat):
                column.append(None)
            error.append(f"{problem.rule}: {problem.message_vi} ({problem.message_en})")
            continue
        lower.append(forms.lower)
        base.append(forms.base)
        family.append(forms.base.split()[0])
        parts = forms.base.split()
        middle.append(" ".join(parts[1:-1]))
        given.append(parts[-1])
        flat.append(forms.base.replace(" ", ""))
        error.append(None)
    name_map = pa.table(
        {
            "full_name": raw,
            "name_lower": lower,
            "name_base": base,
            "family": family,
            "middle": middle,
            "given": given,
            "name_flat": flat,
            "error": error,
        }
    )
    con.register("name_map_arrow", name_map)
    con.execute("CREATE OR REPLACE TEMP TABLE name_map AS SELECT * FROM name_map_arrow")
    con.unregister("name_map_arrow")


def _distinct_dates(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    """``dob_map``: every distinct birth date text as year, month, day and precision."""
    raw = _distinct(con, "date_of_birth", tables)
    year: list[int | None] = []
    month: list[int | None] = []
    day: list[int | None] = []
    precision: list[str | None] = []
    error: list[str | None] = []
    rule: list[str | None] = []
    reason: list[str | None] = []
    for text in raw:
        try:
            parsed = parse_birth_date(text)
        except DomainError as problem:
            for part in (year, month, day):
                part.append(None)
            precision.append(None)
            error.append(f"{problem.rule}: {problem.message_vi} ({problem.message_en})")
            rule.append(str(problem.rule))
            reason.append(problem.reason)
            continue
        year.append(parsed.year)
        month.append(parsed.month)
        day.append(parsed.day)
        precision.append(parsed.precision.value)
        error.append(None)
        rule.append(None)
        reason.append(None)
    dob_map = pa.table(
        {
            "date_of_birth": raw,
            "dob_year": pa.array(year, pa.int16()),
            "dob_month": pa.array(month, pa.int8()),
            "dob_day": pa.array(day, pa.int8()),
            "dob_precision": precision,
            "error": error,
            "rule": pa.array(rule, pa.string()),
            "reason": pa.array(reason, pa.string()),
        }
    )
    con.register("dob_map_arrow", dob_map)
    con.execute("CREATE OR REPLACE TEMP TABLE dob_map AS SELECT * FROM dob_map_arrow")
    con.unregister("dob_map_arrow")


def _gender_sql(column: str) -> str:
    # the spellings nidb.domain.gender.parse_gender accepts
    return (
        f"CASE WHEN {column} IS NULL THEN NULL "
        f"WHEN upper({column}) IN ('M', 'NAM', 'MALE', '1') THEN 'M' "
        f"WHEN upper({column}) IN ('F', 'NỮ', 'NU', 'FEMALE', '2') THEN 'F' END"
    )


def _address_key(column: str) -> str:
    # house, street and commune: the province at the end was renamed by the 2025 merger
    return f"NULLIF(lower(trim(regexp_replace({column}, ',[^,]*$', ''))), '')"


def load_inputs(con: duckdb.DuckDBPyConnection, registry: Path, records: Path) -> LoadedInputs:
    """Read, validate and normalise both files into ``records_f`` and ``registry_f``.

    ``records_x`` and ``registry_x`` hold the same rows with the extra columns (row number,
    declared ID, status) that decisions and reasons need.
    """
    _read(con, "records_in", records, RECORDS_REQUIRED, RECORDS_OPTIONAL)
    _read(con, "registry_in", registry, REGISTRY_REQUIRED, REGISTRY_OPTIONAL)
    _distinct_names(con, ("records_in", "registry_in"))
    _distinct_dates(con, ("records_in", "registry_in"))
    _check(con, records, "records_in", id_rule="records")
    cells.set_aside(con, "records_in")
    _check(con, registry, "registry_in", id_rule="registry")
    _records_x(con)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE registry_x AS
        SELECT r.personal_id AS unique_id, r.personal_id AS pid12, r.old_id AS cmnd9,
               n.name_lower, n.name_base, n.family, n.middle, n.given,
               d.dob_year, d.dob_month, d.dob_day, d.dob_precision,
               n.name_base AS name_nodob, n.name_flat,
               least(d.dob_month, d.dob_day) AS dob_low,
               greatest(d.dob_month, d.dob_day) AS dob_high,
               {_gender_sql("r.gender")} AS gender,
               r.birth_province, {_address_key("r.permanent_address")} AS address_key,
               coalesce(r.status, 'alive') AS status
        FROM registry_in r
        JOIN name_map n USING (full_name)
        JOIN dob_map d USING (date_of_birth)
    """)
    # a declared ID naming a registry person of the same name (letters) and birth year
    con.execute("ALTER TABLE registry_x ADD COLUMN id_confirmed BOOLEAN DEFAULT false")
    con.execute("""
        UPDATE records_x SET id_confirmed = true FROM registry_x r
        WHERE records_x.pid12 = r.pid12 AND NOT records_x.id_hinted
          AND records_x.name_base = r.name_base
          AND records_x.dob_year = r.dob_year
    """)
    # likewise an old 9-digit ID (CMND) the registry keeps for a person of that name and year
    con.execute("""
        UPDATE records_x SET id_confirmed = true FROM registry_x r
        WHERE records_x.cmnd9 = r.cmnd9
          AND records_x.name_base = r.name_base
          AND records_x.dob_year = r.dob_year
    """)
    # Splink wants both sides with the same columns; the extras stay in the *_x tables
    for side in ("records", "registry"):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {side}_f AS SELECT {', '.join(FEATURES)} FROM {side}_x"
        )
    counts = con.execute(
        "SELECT (SELECT count(*) FROM records_f), (SELECT count(*) FROM registry_f)"
    ).fetchall()[0]
    return LoadedInputs(records=int(counts[0]), registry=int(counts[1]))


def _records_x(con: duckdb.DuckDBPyConnection) -> None:
    """``records_x`` from ``records_in`` and the name and date maps."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE records_x AS
        SELECT r.record_id AS unique_id, r._row, r.bhxh_code, r.personal_id AS declared_id,
               coalesce(
                   CASE WHEN regexp_full_match(r.personal_id, '[0-9]{{12}}') THEN r.personal_id END,
                   r.pid_hint) AS pid12,
               CASE WHEN regexp_full_match(r.personal_id, '[0-9]{{9}}') THEN r.personal_id END
                   AS cmnd9,
               r.pid_hint IS NOT NULL AS id_hinted,
               coalesce(r.cell_reasons, '') AS cell_reasons,
               n.name_lower, n.name_base, n.family, n.middle, n.given,
               d.dob_year, d.dob_month, d.dob_day, d.dob_precision,
               CASE WHEN d.dob_year IS NULL THEN n.name_base END AS name_nodob, n.name_flat,
               least(d.dob_month, d.dob_day) AS dob_low,
               greatest(d.dob_month, d.dob_day) AS dob_high,
               {_gender_sql("r.gender")} AS gender,
               r.birth_province, {_address_key("r.address")} AS address_key
        FROM records_in r
        JOIN name_map n USING (full_name)
        LEFT JOIN dob_map d USING (date_of_birth)
    """)
    con.execute("ALTER TABLE records_x ADD COLUMN id_confirmed BOOLEAN DEFAULT false")


def load_records(con: duckdb.DuckDBPyConnection, records: Path) -> int:
    """Read, validate and normalise a records file alone into ``records_f`` / ``records_x``."""
    _read(con, "records_in", records, RECORDS_REQUIRED, RECORDS_OPTIONAL)
    _distinct_names(con, ("records_in",))
    _distinct_dates(con, ("records_in",))
    _check(con, records, "records_in", id_rule="records")
    cells.set_aside(con, "records_in")
    _records_x(con)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE records_f AS SELECT {', '.join(FEATURES)}, "
        "bhxh_code FROM records_x"
    )
    return int(con.execute("SELECT count(*) FROM records_f").fetchall()[0][0])


def _check(con: duckdb.DuckDBPyConnection, path: Path, table: str, id_rule: str) -> None:
    """Refuse the file if a row cannot be matched at all, listing row, column, value and rule.

    The registry is the authority, so any bad cell refuses it. A records row is refused only
    for what leaves nothing to match or no way to answer it: no record ID (or one used twice),
    no usable name. Its malformed ID, birth-date and gender cells are set aside instead
    (``nidb.identity.cells``) and the record is matched on its other fields.
    """
    key = "record_id" if id_rule == "records" else "personal_id"
    required = (
        f"'{key}', 'full_name', 'date_of_birth'"
        if id_rule == "registry"
        else (f"'{key}', 'full_name'")
    )
    values = f"{key}, full_name, date_of_birth" if id_rule == "registry" else f"{key}, full_name"
    checks = [
        f"SELECT 'dòng (row) ' || t._row || ', cột (column) full_name = ' || t.full_name || ': ' "
        f"|| n.error, t._row FROM {table} t JOIN name_map n USING (full_name) WHERE n.error IS NOT NULL",
        f"SELECT 'dòng (row) ' || _row || ', cột (column) ' || c || ': REQUIRED_MISSING', _row FROM "
        f"(SELECT _row, unnest([{required}]) AS c, "
        f"unnest([{values}]) AS v FROM {table}) WHERE v IS NULL",
        f"SELECT 'dòng (row) ' || _row || ', cột (column) {key} = ' || {key} || ': DUPLICATE_KEY', "
        f"_row FROM (SELECT _row, {key}, count(*) OVER (PARTITION BY {key}) AS n FROM {table}) "
        f"WHERE n > 1 AND {key} IS NOT NULL",
    ]
    if id_rule == "registry":
        checks += [
            f"SELECT 'dòng (row) ' || t._row || ', cột (column) date_of_birth = ' || t.date_of_birth "
            f"|| ': ' || d.error, t._row FROM {table} t JOIN dob_map d USING (date_of_birth) "
            f"WHERE d.error IS NOT NULL",
            f"SELECT 'dòng (row) ' || _row || ', cột (column) gender = ' || gender || "
            f"': GENDER_INVALID', _row FROM {table} "
            f"WHERE gender IS NOT NULL AND ({_gender_sql('gender')}) IS NULL",
            f"SELECT 'dòng (row) ' || _row || ', cột (column) personal_id = ' || personal_id || "
            f"': PERSONAL_ID_FORMAT', _row FROM {table} WHERE NOT regexp_full_match(personal_id, '[0-9]{{12}}')",
            f"SELECT 'dòng (row) ' || _row || ', cột (column) gender: REQUIRED_MISSING', _row "
            f"FROM {table} WHERE gender IS NULL",
            f"SELECT 'dòng (row) ' || _row || ', cột (column) old_id = ' || old_id || "
            f"': OLD_ID_FORMAT', _row FROM {table} "
            f"WHERE old_id IS NOT NULL AND NOT regexp_full_match(old_id, '[0-9]{{9}}')",
            f"SELECT 'dòng (row) ' || _row || ', cột (column) old_id = ' || old_id || "
            f"': DUPLICATE_KEY', _row FROM (SELECT _row, old_id, count(*) OVER "
            f"(PARTITION BY old_id) AS n FROM {table}) WHERE n > 1 AND old_id IS NOT NULL",
        ]
    problems = _problems(
        con, " UNION ALL ".join(f"({c})" for c in checks) + " ORDER BY 2 LIMIT 1000"
    )
    if problems:
        raise MatchInputError(path, problems)
