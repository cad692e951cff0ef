"""Metrics read from the database when ``/metrics`` is scraped (one worker answers, so each is
read once per scrape): the outbox, the inbound feeds and the batch jobs.

Every query is an indexed count or a read of a small table: deliveries by the partial indexes
on ``status`` (literal values, which PostgreSQL needs to pick a partial index), undispatched
events by theirs, ``feed_cursors`` (one row per feed) and ``batch_runs`` (one row per job run,
grouped by kind and outcome). If the database does not answer, ``nidb_store_up`` is 0 and the
other metrics of this module are left out; the scrape itself still succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, case, func, literal_column, select

from nidb.store import models
from nidb.store.models_ops import BatchRun
from nidb.store.runs import DURATION_BUCKETS

log = logging.getLogger(__name__)


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC time stamps; PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _outbox(conn: Connection) -> Iterator[Metric]:
    deliveries = models.Delivery.__table__
    backlog = GaugeMetricFamily(
        "nidb_outbox_deliveries",
        "Webhook deliveries still owed (pending) or given up (dead: they hold their subject's "
        "later events until an operator retries or skips them), per status.",
        labels=("status",),
    )
    for status in ("pending", "dead"):
        count = conn.execute(
            select(func.count())
            .select_from(deliveries)
            .where(deliveries.c.status == literal_column(f"'{status}'"))
        ).scalar_one()
        backlog.add_metric((status,), count)
    yield backlog
    events = models.OutboxEvent.__table__
    undispatched = conn.execute(
        select(func.count()).select_from(events).where(events.c.dispatched_at.is_(None))
    ).scalar_one()
    yield GaugeMetricFamily(
        "nidb_outbox_events_undispatched",
        "Outbox events not yet fanned out to their subscriptions.",
        value=undispatched,
    )


def _feeds(conn: Connection, now: datetime) -> Iterator[Metric]:
    cursors = models.FeedCursor.__table__
    since = GaugeMetricFamily(
        "nidb_feed_seconds_since_last_page",
        "Seconds since each inbound feed last applied a page (nidb cannot see a source's head "
        "without asking it: while the source is busy this bounds how far nidb is behind).",
        labels=("source",),
    )
    applied = CounterMetricFamily(
        "nidb_feed_changes_applied",
        "Changes applied from each inbound feed since it was first followed.",
        labels=("source",),
    )
    for row in conn.execute(
        select(cursors.c.source, cursors.c.changes_applied, cursors.c.updated_at)
    ):
        since.add_metric((row.source,), max(0.0, (now - _utc(row.updated_at)).total_seconds()))
        applied.add_metric((row.source,), row.changes_applied)
    yield since
    yield applied


def _batch_jobs(conn: Connection) -> Iterator[Metric]:
    runs = BatchRun.__table__
    duration = runs.c.duration_seconds
    buckets = [
        func.sum(case((duration <= bound, 1), else_=0)).label(f"le{index}")
        for index, bound in enumerate(DURATION_BUCKETS)
    ]
    histogram = HistogramMetricFamily(
        "nidb_batch_job_duration_seconds",
        "How long batch jobs ran (nidb import, verify, match on the register), per kind and "
        "outcome (ok, failed, stopped), recorded by each job when it ends.",
        labels=("kind", "outcome"),
    )
    rows = conn.execute(
        select(runs.c.kind, runs.c.outcome, func.count(), func.sum(duration), *buckets).group_by(
            runs.c.kind, runs.c.outcome
        )
    )
    for row in rows:
        kind, outcome, count, total = row[0], row[1], row[2], row[3]
        cumulative = [
            (repr(float(bound)), float(row[4 + index]))  # le="5.0", as the library writes
            for index, bound in enumerate(DURATION_BUCKETS)
        ]
        histogram.add_metric(
            (kind, outcome), [*cumulative, ("+Inf", float(count))], sum_value=float(total or 0)
        )
    yield histogram


class StoreCollector(Collector):
    """The metrics above, read from ``engine`` at each collection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            with self.engine.connect() as conn:
                found = [
                    *_outbox(conn),
                    *_feeds(conn, datetime.now(UTC)),
                    *_batch_jobs(conn),
                ]
        except Exception as error:  # a scrape must still say that the store is down
            log.warning("metrics: the database did not answer (%s)", type(error).__name__)
            found = []
        yield GaugeMetricFamily(
            "nidb_store_up",
            "1 if the database answered this scrape's queries, else 0.",
            value=1 if found else 0,
        )
        yield from found
