"""Usage events of the online services for the EMC service-measurement system.

From the ``emc.usage`` stream of dossier events (``streams``): a dossier opened is a service
``used``; a dossier reaching a final state is ``completed``, with its outcome and the time it
took since submission, in seconds. Every event has a stable id (``nidb-<event id>``) and each
batch a stable id (``nidb-<first>-<last>``), so a batch sent again after a lost answer is a
repeat at the EMC, and the cursor moves only when the EMC has answered. The client retries
failed calls with backoff; a run that still cannot reach the EMC stops and leaves the cursor
where it was for the next run. A batch the EMC refuses as invalid (422) is sent again event by
event; the events refused alone are recorded (``SendResult.refused``) and skipped, so one bad
event cannot block the stream for good.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from nidb.connectors.platforms import EmcClient, PlatformError, PlatformRefused
from nidb.services import streams
from nidb.services.workflow import TERMINAL

__all__ = ["SendResult", "send_usage", "usage_event"]

STREAM = "emc.usage"


@dataclass
class SendResult:
    batches: int = 0
    events: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(event id, the EMC's code) of events the EMC refused one by one (skipped)."""
    stopped: str | None = None


def _channel(source_ref: str | None) -> str:
    if source_ref is None:
        return "online"  # nidb's own citizen portal
    if source_ref.startswith("dvcqg:"):
        return "dvcqg"
    return "interconnected"  # opened by a registry event (liên thông: births, deaths)


def usage_event(event: streams.StreamEvent) -> dict[str, Any] | None:
    """The EMC's usage event for a dossier event, or None if it is no use or completion."""
    base = {
        "event_id": f"nidb-{event.id}",
        "service": event.kind,
        "at": event.occurred_at.isoformat(),
        "channel": _channel(event.source_ref),
    }
    if event.from_state is None:
        return {**base, "kind": "used"}
    if event.to_state in TERMINAL:
        seconds = max(0.0, (event.occurred_at - event.submitted_at).total_seconds())
        return {
            **base,
            "kind": "completed",
            "outcome": event.to_state,
            "duration_seconds": round(seconds, 3),
        }
    return None


def send_usage(
    engine: Engine, emc: EmcClient, *, batch_size: int = 500, settle: float = 2.0
) -> SendResult:
    """Send every pending usage event in batches of up to ``batch_size`` dossier events."""
    result = SendResult()
    while True:
        events = streams.pending(engine, STREAM, limit=batch_size, settle=settle)
        if not events:
            return result
        usage = [u for u in map(usage_event, events) if u is not None]
        if usage:
            try:
                emc.send(f"nidb-{events[0].id}-{events[-1].id}", usage)
            except PlatformRefused as refused:
                if refused.status != 422 or not _one_by_one(emc, usage, result):
                    result.stopped = f"{refused.message_vi} ({refused.message_en})"
                    return result
            except PlatformError as error:
                result.stopped = f"{error.message_vi} ({error.message_en})"
                return result
            else:
                result.batches += 1
                result.events += len(usage)
        streams.advance(engine, STREAM, events[-1].id)


def _one_by_one(emc: EmcClient, usage: list[dict[str, Any]], result: SendResult) -> bool:
    """A batch the EMC refused as invalid, sent again event by event (batch id = event id):
    the events it refuses alone are recorded and skipped, so one bad event does not block the
    stream for good. False if the EMC could not be reached meanwhile (the run stops)."""
    for event in usage:
        try:
            emc.send(str(event["event_id"]), [event])
        except PlatformRefused as refused:
            if refused.status == 422:
                result.refused.append((str(event["event_id"]), refused.code))
                continue
            return False
        except PlatformError:
            return False
        result.batches += 1
        result.events += 1
    return True
