"""What the event-loop (asyncpg) readers and writers share: the database's address and the
errors that mean a connection is gone."""

from __future__ import annotations

import asyncpg
from sqlalchemy import Engine

# The connection is gone or going: closed under us (PostgresConnectionError, InterfaceError,
# OSError), the server said so first (AdminShutdownError and the rest of SQLSTATE class 57),
# or the driver lost track of its state because the server's goodbye came between two
# operations (InternalClientError). A new connection is the answer to all of them.
BROKEN_CONNECTION = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InternalClientError,
    OSError,
)


def asyncpg_dsn(engine: Engine) -> str:
    """The libpq URL of ``engine``'s database (asyncpg takes no SQLAlchemy driver name)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
