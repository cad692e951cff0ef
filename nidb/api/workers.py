"""Several worker processes on one port, each accepting on a listening socket of its own.

uvicorn's ``--workers`` gives every worker the *same* listening socket. Each worker's event loop
accepts every connection that is waiting when it wakes, so whichever worker wakes first takes
most of a burst of new connections; as partners keep their connections open, the split stays.
Measured on this project's machine: 16 connections opened together went 14 to one worker and 2
to the other, and in the soak one worker used 484 s of CPU against the other's 185 s — one core
saturated while the other idled (bench/results/soak.md).

Here each worker gets its own socket bound to the same address with ``SO_REUSEPORT``: the kernel
hashes every new connection to one of the sockets, so connections spread evenly whoever is awake.
The supervisor is uvicorn's (signals, health pings, a dead worker replaced), with worker *i*
always started on socket *i*. Linux lets only processes of the same user join such a group.

A worker does not outlive its supervisor: killed even by SIGKILL, the supervisor cannot stop
its workers, so each worker asks Linux for SIGTERM when its parent dies (`WorkerProcess`), and
stops as on ``nidb serve``'s own stop: replies in flight are finished, the access log flushed,
the port let go.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

__all__ = ["EvenMultiprocess", "WorkerProcess", "reuse_port_sockets", "serve_workers"]

log = logging.getLogger("uvicorn.error")


def reuse_port_sockets(
    host: str, port: int, count: int, backlog: int = 2048
) -> list[socket.socket]:
    """``count`` listening sockets on one address, in one ``SO_REUSEPORT`` group.

    With ``port`` 0 the system picks a port for the first socket and the others join it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def end_with_parent(parent: int) -> None:
    """Ask Linux to send this process SIGTERM when its parent dies, even by SIGKILL.

    Asked for in the worker once it runs (the request belongs to the process that makes it);
    a parent killed before then sends nothing, so the worker then checks that its parent is
    still ``parent`` and ends itself if not. As nidb.ingest.chunks does for import workers, with
    SIGTERM rather than SIGKILL: a server worker stops as on a normal stop, finishing replies.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(1)


class WorkerProcess(Process):
    """uvicorn's worker process, ending when its supervisor dies (`end_with_parent`)."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self.supervisor = os.getpid()  # before uvicorn's init: the process is pickled with it
        super().__init__(config, sockets)

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        end_with_parent(self.supervisor)
        super().target(sockets)


class EvenMultiprocess(Multiprocess):
    """uvicorn's supervisor, with worker *i* always listening on socket *i* (its slot)."""

    def __init__(self, config: Config, slots: list[socket.socket]) -> None:
        super().__init__(config, sockets=slots)
        self.slots = slots
        self.processes_num = len(slots)

    def _start(self, slot: int) -> Process:
        process = WorkerProcess(self.config, [self.slots[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._start(slot) for slot in range(len(self.slots))]

    def keep_subprocess_alive(self) -> None:
        """Replace a dead or hung worker on its own slot; stop if one failed at start-up."""
        if self.should_exit.is_set():
            return
        for slot, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # the application or the socket is broken: every restart would fail the same way
                log.error("Worker [%s] failed to start; stopping.", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.info("Worker [%s] died; starting its replacement.", process.pid)
            self.processes[slot] = self._start(slot)

    def restart_all(self) -> None:
        """SIGHUP: replace each worker on its slot, the new one serving before the old leaves."""
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._start(slot)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                log.error("Worker [%s] was not ready in time; restart aborted.", new.pid)
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def handle_ttin(self) -> None:
        log.info("SIGTTIN ignored: the number of workers is fixed at start (--workers).")

    def handle_ttou(self) -> None:
        log.info("SIGTTOU ignored: the number of workers is fixed at start (--workers).")


def serve_workers(config: Config) -> None:
    """Run ``config.workers`` workers, each on its own socket of one ``SO_REUSEPORT`` group."""
    try:
        slots = reuse_port_sockets(config.host, config.port, config.workers, config.backlog)
    except OSError as exc:
        log.error("%s", exc)
        raise SystemExit(STARTUP_FAILURE) from exc
    log.info(
        "Listening on http://%s:%d with %d workers, one socket each",
        config.host,
        slots[0].getsockname()[1],
        len(slots),
    )
    try:
        EvenMultiprocess(config, slots).run()
    finally:
        for sock in slots:
            sock.close()
