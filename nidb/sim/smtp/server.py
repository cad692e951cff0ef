"""The SMTP stand-in: an aiosmtpd server that keeps every message it receives, and a small HTTP
server listing them as JSON (``GET /messages``; ``DELETE /messages`` empties the box), for the
tests and the demo. Messages are also written as ``.eml`` files when a folder is given.

Nothing is relayed anywhere: this is the mail provider's side of a delivery, as nidb sees it.
"""

from __future__ import annotations

import json
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["MailBox", "SmtpStandIn"]


class MailBox:
    """The messages received, in order (thread-safe)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def add(self, sender: str, recipients: list[str], raw: bytes) -> None:
        parsed = message_from_bytes(raw, policy=policy.default)
        body_part = parsed.get_body(preferencelist=("plain",))
        body = body_part.get_content() if body_part is not None else ""
        with self._lock:
            self._messages.append(
                {
                    "id": len(self._messages) + 1,
                    "from": sender,
                    "to": recipients,
                    "subject": str(parsed.get("Subject", "")),
                    "body": body,
                }
            )
            if self.folder is not None:
                (self.folder / f"{len(self._messages):06d}.eml").write_bytes(raw)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


class _Handler:
    """aiosmtpd handler: keep every message."""

    def __init__(self, box: MailBox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.box.add(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], envelope.content)
        return "250 Message accepted for delivery"


def _http_handler(box: MailBox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, payload: object) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/messages":
                self._reply(200, box.all())
            else:
                self._reply(404, {"error": "not found"})

        def do_DELETE(self) -> None:
            if self.path.rstrip("/") == "/messages":
                box.clear()
                self._reply(200, {"cleared": True})
            else:
                self._reply(404, {"error": "not found"})

        def log_message(self, format: str, *args: Any) -> None:
            return  # no addresses in logs

    return Handler


class SmtpStandIn:
    """SMTP on ``smtp_port`` and HTTP on ``http_port`` (0: any free port), on threads."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        smtp_port: int = 8025,
        http_port: int = 8026,
        folder: Path | None = None,
    ) -> None:
        from aiosmtpd.controller import Controller

        self.box = MailBox(folder)
        if smtp_port == 0:
            import socket

            with socket.socket() as probe:
                probe.bind((host, 0))
                smtp_port = probe.getsockname()[1]
        self.controller = Controller(_Handler(self.box), hostname=host, port=smtp_port)
        self.http = ThreadingHTTPServer((host, http_port), _http_handler(self.box))
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = self.http.server_address[1]

    def start(self) -> SmtpStandIn:
        self.controller.start()
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self.http.shutdown()
        self.http.server_close()
