"""What can go wrong in a backup or a restore, as typed errors with exit codes."""

from __future__ import annotations

__all__ = ["BackupError", "BackupRefused", "CheckFailed", "ToolFailed"]


class BackupError(Exception):
    """A backup or restore that stopped; ``message`` says why, Vietnamese first then English."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class BackupRefused(BackupError):
    """Bad input, refused before anything was written: no key, a tampered or unreadable backup,
    a wrong key, a target that is not empty (exit 2)."""

    exit_code = 2


class ToolFailed(BackupError):
    """The system failed: pg_dump or pg_restore, the database, the disk (exit 1)."""

    exit_code = 1


class CheckFailed(BackupError):
    """The restored data differ from the manifest (row counts, access-log heads, the chain)
    (exit 3)."""

    exit_code = 3
