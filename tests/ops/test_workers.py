"""`nidb serve --workers 2` gives each worker a listening socket of its own (``SO_REUSEPORT``),
so that connections opened together are spread over the workers instead of piling on whichever
woke first (nidb.api.workers)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from nidb.api.workers import reuse_port_sockets
from tests.api.test_live_server import free_port


def test_sockets_of_one_group_share_the_port_the_system_picked() -> None:
    sockets = reuse_port_sockets("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(sockets) == 3 and len(ports) == 1 and ports != {0}
        assert all(sock.get_inheritable() for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_a_port_held_outside_the_group_is_refused_and_nothing_is_left_open() -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        with pytest.raises(OSError):
            reuse_port_sockets("127.0.0.1", holder.getsockname()[1], 2)
    finally:
        holder.close()


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found.update(int(child) for child in text.split())
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _established_to(port: int) -> set[int]:
    """Socket inodes of the server side of established TCP connections on ``port``."""
    inodes: set[int] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(int(fields[9]))
    return inodes


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_connections_opened_together_are_spread_over_both_workers(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NIDB_DATABASE_URL": f"sqlite:///{tmp_path / 'nidb.db'}",
        "NIDB_DATA_DIR": str(tmp_path / "data"),
        "NIDB_ACTOR": "test",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run(
        [sys.executable, "-m", "nidb", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nidb", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    partners: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while len(_children(server.pid)) < 3 or not _ready(port):  # two workers, one tracker
            assert server.poll() is None and time.monotonic() < deadline, "did not start"
            time.sleep(0.2)
        # sixteen partners connect at once (all waiting to be accepted together, as after a
        # restart), then each asks once and keeps its connection
        partners.extend(socket.create_connection(("127.0.0.1", port)) for _ in range(16))
        for partner in partners:
            partner.sendall(b"GET /healthz HTTP/1.1\r\nHost: nidb\r\n\r\n")
        for partner in partners:
            assert partner.recv(65536).startswith(b"HTTP/1.1 200")
        established = _established_to(port)
        held = {pid: len(_socket_inodes(pid) & established) for pid in _children(server.pid)}
        workers = sorted(count for count in held.values() if count)
        assert sum(workers) == 16
        # the kernel hashes each connection to a socket: all sixteen on one has odds 2 ** -15
        assert len(workers) == 2, held
    finally:
        for partner in partners:
            partner.close()
        server.terminate()
        server.wait(timeout=30)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    except httpx.HTTPError:
        return False
