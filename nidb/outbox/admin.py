"""Managing the change feed: subscriptions (`nidb outbox subscribe`), status, dead letters.

Every change is written with an audit entry in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.orm import aliased

from nidb.outbox.events import (
    PENDING,
    TOPIC_PATTERN,
    D,
    E,
    OutboxError,
    S,
    aware,
    delivery_row,
    insert_deliveries,
    topic_matches,
    utcnow,
)
from nidb.store import models
from nidb.store.audit import write_audit

# --- subscriptions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    id: int
    partner_code: str
    topic: str
    url: str
    paused: bool
    ended: bool


def _audit(conn: Connection, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
    write_audit(
        conn,
        actor=actor,
        action=action,
        subject_type="subscription",
        subject_id=subject,
        purpose="QUANTRI",
        detail=detail,
    )


def subscribe(
    engine: Engine,
    partner_code: str,
    topic: str,
    actor: str,
    url: str | None = None,
    from_event: int | None = None,
) -> SubscriptionInfo:
    """Subscribe a partner's webhook to a topic (default URL: the partner's ``webhook_url``).

    The subscription receives events fanned out from now on; ``from_event`` also queues the
    already fanned-out events with ``id >= from_event`` (a backfill).
    """
    if not TOPIC_PATTERN.fullmatch(topic):
        raise OutboxError(
            "topic",
            "Chủ đề phải là tên chủ đề, tiền tố có .* hoặc *",
            "topic must be an exact topic, a prefix ending in .*, or *",
        )
    with engine.begin() as conn:
        partner = conn.execute(
            select(models.Partner.webhook_url).where(models.Partner.code == partner_code)
        ).first()
        if partner is None:
            raise OutboxError("partner", "Không có đối tác này", f"unknown partner {partner_code}")
        target = url or partner.webhook_url
        if not target or not re.match(r"^https?://[^\s]+$", target):
            raise OutboxError(
                "url",
                "Cần địa chỉ http(s) nhận sự kiện",
                "an http(s) webhook URL is required (--url or the partner's webhook)",
            )
        sub_id = conn.execute(
            insert(S)
            .values(partner_code=partner_code, topic=topic, url=target, created_by=actor)
            .returning(S.id)
        ).scalar_one()
        queued = 0
        if from_event is not None:
            queued = _backfill(conn, sub_id, topic, from_event)
        _audit(
            conn,
            actor,
            "outbox.subscribe",
            str(sub_id),
            {"partner": partner_code, "topic": topic, "url": target, "backfilled": queued},
        )
    return SubscriptionInfo(sub_id, partner_code, topic, target, False, False)


def _backfill(conn: Connection, sub_id: int, topic: str, from_event: int) -> int:
    rows = conn.execute(
        select(E.id, E.topic, E.subject_key)
        .where(E.id >= from_event, E.dispatched_at.is_not(None))
        .order_by(E.id)
    ).all()
    now = utcnow()
    wanted = [
        delivery_row(sub_id, r.id, r.subject_key, now)
        for r in rows
        if topic_matches(topic, r.topic)
    ]
    for start in range(0, len(wanted), 5000):
        insert_deliveries(conn, wanted[start : start + 5000])
    return len(wanted)


def set_state(engine: Engine, sub_id: int, action: str, actor: str) -> None:
    """``pause`` (keep queueing, send nothing), ``resume``, or ``end`` (no new deliveries)."""
    column = {"pause": S.paused_at, "resume": S.paused_at, "end": S.ended_at}[action]
    value = None if action == "resume" else utcnow()
    with engine.begin() as conn:
        done = conn.execute(update(S).where(S.id == sub_id).values({column: value})).rowcount
        if not done:
            raise OutboxError("subscription", "Không có đăng ký này", f"no subscription {sub_id}")
        _audit(conn, actor, f"outbox.{action}", str(sub_id), {})


def list_subscriptions(engine: Engine, sendable_only: bool = False) -> list[SubscriptionInfo]:
    """All subscriptions; ``sendable_only``: not paused, not ended, partner not suspended."""
    query = (
        select(S.id, S.partner_code, S.topic, S.url, S.paused_at, S.ended_at)
        .add_columns(models.Partner.suspended_at)
        .join(models.Partner, models.Partner.code == S.partner_code)
        .order_by(S.id)
    )
    if sendable_only:
        query = query.where(
            S.paused_at.is_(None), S.ended_at.is_(None), models.Partner.suspended_at.is_(None)
        )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        SubscriptionInfo(
            r.id,
            r.partner_code,
            r.topic,
            r.url,
            r.paused_at is not None or r.suspended_at is not None,
            r.ended_at is not None,
        )
        for r in rows
    ]


# --- status and dead letters ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionStatus:
    subscription: SubscriptionInfo
    counts: dict[str, int]
    oldest_pending: datetime | None


def status(engine: Engine) -> list[SubscriptionStatus]:
    """Deliveries per subscription by status, and the oldest still pending."""
    subs = list_subscriptions(engine)
    with engine.connect() as conn:
        counts = conn.execute(
            select(D.subscription_id, D.status, func.count()).group_by(D.subscription_id, D.status)
        ).all()
        oldest = dict(
            conn.execute(
                select(D.subscription_id, func.min(D.created_at))
                .where(D.status == "pending")
                .group_by(D.subscription_id)
            ).all()
        )
    by_sub: dict[int, dict[str, int]] = {}
    for sub_id, state, count in counts:
        by_sub.setdefault(sub_id, {})[state] = count
    return [
        SubscriptionStatus(
            sub,
            {
                s: by_sub.get(sub.id, {}).get(s, 0)
                for s in ("pending", "delivered", "dead", "skipped")
            },
            aware(oldest[sub.id]) if oldest.get(sub.id) else None,
        )
        for sub in subs
    ]


def undispatched_count(engine: Engine) -> int:
    """Events not yet fanned out."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(E).where(E.dispatched_at.is_(None))
            ).scalar_one()
        )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    delivery_id: int
    subscription_id: int
    partner_code: str
    event_id: int
    topic: str
    subject_key: str
    attempts: int
    last_error: str | None
    held: int
    """Later events of the same subject waiting behind this one."""


def dead_letters(
    engine: Engine, subscription_id: int | None = None, limit: int = 100
) -> list[DeadLetter]:
    """Dead deliveries, oldest event first, with how many later events each holds back."""
    later = aliased(D)
    held = (
        select(func.count())
        .where(
            later.subscription_id == D.subscription_id,
            later.subject_key == D.subject_key,
            later.event_id > D.event_id,
            later.status == PENDING,
        )
        .scalar_subquery()
    )
    query = (
        select(D.id, D.subscription_id, D.event_id, D.subject_key, D.attempts, D.last_error)
        .add_columns(E.topic, S.partner_code, held.label("held"))
        .join(E, E.id == D.event_id)
        .join(S, S.id == D.subscription_id)
        .where(D.status == "dead")
        .order_by(D.event_id)
        .limit(limit)
    )
    if subscription_id is not None:
        query = query.where(D.subscription_id == subscription_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        DeadLetter(
            r.id,
            r.subscription_id,
            r.partner_code,
            r.event_id,
            r.topic,
            r.subject_key,
            r.attempts,
            r.last_error,
            r.held,
        )
        for r in rows
    ]


def resolve_dead(
    engine: Engine,
    action: str,
    actor: str,
    delivery_ids: Iterable[int] = (),
    subscription_id: int | None = None,
    note: str | None = None,
) -> int:
    """``retry`` (back to pending, attempts reset) or ``skip`` dead deliveries.

    Names the deliveries, or all dead ones of ``subscription_id`` when no id is given.
    A skip lets the subject's later events go; it needs a note. Returns how many changed.
    """
    if action not in ("retry", "skip"):
        raise OutboxError("action", "Chỉ có retry hoặc skip", "action must be retry or skip")
    if action == "skip" and not (note and note.strip()):
        raise OutboxError("note", "Cần ghi lý do bỏ qua", "a note is required to skip")
    ids = list(delivery_ids)
    if not ids and subscription_id is None:
        raise OutboxError(
            "delivery", "Cần số giao nhận hoặc --subscription", "name deliveries or a subscription"
        )
    condition = D.id.in_(ids) if ids else D.subscription_id == subscription_id
    now = utcnow()
    values: dict[str, Any] = (
        {"status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
        if action == "retry"
        else {"status": "skipped"}
    )
    with engine.begin() as conn:
        changed = (
            conn.execute(
                update(D).where(condition, D.status == "dead").values(values).returning(D.id)
            )
            .scalars()
            .all()
        )
        if changed:
            _audit(
                conn,
                actor,
                f"outbox.dead_{action}",
                ",".join(str(i) for i in changed[:50]),
                {"deliveries": len(changed), "note": note},
            )
    return len(changed)
