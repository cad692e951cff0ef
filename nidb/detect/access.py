"""Access anomalies over the access log: count each actor's reads per Vietnamese day in SQL, run
the rules (``access_rules``), and store one alert per finding with the reads it is about.

A read is an access-log entry with a subject (a BHXH code) and result ``ok``, by a staff member
(actor ``staff:<username>``: a console account or an API token of that name) or a registered
partner. Citizens reading their own data and refused requests are not reads.

Cost: one pass over the access log from ``history_days`` before the first day checked to the
end of the last (the log has no index on time: a nightly batch, not a page), and, per alert,
one pass over its actor's reads of that day. An alert lists at most ``READS_LISTED`` reads
(the count it quotes is of all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, tuple_

from nidb.detect.access_rules import (
    AREA,
    DAY_END_HOUR,
    DAY_START_HOUR,
    HOURS,
    KINDS,
    AccessFinding,
    ActorDay,
    Thresholds,
    find_anomalies,
    unusual_day,
)
from nidb.domain.staff import StaffRole
from nidb.services.workdays import VIETNAM, is_public_holiday
from nidb.store import models
from nidb.store.models_web import StaffUser

READS_LISTED = 1000
"""Reads kept on an alert for the auditor's page (an alert of 40,000 reads lists the first 1,000)."""

STAFF_PREFIX = "staff:"
_LOG = models.AccessLogEntry.__table__
_STORE_LOCK = 0x61636373  # "accs": two runs at once must not both insert an alert


@dataclass(frozen=True)
class AccessRun:
    """What a detection run found: every finding, and how many were new alerts."""

    days: tuple[date, ...]
    findings: list[AccessFinding]
    new: int
    actors: int
    """Actors with reads on the days checked."""


def utc_bounds(first: date, last: date) -> tuple[str, str]:
    """The access log's ``occurred_at`` text bounds of Vietnamese days ``first``…``last``."""
    start = datetime.combine(first, time(0), VIETNAM).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), VIETNAM).astimezone(UTC)
    return start.isoformat(timespec="microseconds"), end.isoformat(timespec="microseconds")


def _local(dialect: str) -> tuple[str, str]:
    """SQL for the Vietnamese day (YYYY-MM-DD text) and hour of ``occurred_at``."""
    if dialect == "postgresql":
        local = "(CAST(occurred_at AS timestamptz) AT TIME ZONE 'Asia/Ho_Chi_Minh')"
        return f"to_char({local}, 'YYYY-MM-DD')", f"CAST(extract(hour FROM {local}) AS integer)"
    local = "datetime(occurred_at, '+7 hours')"  # Vietnam keeps UTC+7 all year
    return f"substr({local}, 1, 10)", f"CAST(substr({local}, 12, 2) AS integer)"


def _reads(dialect: str) -> str:
    day, hour = _local(dialect)
    return (
        f"SELECT actor, subject, {day} AS day, {hour} AS hour FROM access_log "
        "WHERE result = 'ok' AND subject IS NOT NULL "
        "AND occurred_at >= :lo AND occurred_at < :hi "
        "AND (actor LIKE 'staff:%' OR actor IN (SELECT code FROM partners))"
    )


@dataclass(frozen=True)
class _Actor:
    kind: str
    group: str
    group_label: str
    province: str | None


def _actors(conn: Connection, names: set[str]) -> dict[str, _Actor]:
    """Who each actor is: a staff member's role and province, a partner's kind."""
    found: dict[str, _Actor] = {}
    staff = {name[len(STAFF_PREFIX) :] for name in names if name.startswith(STAFF_PREFIX)}
    areas: dict[str, tuple[str, str, str | None]] = {}
    tokens = models.ApiToken.__table__
    for row in conn.execute(
        select(tokens.c.name, tokens.c.role, tokens.c.scope_level, tokens.c.province_code)
        .where(tokens.c.name.in_(staff))
        .order_by(tokens.c.id)
    ):
        areas[row.name] = (row.role, row.scope_level, row.province_code)
    users = StaffUser.__table__
    for row in conn.execute(
        select(users.c.username, users.c.role, users.c.scope_level, users.c.province_code).where(
            users.c.username.in_(staff)
        )
    ):
        areas[row.username] = (row.role, row.scope_level, row.province_code)  # accounts first
    for name in staff:
        role, level, province = areas.get(name, ("unknown", "central", None))
        try:
            label = StaffRole(role).label
        except ValueError:
            label = "Không rõ vai trò"
        found[STAFF_PREFIX + name] = _Actor(
            "staff", role, label, None if level == "central" else province
        )
    partners = models.Partner.__table__
    for code, kind in conn.execute(
        select(partners.c.code, partners.c.kind).where(partners.c.code.in_(names))
    ):
        found[code] = _Actor("partner", kind, "", None)
    return found


def count_days(engine: Engine, first: date, last: date) -> list[ActorDay]:
    """Every actor's reads on each Vietnamese day ``first``…``last``, counted."""
    lo, hi = utc_bounds(first, last)
    with engine.connect() as conn:
        reads = _reads(conn.dialect.name)
        totals = conn.execute(
            text(
                "SELECT actor, day, count(DISTINCT subject) AS persons, "
                f"count(DISTINCT CASE WHEN hour < {DAY_START_HOUR} OR hour >= {DAY_END_HOUR} "
                f"THEN subject END) AS off_hours FROM ({reads}) r GROUP BY actor, day"
            ),
            {"lo": lo, "hi": hi},
        ).all()
        provinces = conn.execute(
            text(
                "SELECT actor, day, substr(subject, 1, 2) AS province, "
                f"count(DISTINCT subject) AS persons FROM ({reads}) r "
                "WHERE actor LIKE 'staff:%' GROUP BY actor, day, substr(subject, 1, 2)"
            ),
            {"lo": lo, "hi": hi},
        ).all()
        actors = _actors(conn, {row.actor for row in totals})
    by_province: dict[tuple[str, str], dict[str, int]] = {}
    for row in provinces:
        by_province.setdefault((row.actor, row.day), {})[row.province] = int(row.persons)
    days: list[ActorDay] = []
    for row in totals:
        who = actors.get(row.actor)
        if who is None:
            continue
        day = date.fromisoformat(row.day)
        persons = int(row.persons)
        days.append(
            ActorDay(
                actor=row.actor,
                kind=who.kind,
                group=who.group,
                group_label=who.group_label,
                province=who.province,
                day=day,
                persons=persons,
                off_hours_persons=persons
                if unusual_day(day, is_public_holiday)
                else int(row.off_hours),
                by_province=by_province.get((row.actor, row.day), {}),
            )
        )
    return days


def reads_of(engine: Engine, finding: AccessFinding) -> tuple[list[tuple[int, int]], int]:
    """The reads a finding is about, as (lane, seq), at most ``READS_LISTED``; and how many."""
    lo, hi = utc_bounds(finding.day, finding.day)
    query = (
        select(_LOG.c.lane, _LOG.c.seq, _LOG.c.occurred_at, _LOG.c.subject)
        .where(
            _LOG.c.actor == finding.actor,
            _LOG.c.result == "ok",
            _LOG.c.subject.is_not(None),
            _LOG.c.occurred_at >= lo,
            _LOG.c.occurred_at < hi,
        )
        .order_by(_LOG.c.occurred_at, _LOG.c.lane, _LOG.c.seq)
    )
    whole_day = unusual_day(finding.day, is_public_holiday)
    listed: list[tuple[int, int]] = []
    total = 0
    with engine.connect() as conn:
        for row in conn.execute(query):
            if finding.kind == HOURS and not whole_day:
                hour = datetime.fromisoformat(row.occurred_at).astimezone(VIETNAM).hour
                if DAY_START_HOUR <= hour < DAY_END_HOUR:
                    continue
            if finding.kind == AREA and str(row.subject)[:2] == finding.province:
                continue
            total += 1
            if len(listed) < READS_LISTED:
                listed.append((int(row.lane), int(row.seq)))
    return listed, total


def detect_access(
    engine: Engine, days: Sequence[date], thresholds: Thresholds | None = None
) -> AccessRun:
    """Run the three rules on ``days`` and store the findings not already held as alerts."""
    limits = thresholds or Thresholds()
    checked = tuple(sorted(set(days)))
    if not checked:
        return AccessRun((), [], 0, 0)
    rows = count_days(engine, checked[0] - timedelta(days=limits.history_days), checked[-1])
    findings = find_anomalies(rows, checked, is_public_holiday, limits)
    new = _store(engine, findings)
    actors = len({row.actor for row in rows if row.day in set(checked)})
    return AccessRun(checked, findings, new, actors)


def _held(conn: Connection) -> set[tuple[str, str, object]]:
    alerts = models.Alert.__table__
    return {
        (row.kind, row.subject_id, (row.detail or {}).get("evidence_key"))
        for row in conn.execute(
            select(alerts.c.kind, alerts.c.subject_id, alerts.c.detail).where(
                alerts.c.kind.in_(KINDS)
            )
        )
    }


def _store(engine: Engine, findings: list[AccessFinding]) -> int:
    with engine.connect() as conn:
        held = _held(conn)
    fresh = [f for f in findings if (f.kind, f.actor, f.evidence_key) not in held]
    reads = {id(f): reads_of(engine, f) for f in fresh}  # before the write transaction
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": _STORE_LOCK})
        held = _held(conn)  # again, under the lock: another run may have stored some
        rows: list[dict[str, Any]] = []
        for f in fresh:
            key = (f.kind, f.actor, f.evidence_key)
            if key in held:
                continue
            held.add(key)
            listed, total = reads[id(f)]
            rows.append(
                {
                    "kind": f.kind,
                    "province": f.province,
                    "subject_type": f.actor_kind,
                    "subject_id": f.actor,
                    "detail": {
                        "rule": f.kind,
                        "evidence_key": f.evidence_key,
                        "explanation_vi": f.explanation_vi,
                        "explanation_en": f.explanation_en,
                        "day": f.day.isoformat(),
                        "count": f.count,
                        "threshold": f.threshold,
                        "facts": f.facts,
                        "reads": [list(pair) for pair in listed],
                        "reads_total": total,
                    },
                }
            )
        if rows:
            conn.execute(insert(models.Alert), rows)
    return len(rows)


@dataclass(frozen=True)
class LoggedRead:
    """One read an alert lists, as the auditor's page shows it."""

    occurred_at: datetime
    service: str
    purpose: str | None
    subject: str | None
    fields: str | None


def listed_reads(engine: Engine, pairs: Sequence[Sequence[int]]) -> list[LoggedRead]:
    """The access-log entries (lane, seq) an alert lists, in time order."""
    keys = [(int(lane), int(seq)) for lane, seq in pairs][:READS_LISTED]
    if not keys:
        return []
    query = (
        select(_LOG.c.occurred_at, _LOG.c.service, _LOG.c.purpose, _LOG.c.subject, _LOG.c.fields)
        .where(tuple_(_LOG.c.lane, _LOG.c.seq).in_(keys))
        .order_by(_LOG.c.occurred_at, _LOG.c.lane, _LOG.c.seq)
    )
    with engine.connect() as conn:
        return [
            LoggedRead(
                datetime.fromisoformat(row.occurred_at),
                row.service,
                row.purpose,
                row.subject,
                row.fields,
            )
            for row in conn.execute(query)
        ]
