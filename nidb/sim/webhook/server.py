"""Serving the webhook stand-in: `serve` in the foreground (`nidb sim webhook`)."""

from __future__ import annotations

import uvicorn

from nidb.protocol.trusted import TrustedKeys
from nidb.sim.webhook.app import FaultSettings, create_app

__all__ = ["serve"]


def serve(
    nidb_keys: TrustedKeys | str,
    host: str = "127.0.0.1",
    port: int = 8090,
    member: str | None = None,
    faults: FaultSettings | None = None,
    log_level: str = "warning",
) -> None:
    """Receive nidb's notifications on ``http://host:port/events`` until interrupted."""
    app = create_app(nidb_keys, member, faults)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
