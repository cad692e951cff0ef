"""The gate every partner message passes before a service runs (X-Road's security server role).

Order of checks: shape → receiver and service → known sender → signature with one of the
sender's keys → sender not suspended → clock window → rate limit (``ratelimit``) → grant for the service and
purpose in force today → message not seen before by this process. The access log's unique
``message_id`` then catches a replay that another process saw first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from nidb.exchange.catalogue import Service
from nidb.exchange.partners import Directory, PartnerInfo
from nidb.exchange.ratelimit import Limiter, RateLimiter
from nidb.protocol.envelope import (
    NIDB_MEMBER,
    ClockWindow,
    Envelope,
    Header,
    parse_envelope,
    parse_header,
    split_signature,
    verify_signature,
)
from nidb.protocol.errors import RefusalCode, Refused

BUSINESS_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True, slots=True)
class Admission:
    """A message that passed the gate, with the groups its answer may include."""

    partner: PartnerInfo
    envelope: Envelope
    grant_id: int
    groups: tuple[str, ...]

    @property
    def header(self) -> Header:
        return self.envelope.header

    @property
    def today(self) -> date:
        return datetime.now(BUSINESS_TZ).date()


class GateRefusal(Refused):
    """A refusal with what the gate knew of the message when it refused it."""

    def __init__(self, refused: Refused, header: Header | None, authenticated: bool) -> None:
        super().__init__(refused.code, refused.detail)
        self.header, self.authenticated = header, authenticated


class RecentMessages:
    """Message ids this process admitted lately (the database holds them all)."""

    def __init__(self, size: int = 100_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def claim(self, message_id: str) -> bool:
        with self._lock:
            if message_id in self._ids:
                return False
            self._ids[message_id] = None
            if len(self._ids) > self._size:
                self._ids.popitem(last=False)
        return True


class Gate:
    """Admits or refuses partner messages for the services."""

    def __init__(
        self,
        directory: Directory,
        clock: ClockWindow | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: Limiter | None = None,
    ) -> None:
        self.directory = directory
        self.clock = clock or ClockWindow()
        self.now = now
        self.limiter: Limiter = limiter or RateLimiter()
        """Shared by every process in ``nidb serve`` (`ExchangeRuntime`); this process's own
        buckets by default (a gate on its own, in tests)."""
        self.recent = RecentMessages()

    def admit(self, raw: Any, service: Service) -> Admission:
        """Check ``raw`` (the decoded JSON) for ``service``; raises GateRefusal."""
        header: Header | None = None
        authenticated = False
        try:
            envelope = parse_envelope(raw)
            header = envelope.header
            partner = self._authenticate(envelope, service)
            authenticated = True
            admission = self._authorise(envelope, partner, service)
        except Refused as refused:
            if header is None and isinstance(raw, dict):
                header = _header_if_readable(raw.get("header"))
            raise GateRefusal(refused, header, authenticated) from None
        return admission

    def _authenticate(self, envelope: Envelope, service: Service) -> PartnerInfo:
        header = envelope.header
        if header.receiver != NIDB_MEMBER:
            raise Refused(RefusalCode.WRONG_RECEIVER)
        if header.service != service.name:
            raise Refused(RefusalCode.WRONG_SERVICE, f"endpoint is {service.name}")
        partner = self.directory.get(header.sender)
        if partner is None:
            raise Refused(RefusalCode.UNKNOWN_SENDER)
        parts = split_signature(envelope.signature)
        key = partner.keys.get(parts[0]["kid"])
        if key is None:
            raise Refused(RefusalCode.BAD_SIGNATURE, "kid is not a registered key of the sender")
        verify_signature(envelope, key, parts)
        return partner

    def _authorise(self, envelope: Envelope, partner: PartnerInfo, service: Service) -> Admission:
        header = envelope.header
        if partner.suspended:
            raise Refused(RefusalCode.SENDER_SUSPENDED)
        self.clock.check(header.issued_at, self.now())
        if not self.limiter.allow(partner.code, partner.rate_limit):
            raise Refused(RefusalCode.RATE_LIMITED, f"{partner.rate_limit} requests per second")
        groups: tuple[str, ...]
        if service.bulk:  # the grant of the service named in the body decides (extracts.py)
            grant_id, groups = 0, ()
        else:
            today = datetime.now(BUSINESS_TZ).date()
            grant = partner.grant_for(service.name, header.purpose, today)
            if grant is None or service.required_group not in grant.groups:
                raise Refused(
                    RefusalCode.NOT_GRANTED, f"{service.name} for purpose {header.purpose}"
                )
            grant_id = grant.id
            groups = tuple(group for group in service.groups if group in grant.groups)
        if not self.recent.claim(header.message_id):
            raise Refused(RefusalCode.REPLAY)
        return Admission(partner, envelope, grant_id, groups)


def _header_if_readable(raw: Any) -> Header | None:
    try:
        return parse_header(raw)
    except Refused:
        return None
