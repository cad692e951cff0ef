"""Compact JWS (RFC 7515) signed with Ed25519 (``alg: EdDSA``, RFC 8037) and its JWK."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class IssuerKey:
    """The stand-in's signing key; its ``kid`` is a thumbprint of the public key."""

    def __init__(self, private: Ed25519PrivateKey | None = None) -> None:
        self._private = private or Ed25519PrivateKey.generate()
        self.public_raw = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.kid = b64url(hashlib.sha256(self.public_raw).digest())[:16]

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (OKP / Ed25519)."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.public_raw),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        }

    def sign(self, claims: dict[str, Any]) -> str:
        """``claims`` as a compact JWS."""
        header = {"alg": "EdDSA", "typ": "JWT", "kid": self.kid}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
        )
        return signing_input + "." + b64url(self._private.sign(signing_input.encode()))


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())
