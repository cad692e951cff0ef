"""One partner request from bytes to signed reply: gate, service, answer, access record.

The HTTP layer only moves bytes: it hands the body to `ExchangeRuntime.answer_async` (or
`ExchangeRuntime.answer` off the event loop) and sends the status and bytes it gets back. The
runtime owns the rule that matters: a reply is never handed back before the request is in the
access log. On PostgreSQL, after `start_async`, a card look-up is awaited on the event loop and
the access record is written by the access log's task of the same loop (no thread hand-over);
everything else runs the synchronous way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, create_engine

from nidb.accesslog import AccessLog, AccessRecord, EntryRefused
from nidb.exchange import extracts, services
from nidb.exchange.bodies import (
    CardCheckBody,
    EmployerQueryBody,
    ExtractJobBody,
    ExtractResultBody,
    ExtractSubmitBody,
    PersonQueryBody,
    VisitsBody,
)
from nidb.exchange.cardcheck import CardReader, card_check_async
from nidb.exchange.catalogue import SERVICES, Service
from nidb.exchange.extracts import ExtractWorker
from nidb.exchange.gate import Admission, Gate, GateRefusal
from nidb.exchange.partners import Directory
from nidb.exchange.ratelimit import Limiter, RateLimiter, SharedRateLimiter
from nidb.protocol.envelope import NIDB_MEMBER, Header, new_header, sign
from nidb.protocol.errors import RefusalCode, Refused
from nidb.protocol.keys import SigningKey
from nidb.settings import get_settings

if TYPE_CHECKING:
    from nidb.exchange.pgasync import AsyncCardReader

MAX_BODY_BYTES = 256 * 1024
UNKNOWN_MEMBER = "XX/UNKNOWN/UNKNOWN/UNKNOWN"
ACTOR_WIDTH = 100
"""The access log's ``actor`` column: a claimed sender may be longer once prefixed."""

Handler = Callable[[Connection, Any, Admission], services.Answer]
AsyncHandler = Callable[[CardReader, Any, Admission], Awaitable[services.Answer]]


def _card_check(conn: Connection, body: Any, admission: Admission) -> services.Answer:
    return services.card_check(
        conn,
        body.card_code,
        body.full_name,
        body.date_of_birth,
        body.gender,
        body.visit_date or admission.today,
    )


async def _card_check_async(reader: CardReader, body: Any, admission: Admission) -> services.Answer:
    return await card_check_async(
        reader,
        body.card_code,
        body.full_name,
        body.date_of_birth,
        body.gender,
        body.visit_date or admission.today,
    )


def _person_summary(conn: Connection, body: Any, admission: Admission) -> services.Answer:
    code = services.resolve_person(conn, body.personal_id, body.bhxh_code)
    services.require_consent(conn, code, admission.header.purpose)
    return services.person_summary(conn, code, admission.groups, admission.today)


def _participation(conn: Connection, body: Any, admission: Admission) -> services.Answer:
    code = services.resolve_person(conn, body.personal_id, body.bhxh_code)
    services.require_consent(conn, code, admission.header.purpose)
    return services.participation_history(conn, code, admission.groups)


def _visits(conn: Connection, body: Any, admission: Admission) -> services.Answer:
    return services.submit_visits(conn, admission.header.sender, body.visits)


def _extract_submit(conn: Connection, body: Any, admission: Admission) -> services.Answer:
    return extracts.submit(conn, admission.partner, admission.header.purpose, admission.today, body)


def _extract_status(conn: Connection, body: Any, admission: Admission) -> services.Answer:
    return extracts.status(conn, admission.partner, body)


def _extract_result(conn: Connection, body: Any, admission: Admission) -> services.Answer:
    return extracts.results(conn, admission.partner, body)


def _headcount(conn: Connection, body: Any, admission: Admission) -> services.Answer:
    return services.employer_headcount(conn, body.employer_code, body.enterprise_code)


def reader_engine(engine: Engine) -> Engine:
    """The engine services read with: autocommit (no BEGIN/ROLLBACK round trips) and, on
    PostgreSQL, its own pool without a ping per checkout (a dead connection fails one request,
    which the partner retries, instead of costing every request a round trip)."""
    if engine.dialect.name != "postgresql":
        return engine
    # autocommit set once per connection at connect, not switched on and back at every checkout
    return create_engine(
        engine.url,
        pool_size=20,
        max_overflow=20,
        pool_pre_ping=False,
        pool_recycle=600,
        isolation_level="AUTOCOMMIT",
    )


def _limiter(engine: Engine) -> Limiter:
    """The partners' rate limiter: shared through the database unless settings say otherwise."""
    if get_settings().rate_limit_shared:
        return SharedRateLimiter(engine)
    return RateLimiter()


@dataclass(frozen=True, slots=True)
class Route:
    service: Service
    body: type[BaseModel]
    handler: Handler
    writes: bool = False
    wakes_extracts: bool = False
    """A job was queued: the extract worker should look now, not at its next poll."""
    async_handler: AsyncHandler | None = None
    """The same service with its reads awaited on the event loop (`ExchangeRuntime.start_async`)."""


def route_table() -> dict[str, Route]:
    """The services partners can call, with their body schemas and handlers."""
    return {
        "card.check/v1": Route(
            SERVICES["card.check/v1"],
            CardCheckBody,
            _card_check,
            async_handler=_card_check_async,
        ),
        "person.summary/v1": Route(SERVICES["person.summary/v1"], PersonQueryBody, _person_summary),
        "participation.history/v1": Route(
            SERVICES["participation.history/v1"], PersonQueryBody, _participation
        ),
        "employer.headcount/v1": Route(
            SERVICES["employer.headcount/v1"], EmployerQueryBody, _headcount
        ),
        "extract.submit/v1": Route(
            SERVICES["extract.submit/v1"],
            ExtractSubmitBody,
            _extract_submit,
            writes=True,
            wakes_extracts=True,
        ),
        "extract.status/v1": Route(SERVICES["extract.status/v1"], ExtractJobBody, _extract_status),
        "extract.result/v1": Route(
            SERVICES["extract.result/v1"], ExtractResultBody, _extract_result
        ),
        "visits.submit/v1": Route(SERVICES["visits.submit/v1"], VisitsBody, _visits, writes=True),
    }


@dataclass(frozen=True, slots=True)
class Reply:
    """What goes back to the partner: the HTTP status and the signed envelope as JSON bytes."""

    status: int
    content: bytes
    result: str = "ok"
    """``ok`` or the refusal code sent (E_NOT_GRANTED, …): what ``/metrics`` counts."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The reply to send, its HTTP status, and the access record that must be written first."""

    status: int
    reply: dict[str, Any]
    record: AccessRecord
    reads: tuple[AccessRecord, ...] = ()
    """One entry per further person the reply discloses (bulk extract pages)."""


class ExchangeRuntime:
    """Everything a worker process needs to answer partners."""

    def __init__(
        self,
        engine: Engine,
        key: SigningKey,
        log: AccessLog | None = None,
        routes: dict[str, Route] | None = None,
    ) -> None:
        self.engine = engine
        self.reader = reader_engine(engine)
        self.key = key
        self.directory = Directory(engine)
        self.gate = Gate(self.directory, limiter=_limiter(self.reader))
        self.log = log or AccessLog(engine)
        self.routes = routes if routes is not None else route_table()
        """The services answered; nidb.api adds those of capabilities above the exchange."""
        self.extracts = ExtractWorker(engine)
        # the event-loop path (start_async): PostgreSQL only, bound to the loop that started it
        self.cards: AsyncCardReader | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def close(self) -> None:
        self.extracts.stop()
        self.log.close()
        if self.reader is not self.engine:
            self.reader.dispose()

    async def start_async(self) -> None:
        """Move the card look-ups and the access log onto the running event loop (PostgreSQL;
        called by the server's lifespan). Without it, or on SQLite, requests take the
        synchronous path."""
        if self.engine.dialect.name != "postgresql" or self._loop is not None:
            return
        from nidb.exchange.pgasync import AsyncCardReader
        from nidb.store.pgasync import asyncpg_dsn

        self.cards = AsyncCardReader(asyncpg_dsn(self.engine), size=2)
        await self.log.start_async()
        self._loop = asyncio.get_running_loop()

    async def stop_async(self) -> None:
        """Write what the event-loop access log holds and close its connections."""
        await self.log.stop_async()
        if self.cards is not None:
            await self.cards.close()
        self.cards, self._loop = None, None

    def serves(self, service_name: str) -> bool:
        """Whether partners can call ``service_name`` here."""
        return service_name in self.routes

    async def answer_async(self, service_name: str, raw: bytes) -> Reply:
        """The reply to ``raw``, once its access records are durable (on the event loop).

        Signature checks are CPU and run here; on PostgreSQL a card check awaits its one query
        on this loop and the access record is written by the log's task of this loop;
        concurrency beyond that comes from the worker processes.
        """
        outcome = await self._handle_async(service_name, raw)
        try:
            logged = await self.log.record_async(outcome.record)
        except EntryRefused as refused:
            outcome = self._unloggable(outcome, refused)
            logged = await self.log.record_async(outcome.record)
        if not logged:
            # another worker logged this message_id first: a replay, whatever we computed
            outcome = self._replayed(outcome)
            await self.log.record_async(outcome.record)
        elif outcome.reads:  # each person a page discloses sees the read in their own history
            await asyncio.gather(*(self.log.record_async(r) for r in outcome.reads))
        return Reply(outcome.status, orjson.dumps(outcome.reply), outcome.record.result)

    def answer(self, service_name: str, raw: bytes, timeout: float = 30.0) -> Reply:
        """`answer_async` for a caller off the event loop: blocks until the records are durable."""
        outcome = self._handle(service_name, raw)
        try:
            logged = self.log.record(outcome.record, timeout)
        except EntryRefused as refused:
            outcome = self._unloggable(outcome, refused)
            logged = self.log.record(outcome.record, timeout)
        if not logged:
            outcome = self._replayed(outcome)
            self.log.record(outcome.record, timeout)
        elif outcome.reads:
            for written in [self.log.submit(r) for r in outcome.reads]:
                written.result(timeout)
        return Reply(outcome.status, orjson.dumps(outcome.reply), outcome.record.result)

    def _on_loop(self) -> bool:
        return self._loop is not None and asyncio.get_running_loop() is self._loop

    async def _handle_async(self, service_name: str, raw: bytes) -> Outcome:
        """`_handle`, with the card look-up awaited on the event loop when it can be."""
        route = self.routes[service_name]
        if route.async_handler is None or self.cards is None or not self._on_loop():
            return self._handle(service_name, raw)
        admitted = self._admit(route, raw)
        if isinstance(admitted, Outcome):
            return admitted
        admission, body = admitted
        try:
            answer = await route.async_handler(self.cards, body, admission)
        except Refused as refused:
            return self._refusal(route.service, refused, admission.header, True, admission)
        return self._answered(route, admission, answer)

    def _handle(self, service_name: str, raw: bytes) -> Outcome:
        """Answer one request (never raises for anything the caller sent); nothing logged yet."""
        route = self.routes[service_name]
        admitted = self._admit(route, raw)
        if isinstance(admitted, Outcome):
            return admitted
        admission, body = admitted
        try:
            if route.writes:
                with self.engine.begin() as conn:
                    answer = route.handler(conn, body, admission)
            else:
                with self.reader.connect() as conn:
                    answer = route.handler(conn, body, admission)
        except Refused as refused:
            return self._refusal(route.service, refused, admission.header, True, admission)
        return self._answered(route, admission, answer)

    def _admit(self, route: Route, raw: bytes) -> tuple[Admission, BaseModel] | Outcome:
        """The admission and the validated body, or the refusal to send."""
        if len(raw) > MAX_BODY_BYTES:
            return self._refusal(
                route.service, Refused(RefusalCode.MALFORMED, "message too large"), None, False
            )
        try:
            decoded = orjson.loads(raw)  # strict RFC 8259: no NaN, no lone surrogates
        except ValueError:
            return self._refusal(
                route.service, Refused(RefusalCode.MALFORMED, "not JSON"), None, False
            )
        try:
            admission = self.gate.admit(decoded, route.service)
        except GateRefusal as refusal:
            return self._refusal(route.service, refusal, refusal.header, refusal.authenticated)
        try:
            return admission, route.body.model_validate(admission.envelope.body)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            return self._refusal(
                route.service,
                Refused(RefusalCode.BODY_INVALID, problems),
                admission.header,
                True,
                admission,
            )

    def _answered(self, route: Route, admission: Admission, answer: services.Answer) -> Outcome:
        """The signed reply to an admitted request and its access records."""
        header = admission.header
        reply = self._reply(
            header.service, header.purpose, header.sender, header.message_id, answer.body
        )
        record = AccessRecord(
            actor=header.sender,
            service=header.service,
            result="ok",
            purpose=header.purpose,
            subject=answer.subject,
            fields=",".join(answer.fields) or None,
            message_id=header.message_id,
            detail={
                "grant": admission.grant_id,
                "answer": answer.result,
                "reply": reply["header"]["message_id"],
            },
        )
        reads = tuple(
            AccessRecord(
                actor=header.sender,
                service=header.service,
                result="ok",
                purpose=header.purpose,
                subject=subject,
                fields=fields,
                detail={"message_id": header.message_id},
            )
            for subject, fields in answer.disclosed
        )
        if route.wakes_extracts:
            self.extracts.wake()
        return Outcome(200, reply, record, reads)

    def _unloggable(self, outcome: Outcome, refused: EntryRefused) -> Outcome:
        """The signed refusal to send instead of ``outcome`` when the database would not store
        its access record: a reply is never sent unlogged, so the request is refused, and the
        refusal is logged under the service alone (nothing the sender wrote is kept)."""
        service = SERVICES[outcome.record.service]
        return self._refusal(
            service,
            Refused(RefusalCode.MALFORMED, f"the request could not be logged ({refused.reason})"),
            None,
            False,
        )

    def _replayed(self, outcome: Outcome) -> Outcome:
        """The refusal to send instead of ``outcome`` when its message_id was already logged."""
        record = outcome.record
        header = Header(
            record.message_id or "",
            record.actor,
            NIDB_MEMBER,
            record.service,
            record.purpose or "NONE",
            datetime.now(UTC),
        )
        return self._refusal(SERVICES[record.service], Refused(RefusalCode.REPLAY), header, True)

    def _reply(
        self,
        service: str,
        purpose: str,
        receiver: str,
        in_reply_to: str | None,
        body: dict[str, Any],
    ) -> dict[str, Any]:
        header = new_header(NIDB_MEMBER, receiver, service, purpose, datetime.now(UTC), in_reply_to)
        return sign(header, body, self.key)

    def _refusal(
        self,
        service: Service,
        refused: Refused,
        header: Header | None,
        authenticated: bool,
        admission: Admission | None = None,
    ) -> Outcome:
        sender = header.sender if header else UNKNOWN_MEMBER
        purpose = header.purpose if header else "NONE"
        message_id = header.message_id if header else None
        reply = self._reply(service.name, purpose, sender, message_id, refused.as_body())
        detail: dict[str, Any] = {"authenticated": authenticated, "message_id": message_id}
        if refused.detail:
            detail["detail"] = refused.detail[:500]
        if admission is not None:
            detail["grant"] = admission.grant_id
        actor = sender
        if not authenticated:  # a claim only: the actor is bounded, the whole claim in detail
            actor = f"unverified:{sender}"[:ACTOR_WIDTH]
            detail["claimed_sender"] = sender
        record = AccessRecord(
            actor=actor,
            service=service.name,
            result=str(refused.code),
            purpose=header.purpose if header else None,
            detail=detail,
        )
        return Outcome(refused.status, reply, record)
