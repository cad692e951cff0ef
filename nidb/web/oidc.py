"""nidb as an OpenID Connect relying party of VNeID: authorization code flow with PKCE.

nidb sends the browser to VNeID with a fresh ``state`` (bound to the browser), ``nonce`` and
S256 PKCE challenge; on return it exchanges the code at the token endpoint (client secret,
verifier) and accepts the id_token only if: the algorithm is EdDSA or RS256 (never ``none``),
the signature verifies with a key of the issuer's JWKS, ``iss`` is the configured issuer,
``aud`` is nidb's client id, it has not expired (60 s leeway), was not issued in the future,
``nonce`` is ours, and the personal ID claim is a valid 12-digit personal ID.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from nidb.domain.errors import DomainError
from nidb.domain.identifiers import PersonalId

LEEWAY = 60
ALGORITHMS = ("EdDSA", "RS256")
CACHE_SECONDS = 300.0


class OidcError(Exception):
    """Sign-in through VNeID failed; ``message_vi`` is what the citizen sees."""

    def __init__(self, reason: str, message_vi: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_vi = message_vi or (
            "Không xác thực được danh tính qua VNeID. Vui lòng đăng nhập lại."
        )


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise OidcError("malformed base64url") from None


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@dataclass(frozen=True)
class VerifiedIdentity:
    """What nidb takes from a verified id_token."""

    personal_id: str
    full_name: str
    birthdate: str
    gender: str
    subject: str


def _verify_signature(
    jwk: dict[str, Any], alg: str, signing_input: bytes, signature: bytes
) -> None:
    try:
        if alg == "EdDSA":
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                raise OidcError("key type does not match EdDSA")
            Ed25519PublicKey.from_public_bytes(_b64url_decode(jwk["x"])).verify(
                signature, signing_input
            )
        elif alg == "RS256":
            if jwk.get("kty") != "RSA":
                raise OidcError("key type does not match RS256")
            numbers = rsa.RSAPublicNumbers(
                int.from_bytes(_b64url_decode(jwk["e"]), "big"),
                int.from_bytes(_b64url_decode(jwk["n"]), "big"),
            )
            numbers.public_key().verify(
                signature, signing_input, padding.PKCS1v15(), hashes.SHA256()
            )
        else:
            raise OidcError(f"algorithm {alg} refused")
    except InvalidSignature:
        raise OidcError("bad signature") from None
    except (KeyError, ValueError):
        raise OidcError("unusable key") from None


def verify_id_token(
    token: str,
    *,
    jwks: dict[str, Any],
    issuer: str,
    client_id: str,
    nonce: str,
    now: float | None = None,
) -> VerifiedIdentity:
    """Check ``token`` as described in the module docstring; raise OidcError otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise OidcError("not a compact JWS")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise OidcError("malformed JSON in token") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise OidcError("malformed token")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise OidcError(f"algorithm {alg!r} refused")
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict)]
    kid = header.get("kid")
    candidates = [k for k in keys if kid is None or k.get("kid") == kid]
    if not candidates:
        raise OidcError("unknown key id")
    _verify_signature(
        candidates[0], alg, f"{parts[0]}.{parts[1]}".encode(), _b64url_decode(parts[2])
    )
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise OidcError("wrong issuer")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences or (
        isinstance(aud, list) and claims.get("azp") not in (None, client_id)
    ):
        raise OidcError("wrong audience")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or now > exp + LEEWAY:
        raise OidcError("token expired")
    if not isinstance(iat, int | float) or iat > now + LEEWAY:
        raise OidcError("token issued in the future")
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(
        claims["nonce"], nonce
    ):
        raise OidcError("nonce mismatch")
    try:
        personal_id = str(PersonalId.parse(str(claims.get("personal_id", ""))))
    except DomainError:
        raise OidcError("personal_id claim is not a valid personal ID") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise OidcError("no subject")
    return VerifiedIdentity(
        personal_id,
        str(claims.get("name", ""))[:200],
        str(claims.get("birthdate", ""))[:10],
        str(claims.get("gender", ""))[:10],
        sub,
    )


class VneidClient:
    """Talks to one VNeID issuer (discovery, JWKS and token endpoint, cached 5 minutes)."""

    def __init__(
        self, issuer: str, client_id: str, client_secret: str, timeout: float = 5.0
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._http = httpx.Client(timeout=timeout)
        self._lock = threading.Lock()
        self._discovery: tuple[float, dict[str, Any]] | None = None
        self._jwks: tuple[float, dict[str, Any]] | None = None

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = self._http.get(url)
            answer.raise_for_status()
            data = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OidcError(
                f"VNeID unreachable: {error.__class__.__name__}",
                "Hệ thống VNeID tạm thời không phản hồi. Vui lòng thử lại sau ít phút.",
            ) from None
        if not isinstance(data, dict):
            raise OidcError("VNeID answered something other than a JSON object")
        return data

    def discovery(self) -> dict[str, Any]:
        """The issuer's metadata; its ``issuer`` must be the configured one."""
        with self._lock:
            cached = self._discovery
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        data = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        if data.get("issuer") != self.issuer:
            raise OidcError("discovery names another issuer")
        with self._lock:
            self._discovery = (time.monotonic(), data)
        return data

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        """The issuer's public keys (refetched when asked, e.g. after a key rotation)."""
        with self._lock:
            cached = self._jwks
        if cached and not refresh and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        data = self._get_json(str(self.discovery()["jwks_uri"]))
        with self._lock:
            self._jwks = (time.monotonic(), data)
        return data

    def authorization_url(
        self, *, state: str, nonce: str, challenge: str, redirect_uri: str
    ) -> str:
        """Where to send the browser to sign in."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.discovery()['authorization_endpoint']}?{query}"

    def redeem(
        self, *, code: str, verifier: str, redirect_uri: str, nonce: str
    ) -> VerifiedIdentity:
        """Exchange ``code`` for tokens and verify the id_token."""
        try:
            answer = self._http.post(
                str(self.discovery()["token_endpoint"]),
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
                auth=(self.client_id, self._secret),
            )
        except httpx.HTTPError as error:
            raise OidcError(
                f"token endpoint unreachable: {error.__class__.__name__}",
                "Hệ thống VNeID tạm thời không phản hồi. Vui lòng thử lại sau ít phút.",
            ) from None
        if answer.status_code != 200:
            raise OidcError(f"token endpoint refused: {answer.text[:200]}")
        try:
            token = answer.json()["id_token"]
        except (ValueError, KeyError, TypeError):
            raise OidcError("token answer without id_token") from None
        try:
            return self._verify(token, nonce, self.jwks())
        except OidcError as error:
            if error.reason != "unknown key id":
                raise
            return self._verify(token, nonce, self.jwks(refresh=True))

    def _verify(self, token: str, nonce: str, jwks: dict[str, Any]) -> VerifiedIdentity:
        return verify_id_token(
            str(token), jwks=jwks, issuer=self.issuer, client_id=self.client_id, nonce=nonce
        )
