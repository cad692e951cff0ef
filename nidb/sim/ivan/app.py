"""An I-VAN provider (nhà cung cấp dịch vụ I-VAN) as a real HTTP service.

In Vietnam most employers declare through an I-VAN provider that keeps their digital
certificate and signs for them. This stand-in does the same with Ed25519 keys: the provider's
admin creates an employer's key (``POST /v1/admin/employers``) and gives nidb's staff the public
key to enrol (``nidb employer enrol CODE --public-key …``); the employer's software then sends
plain declarations with its bearer token (``POST /v1/declarations``), and the stand-in signs
them as ``VN/DN/<code>/KBDT`` with the partner protocol's envelope and forwards them to nidb,
checking nidb's signed reply. It speaks only ``nidb.protocol``; keys live in memory, or as PEM
files under ``--keys-dir`` when given (mode 0600), so they survive a restart.

Admin endpoints for tests and demos: ``POST /v1/admin/employers/{code}/rotate`` (a new key,
not yet enrolled at nidb: nidb refuses it), ``POST /v1/admin/resend-last`` (send the last
signed envelope again, byte for byte: nidb refuses the replay).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from nidb.protocol.client import ExchangeClient, ReplyNotTrusted
from nidb.protocol.employers import (
    DECLARATION_PATH,
    DECLARATION_SERVICE,
    EMPLOYER_PURPOSE,
    STATUS_PATH,
    STATUS_SERVICE,
    employer_member,
)
from nidb.protocol.keys import SigningKey

__all__ = ["create_app", "serve"]

Authorization = Annotated[str | None, Header()]
_PATHS = {DECLARATION_SERVICE: DECLARATION_PATH, STATUS_SERVICE: STATUS_PATH}


class NewEmployer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    employer_code: str = Field(pattern=r"^[A-Za-z0-9-]{1,20}$")


@dataclass
class _Customer:
    code: str
    key: SigningKey
    token: str


class Provider:
    """The provider's customers (employers), their keys and tokens, and the link to nidb."""

    def __init__(self, nidb_url: str, keys_dir: Path | None = None) -> None:
        self.http = httpx.Client(base_url=nidb_url, timeout=30.0)
        self.keys_dir = keys_dir
        self.customers: dict[str, _Customer] = {}
        self.by_token: dict[str, str] = {}
        self.last: tuple[str, bytes] | None = None
        self.lock = threading.Lock()

    def _key_path(self, code: str, generation: int) -> Path | None:
        return self.keys_dir / f"{code}.{generation}.pem" if self.keys_dir else None

    def add(self, code: str, rotate: bool = False) -> _Customer:
        with self.lock:
            customer = self.customers.get(code)
            if customer and not rotate:
                return customer
            key = SigningKey.generate()
            if self.keys_dir is not None:
                generation = len(list(self.keys_dir.glob(f"{code}.*.pem")))
                path = self._key_path(code, generation)
                assert path is not None
                key.save(path)
            token = customer.token if customer else secrets.token_urlsafe(24)
            customer = _Customer(code, key, token)
            self.customers[code] = customer
            self.by_token[token] = code
            return customer

    def customer(self, authorization: str | None) -> _Customer:
        token = (authorization or "").removeprefix("Bearer ").strip()
        code = self.by_token.get(token)
        if code is None:
            raise HTTPException(
                401,
                {
                    "code": "TOKEN_UNKNOWN",
                    "message_vi": "Mã truy cập không hợp lệ",
                    "message_en": "unknown access token",
                },
            )
        return self.customers[code]

    def forward(self, customer: _Customer, service: str, body: dict[str, Any]) -> dict[str, Any]:
        client = ExchangeClient("", employer_member(customer.code), customer.key, http=self.http)
        envelope = client.envelope(service, EMPLOYER_PURPOSE, body)
        content = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        with self.lock:
            self.last = (service, content)
        return self._send(client, service, content, envelope["header"]["message_id"])

    def resend_last(self) -> dict[str, Any]:
        if self.last is None:
            raise HTTPException(404, "nothing sent yet")
        service, content = self.last
        message = json.loads(content)
        code = message["header"]["sender"].split("/")[2]
        customer = self.customers[code]
        client = ExchangeClient("", employer_member(code), customer.key, http=self.http)
        return self._send(client, service, content, message["header"]["message_id"])

    def _send(
        self, client: ExchangeClient, service: str, content: bytes, message_id: str
    ) -> dict[str, Any]:
        try:
            response = self.http.post(
                _PATHS[service], content=content, headers={"content-type": "application/json"}
            )
            reply = client.check(response.status_code, response.json())
        except (httpx.HTTPError, ValueError) as error:
            raise HTTPException(502, f"nidb unreachable or unreadable: {error}") from None
        except ReplyNotTrusted as error:
            raise HTTPException(502, f"nidb's reply does not verify: {error}") from None
        return {"message_id": message_id, "nidb_status": reply.status, "reply": reply.body}


def create_app(nidb_url: str, keys_dir: Path | None = None) -> FastAPI:
    """The stand-in forwarding to nidb at ``nidb_url``."""
    provider = Provider(nidb_url, keys_dir)
    app = FastAPI(title="I-VAN (giả lập)", summary="Ký và chuyển hồ sơ khai báo của đơn vị")
    app.state.provider = provider

    @app.post("/v1/admin/employers", summary="Tạo khoá ký cho một đơn vị khách hàng")
    def add_employer(new: NewEmployer) -> dict[str, str]:
        customer = provider.add(new.employer_code)
        return {
            "employer_code": customer.code,
            "public_key": customer.key.public_b64,
            "kid": customer.key.kid,
            "token": customer.token,
        }

    @app.post("/v1/admin/employers/{code}/rotate", summary="Đổi khoá ký (chưa đăng ký ở nidb)")
    def rotate(code: str) -> dict[str, str]:
        if code not in provider.customers:
            raise HTTPException(404, "unknown employer")
        customer = provider.add(code, rotate=True)
        return {
            "employer_code": code,
            "public_key": customer.key.public_b64,
            "kid": customer.key.kid,
        }

    @app.post("/v1/admin/resend-last", summary="Gửi lại nguyên văn thông điệp cuối (thử phát lại)")
    def resend_last() -> dict[str, Any]:
        return provider.resend_last()

    @app.post("/v1/declarations", summary="Ký và gửi một hồ sơ khai báo tới nidb")
    def declare(body: dict[str, Any], authorization: Authorization = None) -> dict[str, Any]:
        return provider.forward(provider.customer(authorization), DECLARATION_SERVICE, body)

    @app.post("/v1/status", summary="Tra cứu trạng thái hồ sơ ở nidb")
    def status(body: dict[str, Any], authorization: Authorization = None) -> dict[str, Any]:
        return provider.forward(provider.customer(authorization), STATUS_SERVICE, body)

    return app


def serve(host: str, port: int, nidb_url: str, keys_dir: Path | None = None) -> None:
    """Run the stand-in under uvicorn until stopped."""
    import uvicorn

    uvicorn.run(create_app(nidb_url, keys_dir), host=host, port=port, log_level="info")
