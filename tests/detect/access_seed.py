"""Reads written straight into ``access_log`` at chosen times, for the access-anomaly tests
(a lane of its own: the detection reads the table, not the chain)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, insert

from nidb.services.workdays import VIETNAM
from nidb.store import models

LANE = 90
_seq = itertools.count(1)


def code(province: str, n: int) -> str:
    """A BHXH code issued in ``province``."""
    return f"{province}{n:08d}"


def log_reads(
    engine: Engine,
    actor: str,
    day: date,
    subjects: Iterable[str],
    at: time = time(9, 0),
    result: str = "ok",
) -> None:
    """``actor`` reads each subject on ``day`` from ``at`` (Vietnam time), a second apart."""
    start = datetime.combine(day, at, VIETNAM).astimezone(UTC)
    rows = [
        {
            "lane": LANE,
            "seq": next(_seq),
            "occurred_at": (start + timedelta(seconds=i)).isoformat(timespec="microseconds"),
            "actor": actor,
            "service": "review.view/v1" if actor.startswith("staff:") else "card.check/v1",
            "purpose": "GQCD",
            "subject": subject,
            "fields": "identity",
            "result": result,
            "message_id": None,
            "detail": "{}",
            "prev_hash": "0" * 64,
            "entry_hash": "0" * 64,
        }
        for i, subject in enumerate(subjects)
    ]
    with engine.begin() as conn:
        conn.execute(insert(models.AccessLogEntry), rows)
