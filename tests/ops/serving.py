"""`nidb serve --workers N` as a real process for the tests that are about processes: started
on a free port, waited for, its workers found in /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.api.test_live_server import free_port


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def serve_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a server over ``database_url`` keeping its files under ``tmp_path``."""
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": database_url,
        "NIDB_DATA_DIR": str(tmp_path / "data"),
        "NIDB_ACTOR": "test",
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def children(pid: int) -> set[int]:
    """The processes ``pid`` started that still run (reading /proc)."""
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(child) for child in (task / "children").read_text().split())
    except (FileNotFoundError, ProcessLookupError):
        return set()
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def port_free(port: int) -> bool:
    """Whether a new listener may bind ``port`` (no process listens on it any more)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "held"
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=None, headers={"Connection": "close"}).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def nidb_serve(env: dict[str, str], workers: int, log: Path) -> Iterator[Served]:
    """`nidb serve --workers N` on a free port, ready (its workers started and /healthz
    answering); terminated at the end if still running."""
    port = free_port()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "nidb", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stderr=log_file,
        )
        served = Served(process, port)
        try:
            deadline = time.monotonic() + 90
            # the workers, and with several workers multiprocessing's resource tracker
            expected = workers + 1 if workers > 1 else 0
            while len(children(process.pid)) < expected or not answers(f"{served.base}/healthz"):
                assert process.poll() is None, f"nidb serve ended: {log.read_text()[-2000:]}"
                assert time.monotonic() < deadline, "nidb serve did not start"
                time.sleep(0.2)
            yield served
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
