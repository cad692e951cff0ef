"""Issue 16: the workers of `nidb serve --workers N` do not outlive a supervisor killed with
SIGKILL; they stop within seconds and the port is free again (nidb.api.workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ops.serving import children, nidb_serve, port_free, running, serve_env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")


@pytest.mark.slow
def test_workers_end_and_free_the_port_when_the_supervisor_is_killed(
    database_url: str, tmp_path: Path
) -> None:
    env = serve_env(database_url, tmp_path)
    with nidb_serve(env, 2, tmp_path / "serve.log") as served:
        supervisor = served.process.pid
        workers = children(supervisor)
        assert len(workers) == 3  # two workers and multiprocessing's resource tracker
        assert not port_free(served.port)
        os.kill(supervisor, signal.SIGKILL)
        served.process.wait(timeout=10)
        try:
            deadline = time.monotonic() + 15
            while any(running(pid) for pid in workers) or not port_free(served.port):
                assert time.monotonic() < deadline, (
                    f"still running: {[pid for pid in workers if running(pid)]}, "
                    f"port free: {port_free(served.port)}"
                )
                time.sleep(0.1)
        finally:  # a failure must not leave orphans behind either
            for pid in workers:
                if running(pid):
                    os.kill(pid, signal.SIGKILL)
    # they stopped as on a normal stop: uvicorn's shutdown, not a crash
    log = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert log.count("Finished server process") >= 2, log[-3000:]


def test_a_worker_whose_supervisor_died_before_it_asked_ends_itself() -> None:
    """The death signal is asked for once the worker runs; if the supervisor was already gone,
    no signal will come, so the worker compares its parent with the one it was started by."""
    script = (
        "import os; from nidb.api.workers import end_with_parent; "
        "end_with_parent(os.getppid()); print('kept', flush=True); "
        "end_with_parent(os.getppid() + 1); print('not reached', flush=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["kept"]
    assert done.returncode == 1
