"""The probabilistic linkage model: Splink settings with Vietnamese-aware comparisons.

Each comparison's levels follow the reason codes of ``nidb.identity.reasons``, so a pair's
comparison vector says both how strong the evidence is and why the fields disagree:

- name: exact (tones kept) · same letters, other diacritics · middle name missing · a typo
  (Damerau-Levenshtein ≤ 2 on base letters) · family and given names agree · else;
- date of birth: exact · year-only agrees · month-only agrees · day and month swapped · same
  year · one year apart · else;
- personal ID: equal · one digit changed or two swapped · else (absent: no evidence);
- old ID (the 9-digit CMND a record may carry instead, which the population database keeps):
  the same levels;
- gender, birth province, address (house, street, commune).

Term frequencies weigh name agreement: two ``Nguyễn Văn Hùng`` agree far less tellingly than
two ``Khổng Tử Uyên``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator
from splink.blocking_rule_library import CustomRule
from splink.internals.comparison_level_creator import ComparisonLevelCreator


def name_edits_at_most(edits: int) -> str:
    """SQL: the names' base letters are at most ``edits`` edits apart (a transposition is one).

    The engines' ``damerau_levenshtein`` costs about five times ``levenshtein``, and most pairs
    of u-sampling and prediction are strangers, so two exact necessary conditions come first
    (``edits`` such edits change the length by at most ``edits`` and are at most twice as many
    plain edits); ``CASE`` evaluates the costly function only on the pairs that pass them.
    """
    left, right = "name_base_l", "name_base_r"
    return (
        f"CASE WHEN abs(length({left}) - length({right})) <= {edits} "
        f"AND levenshtein({left}, {right}) <= {2 * edits} "
        f"THEN damerau_levenshtein({left}, {right}) <= {edits} ELSE false END"
    )


NAME_TYPO = name_edits_at_most(2)
"""A typo: at most two edits between the names' base letters."""

ONE_DIGIT_OFF = (
    "CASE WHEN left(pid12_l, 5) = left(pid12_r, 5) OR right(pid12_l, 5) = right(pid12_r, 5) "
    "THEN damerau_levenshtein(pid12_l, pid12_r) <= 1 ELSE false END"
)
"""One digit changed or two neighbouring digits swapped between two 12-digit IDs.

One such edit leaves the first five or the last five digits of a 12-digit number in place, so
the cheap comparison of ends comes first (as for ``name_edits_at_most``)."""

MIDDLE_NAME_MISSING = (
    "family_l = family_r AND given_l = given_r AND middle_l <> middle_r AND "
    "(middle_l = '' OR middle_r = '' OR contains(middle_r, middle_l) "
    "OR contains(middle_l, middle_r))"
)
"""SQL: family and given names agree, one middle name missing or holding the other."""

NAME = cl.CustomComparison(
    output_column_name="name",
    comparison_levels=[
        cll.NullLevel("name_base"),
        cll.CustomLevel("name_lower_l = name_lower_r", "exact").configure(
            tf_adjustment_column="name_base", tf_adjustment_weight=1.0
        ),
        cll.CustomLevel("name_base_l = name_base_r", "diacritics").configure(
            tf_adjustment_column="name_base", tf_adjustment_weight=1.0
        ),
        cll.CustomLevel(MIDDLE_NAME_MISSING, "middle missing"),
        cll.CustomLevel(NAME_TYPO, "typo"),
        cll.CustomLevel("family_l = family_r AND given_l = given_r", "family and given"),
        cll.ElseLevel(),
    ],
)


def partial_date_levels() -> list[cll.CustomLevel]:
    """The birth-date levels between exact and same year, shared by matching and dedupe: one
    date known to the year only (or written 01/01), to the month only, or day and month
    swapped."""
    return [
        cll.CustomLevel(
            "dob_year_l = dob_year_r AND (dob_precision_l = 'year' OR dob_precision_r = 'year' "
            "OR (dob_month_l = 1 AND dob_day_l = 1) OR (dob_month_r = 1 AND dob_day_r = 1))",
            "year only",
        ),
        cll.CustomLevel(
            "dob_year_l = dob_year_r AND dob_month_l = dob_month_r "
            "AND (dob_precision_l = 'month' OR dob_precision_r = 'month')",
            "month only",
        ),
        cll.CustomLevel(
            "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r",
            "day and month swapped",
        ),
    ]


BIRTH_DATE = cl.CustomComparison(
    output_column_name="dob",
    comparison_levels=[
        cll.NullLevel("dob_year"),
        cll.CustomLevel(
            "dob_year_l = dob_year_r AND dob_precision_l = dob_precision_r "
            "AND dob_month_l IS NOT DISTINCT FROM dob_month_r "
            "AND dob_day_l IS NOT DISTINCT FROM dob_day_r",
            "exact",
        ),
        *partial_date_levels(),
        cll.CustomLevel("dob_year_l = dob_year_r", "same year"),
        cll.CustomLevel("abs(dob_year_l - dob_year_r) = 1", "one year apart"),
        cll.ElseLevel(),
    ],
)

WRONG_ID_SHARE = 0.02
"""Share of true record ↔ person links whose declared 12-digit ID is another number."""


def id_comparison(
    output: str, column: str, one_off: str, shared_share: float | None = None
) -> cl.CustomComparison:
    """The levels of an identity number (``column``_l/_r): equal, one digit off, other.

    Declared IDs are wrong for a few percent of true matches (typed over the years, a
    relative's ID): the "other" level's m is fixed, so that a small or clean batch cannot teach
    the model that a wrong ID rules a person out; the decision rule sends such links to a person
    anyway. ``shared_share`` (dedupe) fixes the "equal" level's u: random sampling almost never
    draws two records holding one number, which left that weight a guess.
    """
    equal: ComparisonLevelCreator = cll.CustomLevel(f"{column}_l = {column}_r", "equal")
    if shared_share is not None:
        equal = equal.configure(u_probability=shared_share, fix_u_probability=True)
    return cl.CustomComparison(
        output_column_name=output,
        comparison_levels=[
            cll.NullLevel(column),
            equal,
            cll.CustomLevel(one_off, "one digit off"),
            cll.ElseLevel().configure(m_probability=WRONG_ID_SHARE, fix_m_probability=True),
        ],
    )


PERSONAL_ID = id_comparison("pid", "pid12", ONE_DIGIT_OFF)

ONE_OLD_DIGIT_OFF = (
    "CASE WHEN left(cmnd9_l, 4) = left(cmnd9_r, 4) OR right(cmnd9_l, 4) = right(cmnd9_r, 4) "
    "THEN damerau_levenshtein(cmnd9_l, cmnd9_r) <= 1 ELSE false END"
)
"""One digit changed or two neighbouring digits swapped between two old 9-digit IDs (one such
edit leaves the first four or the last four digits in place)."""

OLD_ID = id_comparison("old_id", "cmnd9", ONE_OLD_DIGIT_OFF)
"""The old 9-digit ID (số CMND): a record carries it where it has no 12-digit ID, the registry
keeps it (``old_id``); m and u are learned like the personal ID's. Absent on either side (a
registry extract without the column, a person born after 2006): no evidence."""

GENDER = cl.ExactMatch("gender")
BIRTH_PROVINCE = cl.ExactMatch("birth_province")
JARO_WINKLER = {"duckdb": "jaro_winkler_similarity", "spark": "nidb_jaro_winkler"}
"""The Jaro-Winkler similarity in each engine's SQL: DuckDB's built-in, and on Spark DuckDB's
values reproduced in Python (``similarity.jaro_winkler``, registered by ``nidb.identity.spark``):
the Jaro-Winkler of the jar shipped inside the Splink wheel gives other values (see
``similarity``). The jar still gives Spark ``damerau_levenshtein``, under DuckDB's name, with
DuckDB's values on every pair the benchmark compared."""


def _address(engine: str) -> cl.CustomComparison:
    similarity = JARO_WINKLER[engine]
    return cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address_key"),
            cll.CustomLevel("address_key_l = address_key_r", "exact"),
            cll.CustomLevel(f"{similarity}(address_key_l, address_key_r) >= 0.92", "close"),
            cll.ElseLevel(),
        ],
    )


ADDRESS = _address("duckdb")

OPEN = "NOT l.id_confirmed AND NOT r.id_confirmed"
"""Only records whose declared ID the registry does not already confirm are searched widely:
an ID that points to a person of the same name and birth year is that person (a namesake
would need the very same 12 digits)."""

SAME_DAY_AND_MONTH = "l.dob_year = r.dob_year AND l.dob_low = r.dob_low AND l.dob_high = r.dob_high"
"""The same birth date, or the same with day and month swapped (a blocking condition)."""

BLOCKING_RULES = [
    "l.pid12 = r.pid12",
    "l.cmnd9 = r.cmnd9",
    f"l.name_flat = r.name_flat AND l.dob_year = r.dob_year AND {OPEN}",
    f"l.family = r.family AND l.given = r.given AND l.dob_year = r.dob_year "
    f"AND l.birth_province = r.birth_province AND {OPEN}",
    f"l.given = r.given AND {SAME_DAY_AND_MONTH} AND {OPEN}",
    f"l.family = r.family AND {SAME_DAY_AND_MONTH} "
    f"AND left(l.given, 1) = left(r.given, 1) AND {OPEN}",
    f"l.name_nodob = r.name_nodob AND {OPEN}",
]
"""Candidate pairs: the declared ID (or old ID); else the name's letters with the birth year
(whatever the spacing of its words), or enough of the name with the birth province or the birth
date (day and month in either order) that one typo, one missing middle name, a joined or split
word or a swapped day and month cannot hide a person. A record whose birth-date cell was set aside (``nidb.identity.cells``) is
searched by its name alone: only such records carry ``name_nodob`` on the records side, so the
rule adds their namesakes and nothing else."""

DETERMINISTIC_RULES = [
    "l.pid12 = r.pid12 AND l.name_base = r.name_base AND l.dob_year = r.dob_year",
    "l.cmnd9 = r.cmnd9 AND l.name_base = r.name_base AND l.dob_year = r.dob_year",
    "l.name_base = r.name_base AND l.dob_year = r.dob_year AND l.dob_month = r.dob_month "
    "AND l.dob_day = r.dob_day AND l.birth_province = r.birth_province",
]
"""Near-certain links, used to estimate how likely two random records are the same person."""

TRAINING_RULES = [
    "l.pid12 = r.pid12",
    "l.name_base = r.name_base AND l.dob_year = r.dob_year",
]
"""EM passes: each trains every comparison but the ones in its own blocking rule."""


CANDIDATE_COLUMNS = (
    "CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END AS record_id, "
    "CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END AS personal_id, "
    "match_probability AS p"
)
"""Splink's scored pairs as (record, registry person, probability), in SQL both engines read."""


def settings(engine: str = "duckdb") -> SettingsCreator:
    """The model before training; ``engine`` (``duckdb`` or ``spark``) picks the SQL spelling."""
    address = ADDRESS if engine == "duckdb" else _address(engine)
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[NAME, BIRTH_DATE, PERSONAL_ID, OLD_ID, GENDER, BIRTH_PROVINCE, address],
        blocking_rules_to_generate_predictions=[CustomRule(rule) for rule in BLOCKING_RULES],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def connect(threads: int | None, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB for one linkage run, bounded in threads and memory."""
    con = duckdb.connect()
    con.execute(f"SET threads = {threads or os.cpu_count() or 1}")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    # insertion order stays on: row numbers in error messages must be the file's
    return con


TRAINING_SEED = 1
"""Mixed into the hash by which Splink picks u-sampling's records (``train``).

Splink draws its training samples (u-sampling's records, EM's blocked pairs) by a hash of each
record's unique id, not by a random generator: the same data give the same sample, hence the
same m and u, on every run. But each engine hashes with its own function (DuckDB's ``hash``
is not Spark's), so two engines would train on two different samples, and records near a
threshold would fall on different sides. That is why matching trains in DuckDB whatever the
engine and hands the trained model to Spark (``with_parameters``), which only scores."""


def train(
    linker: Any, deterministic_rules: list[str], recall: float, seconds: dict[str, float]
) -> None:
    """Train on the run's own data: λ from near-certain rules, u from random pairs, m by EM.

    ``seconds`` receives the time of each step (``train_lambda``, ``train_u``, ``train_em``).
    The samples are Splink's deterministic ones (see ``TRAINING_SEED``).
    """
    clock = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        deterministic_rules, recall=recall
    )
    seconds["train_lambda"] = time.perf_counter() - clock
    clock = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=5e5, seed=TRAINING_SEED)
    seconds["train_u"] = time.perf_counter() - clock
    clock = time.perf_counter()
    for rule in TRAINING_RULES:
        # a few hundred thousand pairs pin the m-probabilities down; more only costs time
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=3e5
        )
    seconds["train_em"] = time.perf_counter() - clock


PARAMETERS = ("m_probability", "u_probability")


def with_parameters(trained: dict[str, Any], engine: str) -> dict[str, Any]:
    """The model of ``settings(engine)`` carrying the trained λ, m and u of ``trained``.

    ``trained`` is a trained linker's model (``linker.misc.save_model_to_json()``), possibly
    trained on another engine: its SQL may be spelled for that engine (``JARO_WINKLER``), so
    the comparisons are spelled afresh for ``engine`` and only the parameters are copied,
    level by level (the same comparisons and levels, in the same order, checked by name).
    Term frequencies are not copied: the scoring engine counts them on the same data.
    """
    model = settings(engine).create_settings_dict(engine)
    model["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    for comparison, learned in zip(model["comparisons"], trained["comparisons"], strict=True):
        if comparison["output_column_name"] != learned["output_column_name"]:
            raise ValueError(
                f"trained comparison {learned['output_column_name']!r} is not "
                f"{comparison['output_column_name']!r}"
            )
        levels = zip(comparison["comparison_levels"], learned["comparison_levels"], strict=True)
        for level, learned_level in levels:
            if level["label_for_charts"] != learned_level["label_for_charts"]:
                raise ValueError(
                    f"trained level {learned_level['label_for_charts']!r} of "
                    f"{comparison['output_column_name']!r} is not {level['label_for_charts']!r}"
                )
            for parameter in PARAMETERS:
                if parameter in learned_level:
                    level[parameter] = learned_level[parameter]
    return model
