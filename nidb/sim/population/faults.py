"""Fault injection: make the stand-in as unreliable as a real partner system can be.

A seeded random generator decides, request by request, whether to answer 503 or to stall, so
a test that sends the same requests in the same order meets the same faults. Faults apply to
the service endpoints under /v1/, never to /healthz or the admin endpoints.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import asdict, dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["FaultConfig", "FaultInjector", "FaultMiddleware"]


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """How unreliable the service is.

    `error_rate`: share of requests answered 503; `timeout_rate`: share that stall for
    `timeout_seconds` before being answered normally (a client with a shorter read timeout
    sees a timeout); `latency_ms`: added to every request; `seed`: makes the draws repeatable.
    """

    error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    latency_ms: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "timeout_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1, not {getattr(self, name)}")
        for name in ("timeout_seconds", "latency_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, not {getattr(self, name)}")

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain values (the admin endpoint's answer)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Draw:
    fail: bool
    delay: float  # seconds


class FaultInjector:
    """Holds the fault settings in force and draws each request's fate from them."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        """The settings in force."""
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Put new settings in force, restart the random sequence and the counters."""
        self._config = config
        self._random = random.Random(config.seed)
        self.requests = 0
        self.errors = 0
        self.stalls = 0

    def counts(self) -> dict[str, int]:
        """Requests seen and faults injected since the settings were put in force."""
        return {"requests": self.requests, "errors": self.errors, "timeouts": self.stalls}

    def draw(self) -> _Draw:
        """Decide one request's fate; always two draws, so rates do not shift the sequence."""
        config = self._config
        fail = self._random.random() < config.error_rate
        stall = self._random.random() < config.timeout_rate and not fail
        self.requests += 1
        self.errors += fail
        self.stalls += stall
        delay = config.latency_ms / 1000
        if stall:
            delay += config.timeout_seconds
        return _Draw(fail, delay)


def _faulty(path: str) -> bool:
    return path.startswith("/v1/") and not path.startswith("/v1/admin")


_UNAVAILABLE = json.dumps(
    {
        "code": "SERVICE_UNAVAILABLE",
        "message": "Hệ thống tạm thời không phục vụ được, vui lòng thử lại "
        "(service temporarily unavailable, please retry)",
    },
    ensure_ascii=False,
).encode()


class FaultMiddleware:
    """ASGI middleware applying a FaultInjector's decisions before the app sees a request."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _faulty(scope["path"]):
            await self.app(scope, receive, send)
            return
        draw = self.injector.draw()
        if draw.delay:
            await asyncio.sleep(draw.delay)
        if not draw.fail:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_UNAVAILABLE)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _UNAVAILABLE})
