"""Prometheus metrics of `nidb serve` (``/metrics``), summed over every worker process.

Counted as requests are answered (`nidb.api.observe`): requests and their latency per service
and outcome, and partner refusals per code. Set by each worker every second: the access-log
entries it holds that are not yet durable. Read from the database at scrape time (cheap,
indexed counts; `nidb.api.metrics_store`): outbox backlog and dead letters, how long since each
inbound feed last moved, and batch-job durations.

With ``nidb serve`` the metrics live in files under ``NIDB_DATA_DIR/metrics``
(``PROMETHEUS_MULTIPROC_DIR``, emptied by ``serve`` before the workers start), so any worker
answering a scrape reports the sum over all of them. Without it (tests, an app built in
process) they are this process's own.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import Engine

from nidb.api.metrics_store import StoreCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# no *_created series: Prometheus knows when the process started
disable_created_metrics()  # type: ignore[no-untyped-call]

REGISTRY = CollectorRegistry(auto_describe=False)
"""nidb's own metrics (the library's default registry is left alone)."""

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "nidb_http_requests",
    "Requests answered, per service (partner service or route template), method and outcome "
    "(refusal code or ok for partner services; status class otherwise).",
    ("service", "method", "outcome"),
    registry=REGISTRY,
)
LATENCY = Histogram(
    "nidb_http_request_duration_seconds",
    "Time from the request's arrival to the end of its reply, per service and outcome.",
    ("service", "outcome"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
REFUSALS = Counter(
    "nidb_exchange_refusals",
    "Signed messages refused, per service and refusal code (E_NOT_GRANTED, E_REPLAY, …).",
    ("service", "code"),
    registry=REGISTRY,
)
ACCESS_LOG_PENDING = Gauge(
    "nidb_access_log_pending_entries",
    "Access-log entries recorded but not yet durable, summed over live workers (replies wait "
    "for their entry: a growing value means requests are waiting on the log).",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)


def multiprocess_dir() -> str | None:
    """The shared metrics folder when the workers of `nidb serve` write there."""
    return os.environ.get(MULTIPROC_ENV) or None


def exposition(engine: Engine) -> bytes:
    """The text of a scrape: the workers' metrics, then those read from the database."""
    if multiprocess_dir():
        workers = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        counted = generate_latest(workers)
    else:
        counted = generate_latest(REGISTRY)
    stored = CollectorRegistry(auto_describe=False)
    stored.register(StoreCollector(engine))
    return counted + generate_latest(stored)


def worker_stopped() -> None:
    """Drop this worker's live gauges from the sum (its counters stay counted)."""
    if multiprocess_dir():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def scrape_allowed(client_host: str | None, authorization: str | None, token: str | None) -> bool:
    """Whether a scrape may read ``/metrics``.

    With ``NIDB_METRICS_TOKEN`` set: only a request bearing it (``Authorization: Bearer …``,
    compared in constant time), from anywhere. Without: only loopback clients.
    """
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    try:
        return client_host is not None and ipaddress.ip_address(client_host).is_loopback
    except ValueError:  # "testclient", a unix socket: not an address, not loopback
        return False
