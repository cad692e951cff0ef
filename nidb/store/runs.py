"""Batch jobs record how long they ran (``batch_runs``), for ``/metrics`` of ``nidb serve``.

A job wraps its work in `batch_run`; when the work ends — done, failed or stopped with Ctrl-C —
one row is written in its own transaction (kind, start, end, duration, outcome). The job's own
writes are untouched by it: a failed job's transaction has already rolled back, and a failure to
write the row (the database gone) never hides the job's own error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine, insert

from nidb.store.models_ops import BatchRun

log = logging.getLogger(__name__)


class JobKind(StrEnum):
    """The batch jobs whose durations are measured (tác vụ lô)."""

    IMPORT = "import"
    VERIFY = "verify"
    MATCH = "match"
    DEDUPE = "dedupe"


DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
"""Upper bounds (seconds) of the job-duration histogram: a small file's import takes a second,
a province's verification hours."""


def record_run(
    engine: Engine,
    kind: JobKind,
    started_at: datetime,
    duration_seconds: float,
    outcome: str,
) -> None:
    """Write one finished run."""
    with engine.begin() as conn:
        conn.execute(
            insert(BatchRun).values(
                kind=kind.value,
                started_at=started_at,
                finished_at=datetime.now(UTC),
                duration_seconds=max(0.0, duration_seconds),
                outcome=outcome,
            )
        )


@contextmanager
def batch_run(engine: Engine, kind: JobKind) -> Iterator[None]:
    """Time the block as one run of ``kind`` and record it when the block ends, however."""
    started_at, started = datetime.now(UTC), time.monotonic()
    outcome = "failed"
    try:
        yield
        outcome = "ok"
    except KeyboardInterrupt:
        outcome = "stopped"
        raise
    finally:
        try:
            record_run(engine, kind, started_at, time.monotonic() - started, outcome)
        except Exception as error:  # the job's own outcome matters more than its measurement
            log.warning("batch run not recorded (%s)", type(error).__name__)
