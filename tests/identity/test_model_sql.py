"""The linkage model's guarded edit-distance levels say exactly what the plain ones say.

``model.name_edits_at_most`` and ``model.ONE_DIGIT_OFF`` put cheap necessary conditions before
``damerau_levenshtein`` so that u-sampling and prediction skip it on strangers; these
properties check, in DuckDB itself, that the guards never change a level's answer.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nidb.identity import model
from tests.identity.edits import edited


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _level(con: duckdb.DuckDBPyConnection, sql: str, columns: dict[str, str]) -> bool:
    names = ", ".join(f"? AS {c}" for c in columns)
    query = f"SELECT {sql} FROM (SELECT {names})"
    return bool(con.execute(query, list(columns.values())).fetchone()[0])  # type: ignore[index]


# short names over few letters, so that pairs within two edits are common
NAMES = st.text(alphabet="anhguyetv ", min_size=0, max_size=9)
IDS = st.text(alphabet="0123", min_size=12, max_size=12)


@settings(max_examples=400, deadline=None)
@given(NAMES, st.data(), st.sampled_from([1, 2]))
def test_guarded_name_edits_agree_with_damerau_levenshtein(
    con: duckdb.DuckDBPyConnection, left: str, data: st.DataObject, edits: int
) -> None:
    right = data.draw(st.one_of(st.just(edited(data, left, "anhguyetv ", 3)), NAMES))
    plain = f"damerau_levenshtein(name_base_l, name_base_r) <= {edits}"
    columns = {"name_base_l": left, "name_base_r": right}
    assert _level(con, model.name_edits_at_most(edits), columns) == _level(con, plain, columns)


@settings(max_examples=400, deadline=None)
@given(IDS, st.data())
def test_one_digit_off_agrees_with_damerau_levenshtein_on_12_digit_ids(
    con: duckdb.DuckDBPyConnection, left: str, data: st.DataObject
) -> None:
    # the other ID is the first one edited once or twice, or another number altogether
    right = list(left)
    for _ in range(data.draw(st.integers(0, 2))):
        at = data.draw(st.integers(0, 10))
        if data.draw(st.booleans()):
            right[at], right[at + 1] = right[at + 1], right[at]
        else:
            right[at] = data.draw(st.sampled_from("0123"))
    other = data.draw(st.one_of(st.just("".join(right)), IDS))
    columns = {"pid12_l": left, "pid12_r": other}
    plain = "damerau_levenshtein(pid12_l, pid12_r) <= 1"
    assert _level(con, model.ONE_DIGIT_OFF, columns) == _level(con, plain, columns)


def test_a_transposition_in_a_name_is_one_edit(con: duckdb.DuckDBPyConnection) -> None:
    columns = {"name_base_l": "nguyen van hung", "name_base_r": "ngyuen van hnug"}
    assert _level(con, model.name_edits_at_most(2), columns)
    assert not _level(con, model.name_edits_at_most(1), columns)


OLD_IDS = st.text(alphabet="0123", min_size=9, max_size=9)


@settings(max_examples=400, deadline=None)
@given(OLD_IDS, st.data())
def test_one_old_digit_off_agrees_with_damerau_levenshtein_on_9_digit_ids(
    con: duckdb.DuckDBPyConnection, left: str, data: st.DataObject
) -> None:
    right = list(left)
    for _ in range(data.draw(st.integers(0, 2))):
        at = data.draw(st.integers(0, 7))
        if data.draw(st.booleans()):
            right[at], right[at + 1] = right[at + 1], right[at]
        else:
            right[at] = data.draw(st.sampled_from("0123"))
    other = data.draw(st.one_of(st.just("".join(right)), OLD_IDS))
    columns = {"cmnd9_l": left, "cmnd9_r": other}
    plain = "damerau_levenshtein(cmnd9_l, cmnd9_r) <= 1"
    assert _level(con, model.ONE_OLD_DIGIT_OFF, columns) == _level(con, plain, columns)
