"""HTTP clients of the national platforms: the public service portal (DVCQG), the data-sharing
platform (NDXP), the service-measurement system (EMC) and the open-data portal (CKAN API).

One small client each, over one `PlatformClient` that retries what may succeed on a second try
(a connection that failed, a timeout, 429, 5xx) with the population connector's backoff
(`RetryPolicy`) and turns everything else into `PlatformRefused`, naming the platform, the call,
the answer's code and message. The stand-ins under ``nidb/sim/platforms`` answer these calls.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import httpx

from nidb.connectors.resilience import RetryPolicy

__all__ = [
    "CkanClient",
    "EmcClient",
    "NdxpClient",
    "PlatformClient",
    "PlatformError",
    "PlatformRefused",
    "PlatformUnavailable",
    "PortalClient",
]

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


class PlatformError(Exception):
    """A platform call that did not succeed, with a Vietnamese and an English message."""

    def __init__(self, platform: str, call: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{platform} {call}: {message_en}")
        self.platform, self.call = platform, call
        self.message_vi, self.message_en = message_vi, message_en


class PlatformUnavailable(PlatformError):
    """No answer, or only answers worth retrying, after every retry."""


class PlatformRefused(PlatformError):
    """The platform answered and refused (4xx other than 408/425/429): retrying will not help."""

    def __init__(self, platform: str, call: str, status: int, code: str, message: str) -> None:
        super().__init__(
            platform,
            call,
            f"{platform} từ chối ({status} {code}): {message}",
            f"{platform} refused ({status} {code}): {message}",
        )
        self.status, self.code = status, code


def _code_and_message(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "HTTP_" + str(response.status_code), response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):  # CKAN
        body = body["error"]
    if isinstance(body, dict):
        return str(body.get("code", f"HTTP_{response.status_code}")), str(body.get("message", ""))
    return f"HTTP_{response.status_code}", str(body)[:200]


class PlatformClient:
    """Calls one platform at ``base_url``, sending ``headers`` (its API key) with each call."""

    platform = "platform"

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
        seed: int | None = None,
    ) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=dict(headers or {}), timeout=timeout
        )
        self.retry = retry or RetryPolicy(retries=4, backoff=0.2, max_backoff=5.0)
        self.rng = random.Random(seed)
        self.attempts = 0
        """Calls made, retries included (for tests and the commands' summaries)."""

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a successful call; PlatformRefused or PlatformUnavailable."""
        call = f"{method} {path}"
        last = ""
        for attempt in range(self.retry.retries + 1):
            if attempt:
                time.sleep(self.retry.delay(attempt - 1, self.rng))
            self.attempts += 1
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.HTTPError as error:
                last = type(error).__name__
                continue
            if response.status_code in RETRYABLE:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                code, message = _code_and_message(response)
                raise PlatformRefused(self.platform, call, response.status_code, code, message)
            try:
                return response.json()
            except ValueError:
                raise self.bad_answer(call, "không phải JSON", "not JSON") from None
        raise PlatformUnavailable(
            self.platform,
            call,
            f"{self.platform} không phản hồi sau {self.retry.retries + 1} lần gọi ({last})",
            f"{self.platform} did not answer after {self.retry.retries + 1} calls ({last})",
        )

    def bad_answer(self, call: str, vi: str, en: str) -> PlatformRefused:
        """A successful status whose body is not what the platform's contract says."""
        return PlatformRefused(
            self.platform, call, 200, "BAD_ANSWER", f"câu trả lời {vi} (the answer is {en})"
        )

    def field(self, answer: Any, call: str, name: str, kind: type | tuple[type, ...]) -> Any:
        """``answer[name]``, checked to be a ``kind``; PlatformRefused BAD_ANSWER if not."""
        value = answer.get(name) if isinstance(answer, dict) else None
        if not isinstance(value, kind):
            raise self.bad_answer(
                call, f"thiếu trường {name} hợp lệ", f"without a valid {name!r} field"
            )
        return value


class PortalClient(PlatformClient):
    """The National Public Service Portal, as the agency (VSS) sees it."""

    platform = "Cổng DVCQG"

    def __init__(self, base_url: str, api_key: str, **kwargs: Any) -> None:
        super().__init__(base_url, {"x-api-key": api_key}, **kwargs)

    def waiting(self, limit: int = 100) -> list[dict[str, Any]]:
        """Dossiers submitted at the portal and not yet acknowledged by the agency."""
        found = self.request("GET", "/v1/agency/dossiers", params={"limit": limit})
        return list(self.field(found, "GET /v1/agency/dossiers", "dossiers", list))

    def report(
        self, code: str, status: str, *, agency_ref: str | None, note: str | None, at: str
    ) -> dict[str, Any]:
        """Report a dossier's status change (a repeat of the last one is a no-op there)."""
        body = {"status": status, "agency_ref": agency_ref, "note": note, "at": at}
        answer = self.request("POST", f"/v1/agency/dossiers/{code}/status", json=body)
        self.field(answer, f"POST /v1/agency/dossiers/{code}/status", "status", str)
        return dict(answer)


class NdxpClient(PlatformClient):
    """The national data-sharing platform, as a provider listing its services."""

    platform = "NDXP"

    def __init__(self, base_url: str, api_key: str, **kwargs: Any) -> None:
        super().__init__(base_url, {"x-api-key": api_key}, **kwargs)

    def list_services(self, provider: str, listing: dict[str, Any]) -> dict[str, Any]:
        call = f"PUT /v1/catalogue/{provider}"
        answer = self.request("PUT", f"/v1/catalogue/{provider}", json=listing)
        self.field(answer, call, "services", list)
        return dict(answer)


class EmcClient(PlatformClient):
    """The service-measurement system, as an agency sending usage events."""

    platform = "EMC"

    def __init__(self, base_url: str, api_key: str, **kwargs: Any) -> None:
        super().__init__(base_url, {"x-api-key": api_key}, **kwargs)

    def send(self, batch_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        answer = self.request("POST", "/v1/batches", json={"batch_id": batch_id, "events": events})
        self.field(answer, "POST /v1/batches", "status", str)
        return dict(answer)


class CkanClient(PlatformClient):
    """A CKAN action API (the national open-data portal)."""

    platform = "Cổng dữ liệu quốc gia"

    def __init__(self, base_url: str, api_key: str, **kwargs: Any) -> None:
        super().__init__(base_url, {"authorization": api_key}, **kwargs)

    def action(self, name: str, **kwargs: Any) -> Any:
        answer = self.request(
            "GET" if name.endswith(("_show", "_list")) else "POST",
            f"/api/3/action/{name}",
            **kwargs,
        )
        if not isinstance(answer, dict) or answer.get("success") is not True:
            raise self.bad_answer(name, "không báo thành công", "not a CKAN success")
        return self.field(answer, name, "result", (dict, list))

    def find(self, name: str) -> dict[str, Any] | None:
        """The dataset named ``name``, or None."""
        try:
            found: dict[str, Any] = self.action("package_show", params={"id": name})
        except PlatformRefused as refused:
            if refused.status == 404:
                return None
            raise
        return found

    def upload(
        self, action: str, path: Path, fields: dict[str, str], media_type: str
    ) -> dict[str, Any]:
        """``resource_create`` or ``resource_update`` with the file's bytes."""
        with path.open("rb") as handle:
            content = handle.read()
        result: dict[str, Any] = self.action(
            action, data=fields, files={"upload": (path.name, content, media_type)}
        )
        return result
