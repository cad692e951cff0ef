"""Ed25519 signing keys: generation, files, and the base64url forms partners exchange."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
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
