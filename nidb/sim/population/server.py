"""Running the service: `serve` in the foreground, `BackgroundServer` on a thread."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from nidb.sim.population.app import create_app
from nidb.sim.population.faults import FaultConfig
from nidb.sim.population.registry import Registry

__all__ = ["BackgroundServer", "serve"]


def serve(
    registry_path: Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    faults: FaultConfig | None = None,
    *,
    admin: bool = False,
    registry: Registry | None = None,
    log_level: str = "info",
) -> None:
    """Load the registry (unless given, already loaded) and serve it until interrupted."""
    app = create_app(registry_path, faults, admin=admin, registry=registry)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


class BackgroundServer:
    """Run an ASGI app with uvicorn on a daemon thread: for tests and demos.

    `port=0` picks a free port. Use as a context manager, or `start()` / `stop()`; a stopped
    server can be started again on the same port (to simulate an outage and a recovery).
    """

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, lifespan: str = "off"
    ) -> None:
        self.app = app
        self.lifespan = lifespan
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:43210`."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Bind, start serving, and wait until the server accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan=self.lifespan,  # type: ignore[arg-type]
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn:{self.port}"
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
