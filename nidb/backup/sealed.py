"""Encryption at rest of a backup's data file: AES-256-GCM in chunks (mã hoá bản sao lưu).

A sealed file is a header and a sequence of chunks, so a database of any size is encrypted and
decrypted with flat memory:

    header  = MAGIC (8 bytes) | salt (16) | nonce prefix (7)
    chunk   = length of the ciphertext (4, big-endian) | AES-256-GCM ciphertext and tag

Each file has its own key, derived from the backup key with HKDF-SHA256 over the file's random
salt, so a nonce is never used twice under one key. A chunk's nonce is the prefix, the chunk's
number (4 bytes) and a last-chunk flag (1 byte), the STREAM construction: chunks reordered,
dropped, duplicated or cut off at the end fail authentication, as does any edited byte. The
header is each chunk's associated data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "CHUNK_BYTES",
    "BackupKey",
    "SealBroken",
    "open_sealed",
    "seal",
]

MAGIC = b"NIDBBK1\n"
CHUNK_BYTES = 1 << 20
_SALT = 16
_PREFIX = 7
_TAG = 16
_HEADER = len(MAGIC) + _SALT + _PREFIX
_LENGTH = struct.Struct(">I")
_MAX_CHUNK = 64 << 20


class Readable(Protocol):
    """What `seal` reads from: a file, a pipe."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """What `seal` and `open_sealed` write to: a file, or something hashing on its way there."""

    def write(self, data: bytes, /) -> int: ...


class SealBroken(Exception):
    """The sealed file is not what was sealed with this key (wrong key, edited or cut short)."""


class BackupKey:
    """The backup key (khoá sao lưu): 32 random bytes, given as base64 (``NIDB_BACKUP_KEY``)."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError(f"the key must be 32 bytes, got {len(raw)}")
        self._raw = raw

    @classmethod
    def from_b64(cls, text: str) -> BackupKey:
        """Read a base64 key; raises ValueError saying what is wrong (never echoing the key)."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the key is not valid base64") from None
        return cls(raw)

    @classmethod
    def generate(cls) -> BackupKey:
        """A fresh random key."""
        return cls(os.urandom(32))

    @property
    def b64(self) -> str:
        """The key as base64, as ``NIDB_BACKUP_KEY`` holds it."""
        return base64.b64encode(self._raw).decode()

    def derive(self, salt: bytes, purpose: bytes) -> bytes:
        """A 32-byte key for one ``purpose`` (and one file, by its ``salt``)."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"nidb-backup/" + purpose)
        return hkdf.derive(self._raw)

    @property
    def fingerprint(self) -> str:
        """16 hex digits naming the key (in the manifest: a wrong key is told apart at once)."""
        return self.derive(b"", b"fingerprint")[:8].hex()

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` under a key derived for manifests (hex)."""
        return hmac.new(self.derive(b"", b"manifest"), data, hashlib.sha256).hexdigest()


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def _read_full(source: Readable, size: int) -> bytes:
    """``size`` bytes, fewer only at the end (a pipe answers a read with what it has)."""
    parts, wanted = [], size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _chunks(source: Readable, size: int) -> Iterator[tuple[bytes, bool]]:
    """Each chunk of ``source`` with whether it is the last (an empty source is one empty chunk)."""
    current = _read_full(source, size)
    while True:
        following = _read_full(source, size) if len(current) == size else b""
        yield current, not following
        if not following:
            return
        current = following


def seal(
    key: BackupKey,
    source: Readable,
    target: Writable,
    progress: Callable[[int], None] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> int:
    """Encrypt ``source`` (read to its end) into ``target``; returns the plaintext bytes."""
    if not 0 < chunk_bytes <= _MAX_CHUNK:
        raise ValueError(f"chunk_bytes must be 1..{_MAX_CHUNK}")
    salt, prefix = os.urandom(_SALT), os.urandom(_PREFIX)
    header = MAGIC + salt + prefix
    cipher = AESGCM(key.derive(salt, b"data"))
    target.write(header)
    done = 0
    for counter, (plain, last) in enumerate(_chunks(source, chunk_bytes)):
        if counter >= 1 << 32:
            raise ValueError("too many chunks for one sealed file")
        sealed = cipher.encrypt(_nonce(prefix, counter, last), plain, header)
        target.write(_LENGTH.pack(len(sealed)) + sealed)
        done += len(plain)
        if progress is not None:
            progress(done)
    return done


def _read_exact(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise SealBroken("the file ends in the middle of a chunk (cut short)")
    return data


def open_sealed(
    key: BackupKey,
    source: BinaryIO,
    target: Writable,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Decrypt ``source`` into ``target``; returns the plaintext bytes.

    Raises SealBroken on a wrong key or any change to the file. Chunks are authenticated before
    they are written, but a failure can come after some were: write ``target`` to a temporary
    place and keep it only when this returns.
    """
    header = source.read(_HEADER)
    if len(header) != _HEADER or not header.startswith(MAGIC):
        raise SealBroken("not a sealed nidb backup file (bad header)")
    salt = header[len(MAGIC) : len(MAGIC) + _SALT]
    prefix = header[len(MAGIC) + _SALT :]
    cipher = AESGCM(key.derive(salt, b"data"))
    done = 0
    counter = 0
    while True:
        length_bytes = source.read(_LENGTH.size)
        if not length_bytes:
            raise SealBroken("the last chunk is missing (cut short)")
        if len(length_bytes) != _LENGTH.size:
            raise SealBroken("the file ends in the middle of a chunk (cut short)")
        (length,) = _LENGTH.unpack(length_bytes)
        if length < _TAG or length > _MAX_CHUNK + _TAG:
            raise SealBroken(f"chunk {counter} has an impossible length")
        sealed = _read_exact(source, length)
        # the last chunk is the one followed by nothing; a file cut at a chunk boundary fails
        # because its new last chunk was sealed with the flag off
        last = _at_end(source)
        try:
            plain = cipher.decrypt(_nonce(prefix, counter, last), sealed, header)
        except InvalidTag:
            raise SealBroken(
                f"chunk {counter} fails authentication (wrong key, or the file was changed)"
            ) from None
        target.write(plain)
        done += len(plain)
        if progress is not None:
            progress(done)
        if last:
            return done
        counter += 1


def _at_end(source: BinaryIO) -> bool:
    """Whether a seekable ``source`` has nothing left to read."""
    here = source.tell()
    end = source.seek(0, os.SEEK_END)
    source.seek(here)
    return here == end
