"""nidb's own signing key: which public keys it publishes, and its rotation (`nidb keys`).

The private key lives in one file (``settings.signing_key_path()``); each rotation moves the
public half of the old key to ``previous/<kid>.json`` beside it, and ``/keys`` keeps publishing
it for ``settings.signing_key_grace_days`` days, so that a partner who fetched the old key can
still verify replies signed before the servers switched to the new one. Running servers follow
the file (`nidb.protocol.keys.KeyFile`): each worker signs with the new key within
``settings.signing_key_check_seconds`` of the rotation, without a restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from nidb.protocol.keys import RetiredKey, SigningKey, load_previous, rotate_key_file
from nidb.settings import get_settings
from nidb.store.audit import write_audit

MEMBER = "VN/GOV/BHXH/CSDLBH"


@dataclass(frozen=True)
class PublishedKeys:
    """What ``/keys`` shows: the key nidb signs with now, and the retired ones still in grace."""

    current: SigningKey
    previous: tuple[RetiredKey, ...]

    def document(self) -> dict[str, Any]:
        """The ``/keys`` answer. ``kid`` and ``public_key`` at the top are the current key (as
        before rotation existed); ``keys`` lists every key a reply may be signed with."""
        keys: list[dict[str, Any]] = [
            {"kid": self.current.kid, "public_key": self.current.public_b64, "use": "current"}
        ]
        keys += [
            {
                "kid": old.kid,
                "public_key": old.public_b64,
                "use": "previous",
                "retired_at": old.retired_at.isoformat(),
            }
            for old in self.previous
        ]
        return {
            "member": MEMBER,
            "kid": self.current.kid,
            "public_key": self.current.public_b64,
            "keys": keys,
        }


def grace() -> timedelta:
    return timedelta(days=get_settings().signing_key_grace_days)


def publish(
    current: SigningKey, retired: Iterable[RetiredKey], now: datetime | None = None
) -> PublishedKeys:
    """``current`` and those of the ``retired`` keys still in their grace period."""
    moment = now or datetime.now(UTC)
    previous = tuple(
        old for old in retired if old.kid != current.kid and old.published(moment, grace())
    )
    return PublishedKeys(current, previous)


def published_keys(
    path: Path, current: SigningKey | None = None, now: datetime | None = None
) -> PublishedKeys:
    """The keys to publish for the key file ``path`` (``current`` if the caller loaded it)."""
    return publish(current or SigningKey.load_or_create(path), load_previous(path), now)


def rotate_signing_key(engine: Engine, path: Path, actor: str) -> tuple[str, str]:
    """Give nidb a new signing key; returns (old kid, new kid). The audit entry and the file
    change go together: if the files cannot be written, the entry is rolled back."""
    old = SigningKey.load_or_create(path)
    new = SigningKey.generate()
    with engine.begin() as conn:
        write_audit(
            conn,
            actor=actor,
            action="signing_key.rotate",
            subject_type="signing_key",
            subject_id=MEMBER,
            purpose="QUANTRI",
            detail={"previous_kid": old.kid, "kid": new.kid},
        )
        rotate_key_file(path, old.kid, new, datetime.now(UTC))
    return old.kid, new.kid
