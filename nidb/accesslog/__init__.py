"""The access log (nhật ký truy cập): every partner request and every read of a person's data.

What other packages may use is named here; the modules behind it are this package's own:
``records`` (what an entry says), ``chain`` (lanes and hashes), ``writer`` (the process's
group-committing writer, a thread and, on PostgreSQL, the server's event loop through
``pgasync``), ``verify`` (the chain and its heads) and ``history`` (a person's own view).

- Write: `AccessLog` — ``record`` (blocking), ``record_async`` (awaitable), ``submit``,
  ``pending`` (entries not yet durable: the lag ``/metrics`` shows);
  `append` writes entries in the caller's own transaction. An entry the database refuses for
  its content fails alone with `EntryRefused`; its batch neighbours are written.
- Check: `verify_chain`, `chain_head`, `format_heads`, `parse_heads`.
- Retention: `prune_before` removes each lane's entries past their period and keeps the
  lane's checkpoint, so what remains still verifies; `count_prunable` counts them first.
- Read: `access_history`, `count_entries`.

The names are loaded on first use: `nidb --help` loads ``nidb.accesslog.commands``, and must
not load the store with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nidb.accesslog.history import AccessView, access_history, count_entries
    from nidb.accesslog.prune import PruneReport, count_prunable, prune_before
    from nidb.accesslog.records import AccessRecord, EntryRefused, staff_read
    from nidb.accesslog.verify import (
        ChainProblem,
        ChainReport,
        chain_head,
        format_heads,
        parse_heads,
        verify_chain,
    )
    from nidb.accesslog.writer import AccessLog, append

_HOMES = {
    "AccessLog": "nidb.accesslog.writer",
    "AccessRecord": "nidb.accesslog.records",
    "AccessView": "nidb.accesslog.history",
    "ChainProblem": "nidb.accesslog.verify",
    "ChainReport": "nidb.accesslog.verify",
    "EntryRefused": "nidb.accesslog.records",
    "PruneReport": "nidb.accesslog.prune",
    "access_history": "nidb.accesslog.history",
    "append": "nidb.accesslog.writer",
    "chain_head": "nidb.accesslog.verify",
    "count_entries": "nidb.accesslog.history",
    "count_prunable": "nidb.accesslog.prune",
    "format_heads": "nidb.accesslog.verify",
    "parse_heads": "nidb.accesslog.verify",
    "prune_before": "nidb.accesslog.prune",
    "staff_read": "nidb.accesslog.records",
    "verify_chain": "nidb.accesslog.verify",
}

__all__ = [
    "AccessLog",
    "AccessRecord",
    "AccessView",
    "ChainProblem",
    "ChainReport",
    "EntryRefused",
    "PruneReport",
    "access_history",
    "append",
    "chain_head",
    "count_entries",
    "count_prunable",
    "format_heads",
    "parse_heads",
    "prune_before",
    "staff_read",
    "verify_chain",
]


def __getattr__(name: str) -> Any:
    """Load a public name on first use: `nidb --help` loads ``nidb.accesslog.commands`` and must
    not load the store with it."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
