"""The error of an unusable ``NIDB_*`` variable, apart from ``nidb.settings`` so that the command
line can catch it without loading pydantic-settings (``nidb --help`` stays light)."""

from __future__ import annotations


class SettingsError(ValueError):
    """An ``NIDB_*`` environment variable holds a value nidb cannot use; the message names each
    variable, its value and the rule, in Vietnamese and English."""
