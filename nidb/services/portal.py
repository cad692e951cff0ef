"""The National Public Service Portal (Cổng DVCQG): its dossiers become nidb's, and every status
change of theirs goes back to it.

Why nidb pulls: the portal is where the citizen submits, and the agency's system is one of
many the portal serves; the integration the portal offers ministries is that the agency's
one-door system fetches the dossiers of its procedures and reports each status change back
(Decree 61/2018 and 107/2021 on the one-stop shop, with the portal's status codes). Pulling
also keeps nidb unreachable from outside for this flow (no inbound endpoint to expose and sign)
and tolerates either side being down: the portal keeps a dossier "new" until nidb acknowledges
it, so nothing is lost between a fetch and its acknowledgement.

``pull`` opens a dossier per portal dossier (``source_ref`` ``dvcqg:<code>``, unique: a dossier
fetched twice opens once) through the same submission as the citizen portal of nidb
(``claims``) and acknowledges it (``received``), or reports it ``rejected`` with the coded
reason when the submission refuses it.
``push_statuses`` sends the status changes of those dossiers, in order, from the
``portal.status`` stream (``streams``). ``sync`` does both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from nidb.connectors.platforms import (
    PlatformError,
    PlatformRefused,
    PlatformUnavailable,
    PortalClient,
)
from nidb.domain.errors import DomainError
from nidb.services import streams
from nidb.services.claims import submit_one_time_claim, submit_unemployment_claim
from nidb.services.errors import FormInvalid
from nidb.services.views import DossierView
from nidb.services.workflow import STATE_TITLES
from nidb.store.models_services import Dossier, DossierEvent

__all__ = ["PORTAL_STATUS", "PROCEDURES", "SyncResult", "pull", "push_statuses", "sync"]

STREAM = "portal.status"
PREFIX = "dvcqg:"
PORTAL_STATUS: Mapping[str, str] = {
    "submitted": "received",
    "checked": "processing",
    "awaiting_payment": "processing",
    "awaiting_residence": "processing",
    "awaiting_approval": "processing",
    "approved": "completed",
    "completed": "completed",
    "refused": "rejected",
    "cancelled": "cancelled",
}
"""nidb's dossier states → the portal's statuses."""


def _one_time(pid: str, form: Mapping[str, str], ref: str) -> Callable[[Engine], DossierView]:
    return lambda engine: submit_one_time_claim(
        engine,
        pid,
        form.get("ground", ""),
        form.get("bank_account", ""),
        note=form.get("note"),
        source_ref=ref,
    )


def _unemployment(pid: str, form: Mapping[str, str], ref: str) -> Callable[[Engine], DossierView]:
    return lambda engine: submit_unemployment_claim(
        engine,
        pid,
        form.get("termination_date", ""),
        form.get("bank_account", ""),
        note=form.get("note"),
        source_ref=ref,
    )


PROCEDURES: Mapping[str, tuple[frozenset[str], Any]] = {
    "BHXH-MOTLAN": (frozenset({"ground", "bank_account", "note"}), _one_time),
    "BHXH-TCTN": (frozenset({"termination_date", "bank_account", "note"}), _unemployment),
}
"""The portal's procedure codes nidb handles: the form fields each takes, and its submission."""


@dataclass
class SyncResult:
    opened: list[tuple[str, int]] = field(default_factory=list)
    """(portal code, nidb dossier number) of the dossiers opened."""
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(portal code, rule code) of the dossiers refused at intake."""
    repeated: int = 0
    statuses_sent: int = 0
    statuses_refused: list[tuple[int, str]] = field(default_factory=list)
    """(event id, the portal's code) of status changes the portal refused (skipped)."""
    stopped: str | None = None
    """Why the run stopped early (the portal unreachable), or None."""


def _intake(item: Any) -> tuple[str, Callable[[Engine], DossierView]]:
    """The portal code and the submission of one fetched dossier; FormInvalid if malformed."""
    if not isinstance(item, dict) or not isinstance(item.get("code"), str):
        raise FormInvalid(
            "code", None, "PORTAL_CODE_MISSING", "hồ sơ không có mã", "the dossier has no code"
        )
    code = item["code"]
    if not (0 < len(code) <= 100 - len(PREFIX)) or not code.isprintable():
        raise FormInvalid(
            "code",
            code[:40],
            "PORTAL_CODE_INVALID",
            "mã hồ sơ không hợp lệ",
            "invalid dossier code",
        )
    procedure = str(item.get("procedure"))
    if procedure not in PROCEDURES:
        raise FormInvalid(
            "procedure",
            procedure[:40],
            "PROCEDURE_UNKNOWN",
            f"hồ sơ {code}: thủ tục {procedure[:40]!r} không do BHXH giải quyết qua nidb",
            f"dossier {code}: procedure {procedure[:40]!r} is not handled by nidb",
        )
    allowed, submission = PROCEDURES[procedure]
    form = item.get("form") or {}
    if not isinstance(form, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in form.items()
    ):
        raise FormInvalid(
            "form",
            None,
            "FORM_INVALID",
            f"hồ sơ {code}: tờ khai không hợp lệ",
            f"dossier {code}: the form is not a set of text fields",
        )
    unknown = sorted(set(form) - allowed)
    if unknown:
        raise FormInvalid(
            f"form.{unknown[0]}",
            unknown[0][:40],
            "FIELD_UNKNOWN",
            f"hồ sơ {code}: tờ khai có trường không thuộc thủ tục {procedure}: {unknown[0][:40]}",
            f"dossier {code}: field {unknown[0][:40]!r} is not part of procedure {procedure}",
        )
    pid = item.get("personal_id")
    return code, submission(str(pid) if pid is not None else "", form, PREFIX + code)


def _note(event: streams.StreamEvent) -> str:
    title = STATE_TITLES.get(event.to_state, event.to_state)
    text = f"{title} — hồ sơ số {event.dossier_id} tại BHXH"
    return f"{text}: {event.note}" if event.note else text


def _report(portal: PortalClient, event: streams.StreamEvent) -> None:
    assert event.source_ref is not None
    portal.report(
        event.source_ref.removeprefix(PREFIX),
        PORTAL_STATUS.get(event.to_state, "processing"),
        agency_ref=str(event.dossier_id),
        note=_note(event),
        at=event.occurred_at.isoformat(),
    )


def _opening_event(engine: Engine, ref: str) -> streams.StreamEvent | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(
                Dossier.id,
                Dossier.kind,
                Dossier.submitted_at,
                DossierEvent.id.label("eid"),
                DossierEvent.to_state,
                DossierEvent.note,
                DossierEvent.occurred_at,
            )
            .join(DossierEvent, DossierEvent.dossier_id == Dossier.id)
            .where(Dossier.source_ref == ref, DossierEvent.from_state.is_(None))
        ).first()
    if row is None:
        return None
    return streams.StreamEvent(
        int(row.eid),
        int(row.id),
        row.kind,
        ref,
        None,
        row.to_state,
        row.note,
        streams.aware(row.occurred_at),
        streams.aware(row.submitted_at),
    )


def _take(engine: Engine, portal: PortalClient, item: Any, result: SyncResult) -> None:
    """Open one fetched dossier, acknowledge a repeat, or reject it at the portal."""
    code = str(item.get("code"))[:60] if isinstance(item, dict) else "?"
    try:
        code, submission = _intake(item)
        opening = _opening_event(engine, PREFIX + code)
        if opening is None:
            view = submission(engine)
            result.opened.append((code, view.summary.id))
            # acknowledged at once, as the status stream will say it again (a no-op there)
            opened = _opening_event(engine, PREFIX + code)
            assert opened is not None
            _report(portal, opened)
            return
    except DomainError as error:
        result.rejected.append((code, error.rule))
        if isinstance(error, FormInvalid) and error.field == "code":
            return  # nothing to answer to
        note = f"{error.message_vi} ({error.message_en}) [{error.rule}]"
        # refused: e.g. withdrawn meantime; it is no longer waiting either way
        with suppress(PlatformRefused):
            portal.report(
                code,
                "rejected",
                agency_ref=None,
                note=note[:1000],
                at=datetime.now(UTC).isoformat(),
            )
        return
    result.repeated += 1  # fetched before; the acknowledgement was lost
    try:
        _report(portal, opening)
    except PlatformRefused as refused:
        result.statuses_refused.append((opening.id, refused.code))


def pull(
    engine: Engine, portal: PortalClient, *, limit: int = 100, result: SyncResult | None = None
) -> SyncResult:
    """Fetch the dossiers waiting at the portal, page after page, and open them in nidb (or
    reject them); each is acknowledged at once, so the next page holds the next ones. Stops at
    a short page, or at a page of dossiers seen already (ones nidb could not acknowledge)."""
    result = result or SyncResult()
    seen: set[str] = set()
    try:
        while True:
            page = portal.waiting(limit)
            codes = {str(item.get("code")) for item in page if isinstance(item, dict)}
            if not page or codes <= seen:
                return result
            seen |= codes
            for item in page:
                _take(engine, portal, item, result)
            if len(page) < limit:
                return result
    except PlatformError as error:  # unreachable, or the listing itself refused (a wrong key)
        result.stopped = error.message_vi
    return result


def push_statuses(
    engine: Engine, portal: PortalClient, *, settle: float = 2.0, result: SyncResult | None = None
) -> SyncResult:
    """Send the status changes of portal dossiers, in order, after the stream's cursor."""
    result = result or SyncResult()
    while True:
        events = streams.pending(engine, STREAM, settle=settle)
        if not events:
            return result
        for event in events:
            if event.source_ref is not None and event.source_ref.startswith(PREFIX):
                try:
                    _report(portal, event)
                    result.statuses_sent += 1
                except PlatformRefused as refused:
                    result.statuses_refused.append((event.id, refused.code))
                except PlatformUnavailable as error:
                    result.stopped = error.message_vi
                    return result
            streams.advance(engine, STREAM, event.id)


def sync(engine: Engine, portal: PortalClient, *, settle: float = 2.0) -> SyncResult:
    """Pull the waiting dossiers, then push every status change."""
    result = pull(engine, portal)
    if result.stopped:
        return result
    return push_statuses(engine, portal, settle=settle, result=result)
