"""Text from outside (văn bản nhập từ bên ngoài): the one rule for characters no stored text holds.

Every free-text value a person or a system sends nidb (a review note, a correction's new
address, a dossier's notes, a staff member's name) passes `check_no_control` before it is
stored, the same way on SQLite and PostgreSQL: PostgreSQL cannot store NUL at all, SQLite
stores it, and neither should hold the rest (escape sequences that repaint a terminal, C1
controls, or a lone surrogate that no encoding can write). What else a field accepts (length,
markup, what it must contain) stays the field's own rule.

Refused: U+0000–U+001F except tab, line feed and carriage return where the field may span lines
(``multiline``), U+007F–U+009F, and U+D800–U+DFFF (surrogates, not characters).

Examples:
    >>> check_no_control("Sai tên đệm", "note")
    'Sai tên đệm'
    >>> check_no_control("dòng 1\\ndòng 2", "note", multiline=True)
    'dòng 1\\ndòng 2'
    >>> control_character("a\\x00b"), control_character("a\\tb", multiline=True)
    ('\\x00', None)
"""

from __future__ import annotations

import re

from nidb.domain.errors import TEXT_CONTROL_CHARACTER, InvalidText

__all__ = ["CONTROL", "CONTROL_OR_BREAK", "check_no_control", "control_character"]

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters a multi-line text may not hold (tab, LF and CR allowed)."""
CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters a one-line text may not hold (tab and line breaks too)."""


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` the rule refuses, or None."""
    found = (CONTROL if multiline else CONTROL_OR_BREAK).search(text)
    return None if found is None else found.group()


def check_no_control(text: str, field: str, *, multiline: bool = False) -> str:
    """``text`` unchanged if it holds no refused character; else raise InvalidText naming the
    field, the value (its control characters escaped, never raw) and the character's code."""
    character = control_character(text, multiline=multiline)
    if character is None:
        return text
    code = f"U+{ord(character):04X}"
    raise InvalidText(
        field,
        text[:40].encode("unicode_escape", "backslashreplace").decode("ascii"),
        TEXT_CONTROL_CHARACTER,
        f"không được chứa ký tự điều khiển ({code})",
        f"must not contain a control character ({code})",
    )
