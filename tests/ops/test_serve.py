"""`nidb serve --workers 2` in its own process group: ``/metrics`` sums both workers, and
stderr is JSON lines with request ids (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.test_live_server import free_port
from tests.ops.conftest import samples, value


@pytest.mark.slow
def test_two_workers_count_into_one_metrics_view_and_log_json_lines(
    database_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    metrics_dir = data / "metrics"
    metrics_dir.mkdir(parents=True)
    stale = metrics_dir / "counter_99999.db"
    stale.write_bytes(b"left by a server that stopped")  # emptied when serve starts
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": database_url,
        "NIDB_DATA_DIR": str(data),
        "NIDB_ACTOR": "test",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("NIDB_METRICS_TOKEN", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "nidb", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stderr=log_file,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    # no time-out: a request queued for a worker still starting must be served,
                    # not abandoned (it would be counted later by the worker that answers it)
                    if httpx.get(f"{base}/healthz", timeout=None).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.2)
            assert not stale.exists()
            sent = 1  # the /healthz that answered above
            counters: list[Path] = []
            while sent < 400 and len(counters) < 2:
                for _ in range(20):  # a new connection each: the kernel spreads them
                    response = httpx.get(f"{base}/healthz", headers={"Connection": "close"})
                    assert response.status_code == 200
                    sent += 1
                counters = sorted(metrics_dir.glob("counter_*.db"))
            assert len(counters) == 2, "both workers answered and counted"
            healthz = {"service": "/healthz", "method": "GET", "outcome": "2xx"}
            for _ in range(2):  # whichever worker answers the scrape, the sum is the same
                found = samples(httpx.get(f"{base}/metrics").text)
                assert value(found, "nidb_http_requests_total", **healthz) == sent
                assert value(found, "nidb_store_up") == 1
            echoed = httpx.get(f"{base}/healthz", headers={"X-Request-Id": "probe-0000-1111-2222"})
            assert echoed.headers["x-request-id"] == "probe-0000-1111-2222"
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = log_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("nidb serve: http://")  # the command's own banner
    records = [json.loads(line) for line in lines[1:]]  # every other line is one JSON object
    requests = [r for r in records if r["logger"] == "nidb.http"]
    assert len([r for r in requests if r["route"] == "/healthz"]) == sent + 1
    assert any(r.get("request_id") == "probe-0000-1111-2222" for r in requests)
    assert all(len(r["request_id"]) >= 16 and r["status"] == 200 for r in requests)
    assert not [r for r in records if r["logger"] == "uvicorn.access"]
