"""The chain: lanes, the columns an entry hashes, and how records become chained rows.

The log is a set of lanes, each a hash chain: every entry carries ``prev_hash`` (the previous
entry's hash in its lane) and ``entry_hash`` = SHA-256 of the canonical JSON of its own fields
and ``prev_hash``, in ``seq`` order from 1 within the lane. Both writers (``writer`` and
``pgasync``) chain with `chain_rows`; the verifier (``verify``) checks with `entry_hash`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from nidb.accesslog.records import AccessRecord
from nidb.protocol.canonical import canonical_json
from nidb.settings import get_settings

GENESIS = "0" * 64
LANE_LOCK = 0x6E696462  # "nidb": advisory locks (LANE_LOCK, lane) mark the lanes in use
LANES = 64
BUSY_SECONDS = 0.01
"""A writer whose last batch ended this recently is busy: it lingers for more entries."""


def linger_seconds() -> float:
    """``NIDB_ACCESS_LOG_LINGER_MS`` in seconds (a busy PostgreSQL writer's batch window)."""
    return get_settings().access_log_linger_ms / 1000


# The lane is not hashed: entries written before lanes existed (all in lane 0) keep their hashes,
# and an entry moved to another lane breaks both chains' links anyway.


# The lane is not hashed: entries written before lanes existed (all in lane 0) keep their hashes,
# and an entry moved to another lane breaks both chains' links anyway.
_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "service",
    "purpose",
    "subject",
    "fields",
    "result",
    "message_id",
    "detail",
)
# Both writers hand PostgreSQL the rows as one array per column, in this order and of these types.
ALL_COLUMNS = ("lane", *_COLUMNS, "prev_hash", "entry_hash")
PG_COLUMN_TYPES = ("smallint", "bigint", *(["text"] * 9), "text", "text")


def entry_hash(row: dict[str, Any], prev_hash: str) -> str:
    """The hash that chains ``row`` (its stored column values) to ``prev_hash``."""
    values = [row[name] for name in _COLUMNS]
    return hashlib.sha256(canonical_json([*values, prev_hash])).hexdigest()


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def chain_rows(
    records: list[AccessRecord], taken: set[str], lane: int, head: tuple[int, str]
) -> tuple[list[bool], list[dict[str, Any]], tuple[int, str]]:
    """The rows that chain ``records`` onto ``head``, skipping message ids in ``taken`` (and a
    second use of an id within ``records``); per record whether it was kept; the new head."""
    seq, prev = head
    accepted: list[bool] = []
    rows: list[dict[str, Any]] = []
    taken = set(taken)
    for record in records:
        if record.message_id and record.message_id in taken:
            accepted.append(False)
            continue
        if record.message_id:
            taken.add(record.message_id)
        seq += 1
        row = {
            "lane": lane,
            "seq": seq,
            "occurred_at": _now_text(),
            "actor": record.actor,
            "service": record.service,
            "purpose": record.purpose,
            "subject": record.subject,
            "fields": record.fields,
            "result": record.result,
            "message_id": record.message_id,
            "detail": canonical_json(record.detail).decode("utf-8"),
        }
        row["prev_hash"] = prev
        row["entry_hash"] = prev = entry_hash(row, prev)
        rows.append(row)
        accepted.append(True)
    return accepted, rows, (seq, prev)
