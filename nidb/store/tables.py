"""The Core table of a mapped class, typed as one.

SQLAlchemy types ``Model.__table__`` as any ``FromClause`` (a class may be mapped onto a join or
a subquery); every model in nidb is declared on one ``Table``, and ``insert``, ``update`` and the
bulk loaders want exactly that.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase


def table_of(model: type[DeclarativeBase]) -> Table:
    """The ``Table`` that ``model`` is declared on."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped onto a single table")
    return table
