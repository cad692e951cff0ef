"""Commands of ``nidb.analytics``, mounted on the ``nidb`` command by ``nidb.cli``."""

from __future__ import annotations

import typer


def mount(app: typer.Typer) -> None:
    """Add this package's commands to ``nidb``."""
