"""Verification's reads and writes: unverified records in, verdicts with their trail out.

`read_chunk` reads the next records still `unverified` (keyset on record_id), `citizens` the
registry's side from nidb's extract. `write_chunk` writes a chunk of verdicts in the caller's
transaction: it *claims* the records still unverified and unchanged since they were read (so a
record is never written twice, by a resumed run or by two runs at once), updates them, and
appends their audit entries, `verified` identity links, review items and `person_dead` events.

The writes are set-based: on PostgreSQL one `UPDATE … FROM unnest(arrays)` per chunk that
claims and writes in one statement (its `RETURNING` says which records were claimed) and `COPY`
for the appended rows; on SQLite the write lock first, then one read to claim, then the
driver's `executemany`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, DateTime, Engine, func, select

from nidb.identity.reasons import join_reasons
from nidb.identity.verify_classify import (
    CITIZEN_COLUMNS,
    RECORD_COLUMNS,
    CitizenRow,
    RecordRow,
    Status,
    Verdict,
)
from nidb.store import models
from nidb.store.drivers import append_rows

__all__ = ["PURPOSE", "Written", "citizens", "read_chunk", "unverified", "write_chunk"]

PURPOSE = "XAC_THUC_DAN_CU"
"""Audit purpose code: verification against the population database."""

Row = tuple[object, ...]


@dataclass
class Written:
    """What writing one chunk did."""

    records: int = 0
    skipped: int = 0
    """Records changed or verified by someone else since they were read."""
    by_status: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    safe_fixes: Counter[str] = field(default_factory=Counter)
    links: int = 0
    items: int = 0
    deaths: int = 0


# --- reading ----------------------------------------------------------------------------------


def unverified(engine: Engine) -> int:
    """How many records are still unverified (a record merged into another is not counted)."""
    persons = models.Person.__table__
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).where(
                persons.c.verification_status == "unverified", persons.c.merged_into.is_(None)
            )
        ).scalar_one()
    return int(count)


def read_chunk(engine: Engine, after: str, size: int) -> list[RecordRow]:
    """The next `size` unverified records with a record_id after `after`, in order.

    A record merged into another by the register's dedupe (``merged_into`` set, never deleted)
    is not read: its survivor carries the person, and verifying it again would link a code
    that no longer exists apart.
    """
    persons = models.Person.__table__
    query = (
        select(*(persons.c[c] for c in RECORD_COLUMNS))
        .where(
            persons.c.verification_status == "unverified",
            persons.c.merged_into.is_(None),
            persons.c.record_id > after,
        )
        .order_by(persons.c.record_id)
        .limit(size)
    )
    with engine.connect() as conn:
        return [RecordRow(*row) for row in conn.execute(query)]


def citizens(engine: Engine, ids: Sequence[str]) -> dict[str, CitizenRow]:
    """nidb's extract of the registry for these personal IDs (those it holds)."""
    query = f"SELECT {', '.join(CITIZEN_COLUMNS)} FROM citizens WHERE personal_id"
    with engine.connect() as conn:
        rows = _by_keys(conn, query, sorted(set(ids)))
    found: dict[str, CitizenRow] = {}
    for row in rows:
        *values, death = row  # read through the driver: SQLite gives the date as its text
        died = date.fromisoformat(death) if isinstance(death, str) else death
        found[str(row[0])] = CitizenRow(*values, died)  # type: ignore[arg-type,call-arg]
    return found


def _by_keys(conn: Connection, query: str, keys: Sequence[str], tail: str = "") -> list[Row]:
    """Run `query` (ending in a key column) for these keys: `= ANY(array)` on PostgreSQL, in
    one statement; `IN (…)` on SQLite, a thousand keys at a time."""
    if not keys:
        return []
    if conn.dialect.name == "postgresql":
        sql = f"{query} = ANY(%(keys)s::text[]){tail}"
        return [tuple(row) for row in conn.exec_driver_sql(sql, {"keys": list(keys)})]
    found: list[Row] = []
    for part in _pieces(keys, 1000):
        marks = ", ".join("?" for _ in part)
        sql = f"{query} IN ({marks}){tail}"
        found.extend(tuple(row) for row in conn.exec_driver_sql(sql, tuple(part)))
    return found


def _pieces(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    return (items[i : i + size] for i in range(0, len(items), size))


# --- claiming and updating --------------------------------------------------------------------

_FIXABLE = ("full_name", "name_base", "date_of_birth", "dob_precision", "birth_year", "gender")
_SET = (
    "verification_status = {status}, verification_reasons = {reasons}, "
    "verified_personal_id = {personal_id}, verified_at = {verified_at}, "
    + ", ".join(f"{c} = {{{c}}}" for c in _FIXABLE)
)
_UPDATE_COLUMNS = ("record_id", "status", "reasons", "personal_id", "verified_at", *_FIXABLE)
_PG_TYPES = {"verified_at": "timestamptz", "birth_year": "smallint", "batch_id": "bigint"}
# One statement per chunk: unnest() turns the columns' arrays back into rows, the join on the
# primary key claims each record still unverified and still of the batch it was read from
# (row locks: a concurrent run waits, then sees the record taken), and RETURNING names them.
_PG_UPDATE = (
    "UPDATE persons AS p SET "
    + _SET.format(**{c: f"v.{c}" for c in _UPDATE_COLUMNS})
    + " FROM unnest("
    + ", ".join(f"%({c})s::{_PG_TYPES.get(c, 'text')}[]" for c in (*_UPDATE_COLUMNS, "batch_id"))
    + ") AS v("
    + ", ".join((*_UPDATE_COLUMNS, "batch_id"))
    + ") WHERE p.record_id = v.record_id AND p.verification_status = 'unverified' "
    "AND p.merged_into IS NULL AND p.batch_id IS NOT DISTINCT FROM v.batch_id RETURNING p.record_id"
)
# The join must be an index lookup per record whatever the statistics say: a bulk run makes
# them stale, and a planner that believes the table small would scan it whole. Local to the
# chunk's transaction, whose other statements are key look-ups too.
_PG_INDEX_ONLY = (
    "SELECT set_config('enable_hashjoin', 'off', true), "
    "set_config('enable_mergejoin', 'off', true), set_config('enable_seqscan', 'off', true)"
)
_SQLITE_UPDATE = (
    "UPDATE persons SET "
    + _SET.format(**{c: f":{c}" for c in _UPDATE_COLUMNS})
    + " WHERE record_id = :record_id AND verification_status = 'unverified'"
    " AND merged_into IS NULL"
)
_SQLITE_CLAIM = "SELECT record_id, batch_id FROM persons WHERE record_id"
_TAKE_WRITE_LOCK = "UPDATE persons SET verification_status = verification_status WHERE 0 = 1"


def _update_values(verdict: Verdict, now: object) -> dict[str, object]:
    record = verdict.fixed_record() if verdict.fixes else verdict.record
    verified = verdict.status is Status.VERIFIED
    values: dict[str, object] = {c: getattr(record, c) for c in _FIXABLE}
    values |= {
        "record_id": record.record_id,
        "status": verdict.status.value,
        "reasons": join_reasons(verdict.reasons),
        "personal_id": record.declared_id if verified else None,
        "verified_at": now if verified else None,
    }
    return values


def _claim_and_update(conn: Connection, verdicts: list[Verdict], now: object) -> set[str]:
    """Update the records still unverified and unchanged since read; their record_ids."""
    if not verdicts:
        return set()
    rows = [_update_values(v, now) for v in verdicts]
    if conn.dialect.name == "postgresql":
        arrays: dict[str, list[object]] = {c: [r[c] for r in rows] for c in _UPDATE_COLUMNS}
        arrays["batch_id"] = [v.record.batch_id for v in verdicts]
        conn.exec_driver_sql(_PG_INDEX_ONLY)
        return {row[0] for row in conn.exec_driver_sql(_PG_UPDATE, arrays)}
    # SQLite: take the one write lock before reading, so that no other run claims meanwhile
    conn.exec_driver_sql(_TAKE_WRITE_LOCK)  # writes nothing, but takes the lock
    read = {v.record.record_id: v.record.batch_id for v in verdicts}
    unchanged = _by_keys(
        conn,
        _SQLITE_CLAIM,
        sorted(read),
        " AND verification_status = 'unverified' AND merged_into IS NULL",
    )
    claimed = {
        str(record_id) for record_id, batch_id in unchanged if read[str(record_id)] == batch_id
    }
    mine = [r for r in rows if r["record_id"] in claimed]
    if mine:
        conn.exec_driver_sql(_SQLITE_UPDATE, mine)
    return claimed


# --- appending the trail ----------------------------------------------------------------------

_OPEN_LINKS_OF = (
    "SELECT bhxh_code, personal_id FROM identity_links "
    "WHERE source = 'verified' AND valid_to IS NULL AND personal_id"
)
_OPEN_ITEMS_OF = (
    "SELECT record_id, candidate_personal_id FROM review_items "
    "WHERE kind = 'verification' AND status = 'open' AND record_id"
)
_AUDIT_COLUMNS = (
    "occurred_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "purpose",
    "detail",
)
_LINK_COLUMNS = ("bhxh_code", "personal_id", "source", "valid_from")
_ITEM_COLUMNS = ("record_id", "kind", "candidate_personal_id", "reasons", "status", "created_at")
_EVENT_COLUMNS = ("created_at", "topic", "subject_key", "payload")


def _db_time(conn: Connection, moment: datetime) -> object:
    """A timestamp as the driver takes it (SQLite: SQLAlchemy's text form, read back alike)."""
    process = DateTime(timezone=True).dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return moment if process is None else process(moment)


def _not_open(
    conn: Connection, existing: str, rows: list[Row], pair: tuple[int, int], by: int
) -> list[Row]:
    """The rows whose `pair` of values is not open yet (`existing`), each pair once.

    `existing` is looked up once per chunk by the values at index `by`, not with a NOT EXISTS
    per row: a per-row guard is planned from statistics, and with stale ones PostgreSQL
    scanned every open item for every row.
    """
    seen: set[Row] = set(_by_keys(conn, existing, sorted({str(row[by]) for row in rows})))
    fresh = []
    for row in rows:
        key = (row[pair[0]], row[pair[1]])
        if key not in seen:
            seen.add(key)
            fresh.append(row)
    return fresh


def write_chunk(conn: Connection, verdicts: list[Verdict], actor: str) -> Written:
    """Write a chunk's verdicts with their audit entries, links, review items and events."""
    now = _db_time(conn, datetime.now(UTC))
    claimed = _claim_and_update(conn, verdicts, now)
    written = Written(skipped=len(verdicts) - len(claimed))
    audits: list[Row] = []
    links: list[Row] = []
    items: list[Row] = []
    events: list[Row] = []
    for v in verdicts:
        record = v.record
        if record.record_id not in claimed:
            continue
        audits.append(_audit_row(now, actor, "verify", record.record_id, _verify_detail(v)))
        for fix in v.fixes:
            changes = {c: {"before": b, "after": a} for c, (b, a) in fix.changes.items()}
            detail = {"reason": fix.reason.value, "changes": changes}
            audits.append(_audit_row(now, actor, "safe_fix", record.record_id, detail))
            written.safe_fixes[fix.reason.value] += 1
        if v.status is Status.VERIFIED:
            links.append((record.bhxh_code, record.declared_id, "verified", now))
        elif v.status is Status.REVIEW:
            reasons = join_reasons(v.reasons)
            items.append(
                (record.record_id, "verification", record.declared_id, reasons, "open", now)
            )
        if v.dead:
            events.append(_death_event(v, now))
        written.by_status[v.status.value] += 1
        written.by_reason.update(r.value for r in v.reasons)
    append_rows(conn, "audit_log", _AUDIT_COLUMNS, audits)
    links = _not_open(conn, _OPEN_LINKS_OF, links, pair=(0, 1), by=1)
    written.links = append_rows(conn, "identity_links", _LINK_COLUMNS, links)
    items = _not_open(conn, _OPEN_ITEMS_OF, items, pair=(0, 2), by=0)
    written.items = append_rows(conn, "review_items", _ITEM_COLUMNS, items)
    written.deaths = append_rows(conn, "outbox_events", _EVENT_COLUMNS, events)
    written.records = len(claimed)
    return written


def _verify_detail(verdict: Verdict) -> dict[str, object]:
    record = verdict.record
    detail: dict[str, object] = {
        "status": verdict.status.value,
        "reasons": [r.value for r in verdict.reasons],
        "personal_id": record.declared_id if record.declared_id_kind == "cccd" else None,
    }
    if verdict.superseded_by:
        detail["superseded_by"] = verdict.superseded_by
    if verdict.fixes:
        detail["safe_fixes"] = [f.reason.value for f in verdict.fixes]
    return detail


def _audit_row(now: object, actor: str, action: str, record_id: str, detail: object) -> Row:
    return (now, actor, action, "person_record", record_id, PURPOSE, json.dumps(detail))


def _death_event(verdict: Verdict, now: object) -> Row:
    record = verdict.record
    payload = {
        "personal_id": record.declared_id,
        "record_id": record.record_id,
        "bhxh_code": record.bhxh_code,
        "death_date": None if verdict.death_date is None else verdict.death_date.isoformat(),
    }
    return (now, "identity.person_dead", f"person:{record.declared_id}", json.dumps(payload))
