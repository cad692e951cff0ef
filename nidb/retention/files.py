"""Finding the rejected-row files past their period: ``FILE.rejected.csv`` of an import (and of
a catalogue import), ``OUT.rejected.csv`` of a match or dedupe run.

They are found beside every file the register imported (``import_batches.source_name``) and in
the folders searched (``NIDB_DATA_DIR`` and ``NIDB_RETENTION_FOLDERS``, with subfolders). A file
is ours only if its first line is the quarantine layout's header (``row,column,value,rule,
reason``): nothing else with that name is touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from nidb.ingest.quarantine import REJECT_COLUMNS, rejected_path_for
from nidb.settings import Settings
from nidb.store import models

SUFFIX = ".rejected.csv"
_HEADER = ",".join(REJECT_COLUMNS)


def _is_ours(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            first = handle.readline(200)
    except OSError:
        return False
    return first.decode("utf-8", "replace").strip().lstrip("\ufeff") == _HEADER


def folders(settings: Settings) -> list[Path]:
    """The folders searched: the data folder and ``NIDB_RETENTION_FOLDERS``."""
    named = [Path(part) for part in settings.retention_folders.split(os.pathsep) if part.strip()]
    return [settings.data_dir, *named]


def candidates(engine: Engine, settings: Settings) -> Iterator[Path]:
    """Every rejected-row file that exists where nidb may have written one (each once)."""
    seen: set[Path] = set()
    with engine.connect() as conn:
        sources = conn.execute(select(models.ImportBatch.source_name).distinct()).scalars().all()
    paths = [rejected_path_for(Path(source)) for source in sources]
    for folder in folders(settings):
        if folder.is_dir():
            paths.extend(folder.rglob(f"*{SUFFIX}"))
    for path in paths:
        try:
            real = path.resolve()
        except OSError:
            continue
        if real in seen or not real.is_file():
            continue
        seen.add(real)
        if _is_ours(real):
            yield real


def past(engine: Engine, settings: Settings, cutoff: datetime) -> list[Path]:
    """The rejected-row files last written before ``cutoff``."""
    limit = cutoff.timestamp()
    found = []
    for path in candidates(engine, settings):
        try:
            if path.stat().st_mtime < limit:
                found.append(path)
        except OSError:
            continue
    return sorted(found)
