"""Where every benchmark keeps its results: one dated section appended per run."""

from __future__ import annotations

from pathlib import Path


def append_section(results: Path, heading: str, section: str) -> None:
    """Append ``section`` to ``results``, starting the file with ``heading`` on the first run."""
    if not results.exists():
        results.write_text(heading)
    with results.open("a") as file:
        file.write(section)
