"""The two ways a notice leaves nidb: e-mail handed to an SMTP server, SMS posted to a gateway.

Every failure is classed: ``Transient`` (the server is down, busy, timed out, or answered 4xx
on SMTP / 429 or 5xx on HTTP: try again later) or ``Permanent`` (the address is refused, the
gateway refuses the number, the text or nidb's key: trying again cannot help).
"""

from __future__ import annotations

import contextlib
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import httpx

__all__ = ["Channels", "Permanent", "Transient"]

SMS_SENDER = "BHXHVN"


class Transient(Exception):
    """Try again later."""


class Permanent(Exception):
    """Trying again cannot help."""


def _smtp_error(error: smtplib.SMTPException) -> Exception:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        text = "; ".join(f"{code} {msg!r}" for code, msg in error.recipients.values())
        if all(code >= 500 for code in codes):
            return Permanent(f"SMTP refused the recipient: {text}")
        return Transient(f"SMTP deferred the recipient: {text}")
    if isinstance(error, smtplib.SMTPResponseException):
        message = f"SMTP {error.smtp_code} {error.smtp_error!r}"
        return Permanent(message) if error.smtp_code >= 500 else Transient(message)
    return Transient(f"SMTP: {error}")


@dataclass
class Channels:
    """The senders, configured; one SMTP connection kept open across a pass."""

    smtp_host: str
    smtp_port: int
    sender: str
    sms_url: str | None
    sms_api_key: str | None
    timeout: float = 15.0
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)

    @property
    def sms_ready(self) -> bool:
        return bool(self.sms_url and self.sms_api_key)

    def send_email(self, delivery_id: int, to: str, subject: str, body: str) -> str:
        """Hand one message to the SMTP server; returns its Message-ID (stable per delivery,
        so a receiver can drop the copy a crash between sending and recording may resend)."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message_id = f"<notify-{delivery_id}@{self.sender.rsplit('@', 1)[-1]}>"
        message["Message-ID"] = message_id
        message.set_content(body)
        try:
            if self._smtp is None:
                self._smtp = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout)
            self._smtp.send_message(message)
        except smtplib.SMTPException as error:
            self._drop_smtp()
            raise _smtp_error(error) from error
        except (TimeoutError, OSError) as error:
            self._drop_smtp()
            raise Transient(f"SMTP {self.smtp_host}:{self.smtp_port}: {error}") from error
        return message_id

    def send_sms(self, delivery_id: int, to: str, text: str) -> str:
        """Post one SMS to the gateway; returns the gateway's message id."""
        if not self.sms_ready:
            raise Transient("no SMS gateway configured (NIDB_SMS_URL, NIDB_SMS_API_KEY)")
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout)
        try:
            response = self._http.post(
                f"{str(self.sms_url).rstrip('/')}/v1/messages",
                json={
                    "to": to,
                    "text": text,
                    "sender": SMS_SENDER,
                    "client_ref": f"nidb-notify-{delivery_id}",
                },
                headers={"Authorization": f"Bearer {self.sms_api_key}"},
            )
        except httpx.HTTPError as error:
            raise Transient(f"SMS gateway: {type(error).__name__}: {error}") from error
        answer: Any
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        code = answer.get("code", "") if isinstance(answer, dict) else ""
        if response.status_code == 429 or response.status_code >= 500:
            raise Transient(f"SMS gateway HTTP {response.status_code} {code}".strip())
        if response.status_code >= 400:
            reason = answer.get("message_en", "") if isinstance(answer, dict) else ""
            raise Permanent(f"SMS gateway HTTP {response.status_code} {code}: {reason}".strip())
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        if not isinstance(message_id, str) or not message_id:
            raise Transient(f"SMS gateway HTTP {response.status_code} without a message id")
        return message_id

    def _drop_smtp(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None
        if self._http is not None:
            self._http.close()
            self._http = None
