"""The whole schema: every model module's tables and indexes on ``Base.metadata``.

Each model module declares its own tables and imports only what it builds on (``base``, and
``models`` for the staff indexes); importing this module is what puts all of them on the one
metadata, for the migrations (``alembic check`` compares it with the database).
"""

from __future__ import annotations

from nidb.store import (
    models,
    models_access,
    models_analytics,
    models_claims,
    models_contributions,
    models_dedupe,
    models_employers,
    models_employment,
    models_matching,
    models_notify,
    models_ops,
    models_platforms,
    models_retention,
    models_services,
    models_staff,
    models_web,
)
from nidb.store.base import Base

TABLE_MODULES = (
    models,
    models_access,
    models_analytics,
    models_claims,
    models_contributions,
    models_dedupe,
    models_employers,
    models_employment,
    models_matching,
    models_notify,
    models_retention,
    models_ops,
    models_platforms,
    models_services,
    models_staff,
    models_web,
)
metadata = Base.metadata
