"""``nidb match``: link insurance records to the population registry (Đề án 06).

The pipeline, inside one DuckDB process (with ``engine="spark"``, step 3 runs on Spark):
1. load and validate both files, normalise names and dates (``features``);
2. train the Splink model on the data itself: the chance two random pairs match from
   near-certain links, u-probabilities from random pairs, m-probabilities by EM;
3. score every candidate pair that blocking produces (the declared ID is one blocking key, so
   a record whose ID is right is scored like any other, never trusted blindly);
4. decide per record from its best and second-best candidates, and explain the link with the
   reason codes of ``nidb.identity.reasons`` (mirrored in SQL, tested against the Python);
5. write the ``matches`` file of INTERCHANGE.md, one row per record.

A wrong automatic link attaches a stranger's contribution history to a person, so ``auto``
needs a probability of at least the run's automatic threshold — set from a target rate of
wrong links (``Thresholds.auto_error_rate``) on the run's own scores, see ``auto_threshold`` —
*and* no rival candidate, and a record whose
declared ID (12-digit, or the old 9-digit CMND the registry keeps) belongs to somebody else is
never linked without a person looking.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from nidb.domain.provinces import PROVINCES_34, PROVINCES_63
from nidb.domain.spreadsheet import neutralise_sql
from nidb.identity import cells, model
from nidb.identity.features import load_inputs

Stage = Callable[[str], None]
ENGINES = ("duckdb", "spark")
"""Where the Splink model trains and scores (``--engine``)."""


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the calibrated match probability."""

    auto_error_rate: float = 1e-5
    """Expected wrong automatic links per record matched, from which the run sets its ``auto``
    threshold (``auto_threshold``): a fifth of the target of 5 per 100,000 records, because
    the probabilities are themselves estimated (their calibration is measured by the
    benchmark, not assumed)."""
    auto_floor: float = 0.99
    """No automatic link is wrong more than one time in a hundred, whatever the batch."""
    review: float = 0.5
    """At least this (or an auto candidate with a rival) goes to a staff member."""
    rival: float = 0.05
    """A second candidate this likely makes the best one ambiguous (twins, namesakes)."""
    candidate_floor: float = 0.01
    """Pairs below this are not kept at all."""


@dataclass
class MatchSummary:
    """What a match run did."""

    records: int = 0
    registry: int = 0
    decisions: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    candidate_pairs: int = 0
    auto_threshold: float = 1.0
    """The probability from which this run linked automatically (see ``auto_threshold``)."""
    rejected_cells: int = 0
    """Malformed cells set aside (``nidb.identity.cells``), listed in ``OUT.rejected.csv``."""
    trained_model: dict[str, Any] = field(default_factory=dict)
    """The trained model (Splink's settings with λ, m and u) this run scored with."""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def _valid_prefixes() -> str:
    codes = sorted({f"0{code}" for code in (*PROVINCES_63, *PROVINCES_34)})
    return ", ".join(f"'{code}'" for code in codes)


def reasons_sql(record: str = "l", registry: str = "r") -> str:
    """SQL for the ``;``-joined reason codes of a linked pair (mirror of ``reasons.explain``)."""
    rec, reg = record, registry
    lost = f"({rec}.name_lower = {rec}.name_base AND {reg}.name_lower <> {reg}.name_base)"
    middle_missing = (
        f"(length({rec}.name_base) < length({reg}.name_base) AND {rec}.family = {reg}.family "
        f"AND {rec}.given = {reg}.given AND ({rec}.middle = '' OR list_has_all("
        f"string_split({reg}.middle, ' '), string_split({rec}.middle, ' '))))"
    )
    name = f"""CASE
        WHEN {rec}.name_lower = {reg}.name_lower THEN NULL
        WHEN {rec}.name_base = {reg}.name_base THEN 'NAME_DIACRITICS'
        WHEN {middle_missing} THEN
            CASE WHEN {lost} THEN 'NAME_DIACRITICS;NAME_MIDDLE_MISSING' ELSE 'NAME_MIDDLE_MISSING' END
        WHEN damerau_levenshtein({rec}.name_base, {reg}.name_base) <= 2 THEN
            CASE WHEN {lost} THEN 'NAME_DIACRITICS;NAME_TYPO' ELSE 'NAME_TYPO' END
        ELSE 'NAME_DIFFERENT' END"""
    exact_date = (
        f"({rec}.dob_year = {reg}.dob_year AND {rec}.dob_precision = {reg}.dob_precision "
        f"AND {rec}.dob_month IS NOT DISTINCT FROM {reg}.dob_month "
        f"AND {rec}.dob_day IS NOT DISTINCT FROM {reg}.dob_day)"
    )
    dob = f"""CASE
        WHEN {exact_date} THEN NULL
        WHEN {rec}.dob_year = {reg}.dob_year AND ({rec}.dob_month IS NULL
             OR ({rec}.dob_month = 1 AND {rec}.dob_day = 1 AND {reg}.dob_day IS NOT NULL))
             THEN 'DOB_YEAR_ONLY'
        WHEN {rec}.dob_year = {reg}.dob_year
             AND ({reg}.dob_month IS NULL OR {rec}.dob_month = {reg}.dob_month)
             AND ({rec}.dob_day IS NULL OR {reg}.dob_day IS NULL OR {rec}.dob_day = {reg}.dob_day)
             THEN NULL
        WHEN {rec}.dob_year = {reg}.dob_year AND {rec}.dob_day IS NOT NULL AND {reg}.dob_day IS NOT NULL
             AND {rec}.dob_day = {reg}.dob_month AND {rec}.dob_month = {reg}.dob_day
             THEN 'DOB_DAY_MONTH_SWAPPED'
        ELSE 'DOB_DIFFERENT' END"""
    gender = f"""CASE
        WHEN {rec}.gender IS NULL AND {reg}.gender IS NOT NULL THEN 'GENDER_MISSING'
        WHEN {rec}.gender IS NOT NULL AND {reg}.gender IS NOT NULL AND {rec}.gender <> {reg}.gender
             THEN 'GENDER_MISMATCH' END"""
    province = (
        f"CASE WHEN {rec}.birth_province <> {reg}.birth_province THEN 'BIRTH_PROVINCE_MISMATCH' END"
    )
    return f"concat_ws(';', {name}, {dob}, {gender}, {province})"


def id_reasons_sql(
    record: str = "l", linked: str = "linked_pid", owner_exists: str = "id_owner"
) -> str:
    """SQL for the identity-number reasons of a record given the registry person it links to."""
    rec = record
    sex_digit = f"CAST(substr({rec}.declared_id, 4, 1) AS INTEGER)"
    century = f"(1900 + 100 * ({sex_digit} // 2))"
    inconsistent = (
        f"(substr({rec}.declared_id, 1, 3) NOT IN ({_valid_prefixes()}) "
        f"OR ({rec}.gender IS NOT NULL AND ({sex_digit} % 2 = 0) <> ({rec}.gender = 'M')) "
        f"OR ({rec}.dob_year IS NOT NULL AND "
        f"{century} + CAST(substr({rec}.declared_id, 5, 2) AS INTEGER) <> {rec}.dob_year))"
    )
    return f"""CASE
        WHEN {rec}.cell_reasons LIKE '%ID_MALFORMED%' THEN NULL
        WHEN {rec}.declared_id IS NULL THEN 'ID_MISSING'
        WHEN length({rec}.declared_id) = 9 THEN 'ID_OLD_CMND'
        WHEN {linked} IS NOT NULL AND {rec}.declared_id = {linked} THEN
             CASE WHEN {inconsistent} THEN 'ID_CHECK_FAILED' END
        WHEN {owner_exists} THEN 'ID_MISMATCH'
        WHEN {inconsistent} THEN 'ID_CHECK_FAILED'
        ELSE 'ID_NOT_FOUND' END"""


def _train(con: duckdb.DuckDBPyConnection, stage: Stage, summary: MatchSummary) -> Any:
    """Train the model on the data in DuckDB (whatever the engine); returns the linker.

    Keeps the trained model in ``summary.trained_model``.
    """
    from splink import DuckDBAPI, Linker

    # Splink's training notes (levels not observed…) are for model developers, not for staff
    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("records_f", dataset_display_name="records")
    registry = db_api.register("registry_f", dataset_display_name="registry")
    linker = Linker([records, registry], model.settings(), log_level=None)

    stage("huấn luyện mô hình (training the linkage model)")
    model.train(linker, model.DETERMINISTIC_RULES, 0.9, summary.seconds)
    summary.trained_model = linker.misc.save_model_to_json()
    return linker


def _predict(
    con: duckdb.DuckDBPyConnection,
    linker: Any,
    thresholds: Thresholds,
    stage: Stage,
    summary: MatchSummary,
) -> None:
    """Score the candidate pairs in DuckDB into the table ``candidates``."""
    clock = time.perf_counter()
    stage("chấm điểm các cặp ứng viên (scoring candidate pairs)")
    pairs = linker.inference.predict(threshold_match_probability=thresholds.candidate_floor)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE candidates AS "
        f"SELECT {model.CANDIDATE_COLUMNS} FROM {pairs.physical_name}"
    )
    summary.candidate_pairs = int(con.execute("SELECT count(*) FROM candidates").fetchall()[0][0])
    summary.seconds["predict"] = time.perf_counter() - clock


def _decide(con: duckdb.DuckDBPyConnection, thresholds: Thresholds) -> float:
    """One row per record: the decision, its best candidate, score and reasons.

    Returns the run's automatic threshold (``auto_threshold``).
    """
    linked = "CASE WHEN decision <> 'none' THEN d.candidate END"
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ranked AS
        SELECT record_id, personal_id, p,
               row_number() OVER (PARTITION BY record_id ORDER BY p DESC, personal_id) AS rank
        FROM candidates
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE decided AS
        WITH best AS (SELECT record_id, personal_id, p FROM ranked WHERE rank = 1),
             second AS (SELECT record_id, p AS p2 FROM ranked WHERE rank = 2)
        SELECT l.unique_id AS record_id, l._row, b.personal_id AS candidate, coalesce(b.p, 0.0) AS p,
               coalesce(s.p2, 0.0) AS p2,
               (o.unique_id IS NOT NULL) AS id_owner,
               oc.unique_id AS old_id_owner
        FROM records_x l
        LEFT JOIN best b ON b.record_id = l.unique_id
        LEFT JOIN second s ON s.record_id = l.unique_id
        LEFT JOIN registry_x o ON o.unique_id = l.pid12
        LEFT JOIN registry_x oc ON oc.cmnd9 = l.cmnd9
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE eligible AS
        SELECT d.*, candidate IS NOT NULL AND p >= {thresholds.review} AND p2 < {thresholds.rival}
                    AND NOT (id_owner AND l_pid IS DISTINCT FROM candidate)
                    AND NOT (old_id_owner IS NOT NULL AND old_id_owner <> candidate)
                    AND NOT (id_hinted AND NOT hint_confirmed) AS may_auto
        FROM (
            SELECT d.*, f.pid12 AS l_pid, f.id_hinted,
                   (c.name_base = f.name_base AND c.dob_year = f.dob_year) AS hint_confirmed
            FROM decided d JOIN records_x f ON f.unique_id = d.record_id
            LEFT JOIN registry_x c ON c.unique_id = d.candidate
        ) d
    """)
    auto = auto_threshold(con, thresholds)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE matches AS
        SELECT d.record_id, d._row,
               CASE WHEN decision = 'none' THEN NULL ELSE d.candidate END AS personal_id,
               round(d.p, 6) AS score, decision,
               concat_ws(';',
                   NULLIF(l.cell_reasons, ''),
                   CASE WHEN decision <> 'none' THEN NULLIF({reasons_sql("l", "r")}, '') END,
                   {id_reasons_sql("l", linked, "d.id_owner")},
                   CASE WHEN decision <> 'none' AND r.status = 'dead' THEN 'PERSON_DEAD' END
               ) AS reasons
        FROM (
            SELECT *, CASE
                WHEN candidate IS NULL OR p < {thresholds.review} THEN 'none'
                WHEN may_auto AND p >= {auto!r} THEN 'auto'
                ELSE 'review' END AS decision
            FROM eligible
        ) d
        JOIN records_x l ON l.unique_id = d.record_id
        LEFT JOIN registry_x r ON r.unique_id = d.candidate
    """)
    return auto


def auto_threshold(con: duckdb.DuckDBPyConnection, thresholds: Thresholds) -> float:
    """The lowest probability from which linking automatically keeps the expected number of
    wrong links within ``auto_error_rate`` per record, never below ``auto_floor``.

    A calibrated probability p says a link is wrong with chance 1 − p, so linking every record
    that may be linked automatically (``eligible.may_auto``) from the most certain down is
    expected to make Σ (1 − p) wrong links. The threshold is the last p (ties together) whose
    running sum stays within the budget: it follows the run's own scores, so a batch the model
    is less sure of gets a stricter threshold, and a sure one sends fewer records to staff.
    """
    records = con.execute("SELECT count(*) FROM eligible").fetchall()[0][0]
    budget = thresholds.auto_error_rate * records
    row = con.execute(f"""
        SELECT min(p) FROM (
            SELECT p, sum(1 - p) OVER (ORDER BY p DESC) AS expected_wrong
            FROM eligible WHERE may_auto
        ) WHERE expected_wrong <= {budget!r}
    """).fetchall()[0][0]
    return max(thresholds.auto_floor, 1.0 if row is None else float(row))


def _write(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """Write the matches file (CSV or Parquet by extension) atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    # empty cells are nulls in the interchange files
    query = (
        "SELECT record_id, personal_id, score, decision, NULLIF(reasons, '') AS reasons "
        "FROM matches ORDER BY _row"
    )
    if out.suffix.lower() == ".parquet":
        con.execute(f"COPY ({query}) TO '{temp}' (FORMAT parquet)")
    else:  # a text cell a spreadsheet could run as a formula gets a leading quote
        cells = ("record_id", "personal_id", "score", "decision", "reasons")
        safe = ", ".join(c if c == "score" else f"{neutralise_sql(c)} AS {c}" for c in cells)
        query = f"SELECT {safe} FROM ({query})"
        con.execute(f"COPY ({query}) TO '{temp}' (FORMAT csv, HEADER true)")
    os.replace(temp, out)


def match_files(
    registry: Path,
    records: Path,
    out: Path,
    *,
    thresholds: Thresholds | None = None,
    stage: Stage | None = None,
    threads: int | None = None,
    memory_limit: str = "2500MB",
    engine: str = "duckdb",
) -> MatchSummary:
    """Link ``records`` to ``registry`` and write ``out``; raises ``MatchInputError`` on bad input.

    ``engine`` scores the candidate pairs in DuckDB (``duckdb``) or on Spark in local mode
    (``spark``, see ``nidb.identity.spark``); reading, training, deciding and writing are the
    same code, in DuckDB, so both engines score with the very same model.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    thresholds = thresholds or Thresholds()
    say = stage or (lambda _message: None)
    summary = MatchSummary()
    con = model.connect(threads, memory_limit)
    try:
        clock = time.perf_counter()
        say("đọc và chuẩn hoá dữ liệu (reading and normalising)")
        loaded = load_inputs(con, registry, records)
        summary.records, summary.registry = loaded.records, loaded.registry
        summary.seconds["load"] = time.perf_counter() - clock

        linker = _train(con, say, summary)
        if engine == "spark":
            from nidb.identity import spark

            summary.candidate_pairs = spark.predict(
                con, summary.trained_model, thresholds.candidate_floor, say, summary.seconds
            )
        else:
            _predict(con, linker, thresholds, say, summary)

        clock = time.perf_counter()
        say("quyết định và ghi kết quả (deciding and writing)")
        summary.auto_threshold = _decide(con, thresholds)
        _write(con, out)
        cells.write_rejected(con, out)
        summary.rejected_cells = int(
            con.execute("SELECT count(*) FROM rejected_cells").fetchall()[0][0]
        )
        summary.decisions = dict(
            con.execute("SELECT decision, count(*) FROM matches GROUP BY 1 ORDER BY 1").fetchall()
        )
        summary.reasons = dict(
            con.execute(
                "SELECT reason, count(*) FROM (SELECT unnest(string_split(reasons, ';')) AS reason "
                "FROM matches WHERE reasons <> '') GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        summary.seconds["decide"] = time.perf_counter() - clock
    finally:
        con.close()
    return summary
