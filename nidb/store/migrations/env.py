"""Alembic environment: runs against the engine nidb hands over (see nidb.store.db)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from nidb.store.schema import metadata

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:  # run from the alembic command line
    from nidb.store.db import make_engine

    engine = make_engine()

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
