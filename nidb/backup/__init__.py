"""Backup and restore of the register (sao lưu và phục hồi): `nidb backup`, `nidb restore`.

What other packages may use is named here: `take_backup`, `restore_backup`, `BackupKey`, the
errors. The modules behind it are this package's own: ``sealed`` (AES-256-GCM in chunks),
``manifest`` (what a backup holds, with its MAC), ``census`` (row counts and access-log heads),
``pgtools`` (finding pg_dump and pg_restore), ``take`` and ``restore``.

The names are loaded on first use: `nidb --help` loads ``nidb.backup.commands`` and must not
load the store with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nidb.backup.errors import BackupError, BackupRefused, CheckFailed, ToolFailed
    from nidb.backup.restore import RestoreReport, restore_backup
    from nidb.backup.sealed import BackupKey
    from nidb.backup.take import BackupResult, take_backup

_HOMES = {
    "BackupError": "nidb.backup.errors",
    "BackupKey": "nidb.backup.sealed",
    "BackupRefused": "nidb.backup.errors",
    "BackupResult": "nidb.backup.take",
    "CheckFailed": "nidb.backup.errors",
    "RestoreReport": "nidb.backup.restore",
    "ToolFailed": "nidb.backup.errors",
    "restore_backup": "nidb.backup.restore",
    "take_backup": "nidb.backup.take",
}

__all__ = [
    "BackupError",
    "BackupKey",
    "BackupRefused",
    "BackupResult",
    "CheckFailed",
    "RestoreReport",
    "ToolFailed",
    "restore_backup",
    "take_backup",
]


def __getattr__(name: str) -> Any:
    """Load a public name on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
