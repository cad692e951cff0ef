"""Ed25519 signing keys: generation, files, and the base64url forms partners exchange."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl import bindings as sodium
from nacl.exceptions import BadSignatureError, CryptoError


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of b64url; raises ValueError on anything that is not strict base64url."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)


def thumbprint(public_raw: bytes) -> str:
    """The key id (``kid``): base64url of the SHA-256 of the raw public key, 43 characters."""
    return b64url(hashlib.sha256(public_raw).digest())


@dataclass(frozen=True)
class SigningKey:
    """A private key with its key id, able to sign."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @cached_property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_b64(self) -> str:
        """The public key as partners register it (base64url of 32 bytes)."""
        return b64url(self.public_raw)

    @cached_property
    def kid(self) -> str:
        return thumbprint(self.public_raw)

    @cached_property
    def protected_header(self) -> str:
        """The JWS protected header this key signs with, base64url (the same every time)."""
        return b64url(b'{"alg":"EdDSA","kid":"' + self.kid.encode("ascii") + b'"}')

    @cached_property
    def _sodium_secret(self) -> bytes:
        seed = self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return sodium.crypto_sign_seed_keypair(seed)[1]

    def sign(self, data: bytes) -> bytes:
        # libsodium signs in ~60% of OpenSSL's time; the signature is the same (Ed25519 is
        # deterministic), and the key files stay PKCS#8 PEM through `cryptography`
        return sodium.crypto_sign(data, self._sodium_secret)[:64]

    def to_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return cls(key)

    def save(self, path: Path) -> None:
        """Write the key readable by its owner only (created atomically with mode 0600)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(self.to_pem())

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """The key in ``path``, generated there on first use."""
        if path.exists():
            return cls.from_pem(path.read_bytes())
        key = cls.generate()
        try:
            key.save(path)
        except FileExistsError:  # another process created it first
            return cls.from_pem(path.read_bytes())
        return key


@dataclass(frozen=True)
class VerifyKey:
    """A partner's public key."""

    public: Ed25519PublicKey
    kid: str

    @classmethod
    def from_b64(cls, text: str) -> VerifyKey:
        """Read a registered public key; raises ValueError if it is not 32 base64url bytes."""
        raw = b64url_decode(text)
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key has 32 bytes")
        return cls(Ed25519PublicKey.from_public_bytes(raw), thumbprint(raw))

    @cached_property
    def raw(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """RFC 8032 Ed25519 verification by libsodium (half OpenSSL's time on the hot path; it
        also refuses non-canonical and small-order encodings, as OpenSSL refuses the former)."""
        if len(signature) != 64:
            return False
        try:
            sodium.crypto_sign_open(signature + data, self.raw)
        except (BadSignatureError, CryptoError, ValueError):
            return False
        return True


# --- rotation of nidb's own key -----------------------------------------------------------------


@dataclass(frozen=True)
class RetiredKey:
    """A public key nidb signed with before its last rotation(s), and when it stopped."""

    kid: str
    public_b64: str
    retired_at: datetime

    def published(self, now: datetime, grace: timedelta) -> bool:
        return now - self.retired_at <= grace


class KeyChanged(RuntimeError):
    """The key file is not the key the caller read: another rotation ran in between."""


def previous_dir(path: Path) -> Path:
    """Where the public halves of the keys ``path`` held before live: ``keys/previous/``."""
    return path.parent / "previous"


def load_previous(path: Path) -> list[RetiredKey]:
    """The keys ``path`` held before, newest retirement first; raises ValueError naming the
    file if one is not what `rotate_key_file` wrote."""
    found = []
    folder = previous_dir(path)
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(file.read_text("utf-8"))
            key = VerifyKey.from_b64(record["public_key"])
            retired_at = datetime.fromisoformat(record["retired_at"])
            if retired_at.tzinfo is None or record.get("kid") != key.kid:
                raise ValueError("kid or retired_at")
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{file}: not a retired key record ({error})") from None
        found.append(RetiredKey(key.kid, record["public_key"], retired_at))
    return sorted(found, key=lambda k: k.retired_at, reverse=True)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """``data`` in ``path`` whole or not at all: a private temporary file, synced, renamed."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def rotate_key_file(path: Path, expected_kid: str, new: SigningKey, now: datetime) -> None:
    """Replace the key in ``path`` (which must still be ``expected_kid``) by ``new``, keeping
    the old public key in ``previous/``. The old public key is written first, so a crash
    between the two steps leaves the old key in use and merely listed twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".rotate.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # one rotation at a time
        old = SigningKey.from_pem(path.read_bytes())
        if old.kid != expected_kid:
            raise KeyChanged(f"{path} holds {old.kid}, not {expected_kid}")
        folder = previous_dir(path)
        folder.mkdir(exist_ok=True)
        record = {"kid": old.kid, "public_key": old.public_b64, "retired_at": now.isoformat()}
        _write_atomically(folder / f"{old.kid}.json", json.dumps(record).encode("utf-8"), 0o644)
        _write_atomically(path, new.to_pem(), 0o600)


# --- a running server's view of the key file --------------------------------------------------

log = logging.getLogger("nidb.keys")


class KeyFile:
    """nidb's signing key as its file holds it now, for processes that run for long.

    ``current`` is a plain attribute (readers pay one attribute read, nothing per request).
    `refresh` costs two ``stat`` calls unless the key file or ``previous/`` changed since the
    last look, and then reads them again; the caller decides how often (a server: once a
    second, and whenever it publishes its keys). A file that cannot be read leaves the key
    loaded before in use and the problem in ``problem``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp = self._look()  # before reading: a change in between is seen next time
        self.current = SigningKey.load_or_create(path)
        self.retired: tuple[RetiredKey, ...] = tuple(load_previous(path))
        self.problem: str | None = None

    def _look(self) -> tuple[object, ...]:
        """What changes when the files change: inode, modification time and size."""
        stamp: list[object] = []
        for file in (self.path, previous_dir(self.path)):
            try:
                info = os.stat(file)
            except OSError:  # absent (no rotation yet) or unreadable: read it to find out
                stamp.append(None)
                continue
            stamp.append((info.st_ino, info.st_mtime_ns, info.st_size))
        return tuple(stamp)

    def snapshot(self) -> tuple[SigningKey, tuple[RetiredKey, ...]]:
        """The current key and the retired ones, as read together (never half a rotation)."""
        with self._lock:
            return self.current, self.retired

    def refresh(self) -> bool:
        """Read the files again if they changed; True if the signing key is another one now."""
        with self._lock:
            stamp = self._look()
            if stamp == self._stamp:
                return False
            self._stamp = stamp
            try:
                key = SigningKey.from_pem(self.path.read_bytes())
                retired = tuple(load_previous(self.path))
            except (OSError, ValueError) as error:
                self.problem = f"{type(error).__name__}: {error}"
                log.error(
                    "signing key file unreadable, still signing with %s: %s",
                    self.current.kid,
                    self.problem,
                )
                return False
            self.problem = None
            changed = key.kid != self.current.kid
            if changed:
                log.info("signing key %s replaces %s", key.kid, self.current.kid)
                self.current = key
            self.retired = retired
            return changed
