"""Visit summaries sent by hospitals (Decision 130/QĐ-BYT, table 1) into ``health_visits``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from nidb.domain.errors import DomainError
from nidb.domain.identifiers import BhxhCode, HealthCardCode
from nidb.exchange.answer import Answer
from nidb.store import models
from nidb.store.tables import table_of


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def submit_visits(conn: Connection, sender: str, visits: list[Any]) -> Answer:
    """Store a hospital's visit summaries; each gets accepted, duplicate or rejected (why).

    A hospital may only send visits of its own facility: the five digits that end its
    subsystem code (``VN/GOV/BYT/BV-01001`` sends for facility ``01001``).
    """
    facility = sender.rsplit("-", 1)[-1] if "-" in sender else ""
    results: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for visit in visits:
        reason = _visit_problem(visit, facility)
        if reason is not None:
            results.append({"visit_id": visit.visit_id, "result": "rejected", "reason": reason})
            continue
        raw = visit.card_code.strip().upper()
        rows.append(
            {
                "visit_id": visit.visit_id,
                "card_code": raw,
                "bhxh_code": raw[-10:],
                "facility_code": visit.facility_code,
                "admitted_at": _naive_utc(visit.admitted_at),
                "discharged_at": _naive_utc(visit.discharged_at),
                "inpatient": visit.inpatient,
                "icd10": visit.icd10.replace(".", ""),
                "total_cost": visit.total_cost,
                "insurer_paid": visit.insurer_paid,
                "patient_paid": visit.patient_paid,
            }
        )
    stored: set[str] = set()
    if rows:
        table = table_of(models.HealthVisit)
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(table).on_conflict_do_nothing().returning(table.c.visit_id)
        stored = set(conn.execute(statement, rows).scalars())
    for row in rows:
        results.append(
            {
                "visit_id": row["visit_id"],
                "result": "accepted" if row["visit_id"] in stored else "duplicate",
            }
        )
    counts = {
        kind: sum(1 for r in results if r["result"] == kind)
        for kind in ("accepted", "duplicate", "rejected")
    }
    return Answer({"results": results, **counts}, None, ("visits",))


def _visit_problem(visit: Any, facility: str) -> str | None:
    if visit.facility_code != facility:
        return "FACILITY_NOT_SENDER"
    raw = visit.card_code.strip().upper()
    try:
        HealthCardCode.parse(raw) if len(raw) == 15 else BhxhCode.parse(raw)
    except DomainError:
        return "CARD_CODE_INVALID"
    if visit.discharged_at < visit.admitted_at:
        return "DISCHARGE_BEFORE_ADMISSION"
    if visit.insurer_paid + visit.patient_paid > visit.total_cost:
        return "PAID_MORE_THAN_COST"
    return None
