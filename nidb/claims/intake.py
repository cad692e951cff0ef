"""The ``claims.submit/v1`` service: store a facility's XML 130 claims, each whole or not at all.

A claim is keyed by its facility and MA_LK. Sending it again replaces it (lines and all) and
keeps what it was in ``claim_versions``; its assessment starts over. A claim with any error
stores nothing and comes back with every error found (table, row, field, value, code, reason in
Vietnamese and English). Each stored claim is written with its audit entry and outbox event in
the request's transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select, update

from nidb.claims.xml130 import EnvelopeError, ParsedClaim, error, parse_envelope
from nidb.exchange.answer import Answer
from nidb.protocol.errors import RefusalCode, Refused
from nidb.store import models
from nidb.store.audit import write_audit, write_event
from nidb.store.models_claims import Claim, ClaimLine, ClaimVersion

CLAIM_COLUMNS = (
    "card_code",
    "bhxh_code",
    "registered_facility",
    "admitted_at",
    "discharged_at",
    "inpatient",
    "route",
    "icd10",
    "claimed_total",
)


def sender_facility(sender: str) -> str:
    """The facility a hospital subsystem sends for: ``VN/GOV/BYT/BV-01001`` sends for 01001."""
    return sender.rsplit("-", 1)[-1] if "-" in sender else ""


def submit_claims(conn: Connection, sender: str, xml_text: str) -> Answer:
    """Validate and store an envelope's claims; one result per claim."""
    try:
        envelope = parse_envelope(xml_text)
    except EnvelopeError as problem:
        raise Refused(RefusalCode.BODY_INVALID, str(problem)) from None
    facility = envelope.facility_code
    not_sender = facility != sender_facility(sender)
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for claim in envelope.claims:
        if not_sender:  # a hospital sends for its own facility only: nothing is looked up
            claim.errors = [error("THONGTINDONVI", 1, "MACSKCB", facility, "FACILITY_NOT_SENDER")]
        _check_against_store(conn, claim, facility, seen)
        if claim.errors:
            results.append(
                {
                    "ma_lk": claim.ma_lk,
                    "result": "rejected",
                    "errors": [e.as_dict() for e in claim.errors[:50]],
                }
            )
            continue
        seen.add(claim.ma_lk)
        version = _store(conn, sender, facility, claim)
        results.append(
            {
                "ma_lk": claim.ma_lk,
                "result": "accepted" if version == 1 else "replaced",
                "version": version,
            }
        )
    counts = {
        k: sum(1 for r in results if r["result"] == k) for k in ("accepted", "replaced", "rejected")
    }
    return Answer({"facility_code": facility, "results": results, **counts}, None, ("claims",))


def _check_against_store(
    conn: Connection, claim: ParsedClaim, facility: str, seen: set[str]
) -> None:
    if claim.errors:
        return
    summary = claim.summary
    if summary["facility_in_table"] != facility:
        claim.errors.append(
            error("XML1", 1, "MA_CSKCB", summary["facility_in_table"], "FACILITY_NOT_SENDER")
        )
    if claim.ma_lk in seen:
        claim.errors.append(error("XML1", 1, "MA_LK", claim.ma_lk, "DUPLICATE_IN_ENVELOPE"))
    card = summary["card_code"]
    found = conn.execute(
        select(models.HealthCard.id)
        .where(
            models.HealthCard.card_code == card
            if len(card) == 15
            else models.HealthCard.bhxh_code == card
        )
        .limit(1)
    ).first()
    if found is None:
        claim.errors.append(error("XML1", 1, "MA_THE_BHYT", card, "CARD_NOT_FOUND"))


def _snapshot(conn: Connection, claim_id: int) -> dict[str, Any]:
    row = conn.execute(select(Claim.__table__).where(Claim.id == claim_id)).mappings().one()
    lines = conn.execute(
        select(ClaimLine.__table__)
        .where(ClaimLine.claim_id == claim_id)
        .order_by(ClaimLine.line_no)
    ).mappings()

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    return {
        "claim": {k: plain(v) for k, v in row.items()},
        "lines": [{k: plain(v) for k, v in line.items()} for line in lines],
    }


_CLAIMS = cast(Table, Claim.__table__)
_LINES = cast(Table, ClaimLine.__table__)


def _store(conn: Connection, sender: str, facility: str, claim: ParsedClaim) -> int:
    values = {c: claim.summary[c] for c in CLAIM_COLUMNS}
    held = conn.execute(
        select(Claim.id, Claim.version).where(
            Claim.facility_code == facility, Claim.ma_lk == claim.ma_lk
        )
    ).first()
    if held is None:
        version = 1
        claim_id = conn.execute(
            insert(_CLAIMS)  # Core, not the ORM's bulk path (a fifth of the time)
            .values(
                facility_code=facility,
                ma_lk=claim.ma_lk,
                version=1,
                sender=sender,
                sick_leave=claim.sick_leave,
                **values,
            )
            .returning(_CLAIMS.c.id)
        ).scalar_one()
    else:
        claim_id, version = held.id, held.version + 1
        conn.execute(
            insert(ClaimVersion).values(
                claim_id=claim_id, version=held.version, snapshot=_snapshot(conn, claim_id)
            )
        )
        conn.execute(delete(ClaimLine).where(ClaimLine.claim_id == claim_id))
        conn.execute(
            update(Claim)
            .where(Claim.id == claim_id)
            .values(
                version=version,
                sender=sender,
                sick_leave=claim.sick_leave,
                outcome=None,
                accepted_total=None,
                insurer_total=None,
                reasons=None,
                assessed_at=None,
                share_pct=None,
                **values,
            )
        )
    if claim.lines:
        conn.execute(
            insert(_LINES),
            [
                {
                    "claim_id": claim_id,
                    "line_no": line.line_no,
                    "kind": line.kind,
                    "item_code": line.item_code,
                    "name": line.name,
                    "quantity_milli": line.quantity_milli,
                    "unit_price": line.unit_price,
                    "amount": line.amount,
                }
                for line in claim.lines
            ],
        )
    detail = {
        "facility_code": facility,
        "ma_lk": claim.ma_lk,
        "version": version,
        "lines": len(claim.lines),
    }
    write_audit(
        conn,
        actor=sender,
        action="claims.received",
        subject_type="claim",
        subject_id=f"{facility}:{claim.ma_lk}",
        purpose="KCB",
        detail=detail,
    )
    write_event(conn, "claims.received", f"{facility}:{claim.ma_lk}", detail)
    return version


__all__ = ["sender_facility", "submit_claims"]
