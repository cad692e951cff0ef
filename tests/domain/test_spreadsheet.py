"""Specification of spreadsheet-safe cells: no text nidb writes runs as a formula."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nidb.domain.spreadsheet import FORMULA_TRIGGERS, neutralise, neutralise_sql, safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("-5000", "-5000"),
        ("+84", "+84"),
        ("-1.5e3", "-1.5e3"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("R-1", "R-1"),
        ("", ""),
    ],
)
def test_text_that_could_start_a_formula_gets_a_leading_quote_and_numbers_do_not(
    value: str, written: str
) -> None:
    assert neutralise(value) == written


@given(st.text())
def test_no_neutralised_text_starts_a_formula_unless_it_is_a_plain_number(value: str) -> None:
    cell = neutralise(value)
    assert cell[:1] not in FORMULA_TRIGGERS or cell == value
    assert cell in (value, "'" + value)


@settings(deadline=None)  # a DuckDB query per example: slow when the machine is busy
@given(st.text(alphabet=st.sampled_from("=+-@\t\r\n.eE0123456789'aZ đ")))
def test_the_sql_form_writes_what_the_python_form_writes(value: str) -> None:
    with duckdb.connect() as con:
        row = con.execute(f"SELECT {neutralise_sql('x')} FROM (SELECT ?::VARCHAR AS x)", [value])
        assert row.fetchone() == (neutralise(value),)


def test_only_text_cells_are_touched() -> None:
    assert [safe_cell(v) for v in (-5000, 0.5, None, "=1")] == [-5000, 0.5, None, "'=1"]
