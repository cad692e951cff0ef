"""Cells a spreadsheet will not run as formulas (CSV / formula injection).

Clerks open nidb's CSV and XLSX files in Excel or LibreOffice, which run a cell beginning with
``=``, ``+``, ``-`` or ``@`` (and, per OWASP, tab or carriage return) as a formula: a record ID
``=HYPERLINK(…)`` copied from an input file would become a live link in the clerk's sheet.
Every CSV and XLSX file nidb writes passes its text cells through ``neutralise``, which puts a
single quote in front of such a cell (the OWASP recommendation; spreadsheets show the quote or
treat the cell as text).

Only text is touched, and text that is a plain number is left alone: ``-5000`` in a money column
is a number a spreadsheet reads as a number, not a formula, so contract columns keep their values.
Readers of these files who need the original text strip one leading ``'`` from a text cell whose
second character is one of ``FORMULA_TRIGGERS``.
"""

from __future__ import annotations

import re
from typing import TypeVar

__all__ = ["FORMULA_TRIGGERS", "neutralise", "neutralise_sql", "safe_cell"]

FORMULA_TRIGGERS = "=+-@\t\r\n"
"""First characters that make a spreadsheet cell a formula (or hide what follows)."""

_NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_IS_NUMBER = re.compile(_NUMBER)

T = TypeVar("T")


def neutralise(text: str) -> str:
    """``text`` as a cell no spreadsheet runs: a leading ``'`` if it could start a formula.

    Examples:
        >>> neutralise("=HYPERLINK(\\"http://x\\")")
        '\\'=HYPERLINK("http://x")'
        >>> neutralise("-5000"), neutralise("Nguyễn Văn An"), neutralise("-1+2")
        ('-5000', 'Nguyễn Văn An', "'-1+2")
    """
    if text and text[0] in FORMULA_TRIGGERS and not _IS_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_cell(value: T) -> T | str:
    """A cell value to write: text neutralised, anything else (numbers, dates, None) as is."""
    return neutralise(value) if isinstance(value, str) else value


def neutralise_sql(expression: str) -> str:
    """The same rule as a DuckDB SQL expression over a VARCHAR ``expression`` (NULL stays NULL)."""
    # E-less literals: DuckDB keeps backslashes, so RE2 sees \t, \r, \n and \. itself
    triggers = "^[=+@\\t\\r\\n-]"
    return (
        f"CASE WHEN regexp_matches({expression}, '{triggers}') "
        f"AND NOT regexp_full_match({expression}, '{_NUMBER}') "
        f"THEN '''' || {expression} ELSE {expression} END"
    )
