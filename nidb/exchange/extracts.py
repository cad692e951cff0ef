"""Bulk extract jobs: one granted person service over many people, answered asynchronously.

A partner submits ``extract.submit/v1`` naming a person service it is granted (for the
message's purpose) and up to 10,000 people; the job is stored and run in the background by the
API's worker thread (or `run_pending`); the partner polls ``extract.status/v1`` and reads the
answers page by page with ``extract.result/v1``. The grant is checked when the job is
submitted and its information groups are kept with the job; every person whose data a result
page discloses gets their own access-log entry when the page is read.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from nidb.exchange import services
from nidb.exchange.catalogue import SERVICES
from nidb.exchange.partners import PartnerInfo
from nidb.protocol.errors import RefusalCode, Refused
from nidb.store import models

log = logging.getLogger(__name__)
EXTRACTABLE = ("person.summary/v1", "participation.history/v1")
_JOB, _ITEM = models.ExtractJob, models.ExtractItem
LEASE = timedelta(seconds=60)
"""A running job whose heartbeat is older than this was left by a dead process: taken over."""


def _runnable(now: datetime, lease: timedelta) -> Any:
    """Queued jobs, and running jobs whose worker stopped renewing its lease."""
    stale = or_(_JOB.heartbeat_at.is_(None), _JOB.heartbeat_at < now - lease)
    return or_(_JOB.status == "queued", and_(_JOB.status == "running", stale))


def submit(
    conn: Connection, partner: PartnerInfo, purpose: str, today: date, body: Any
) -> services.Answer:
    """Store a job if the partner holds a grant for the named service and purpose."""
    if body.service not in EXTRACTABLE:
        raise Refused(RefusalCode.BODY_INVALID, f"service: one of {', '.join(EXTRACTABLE)}")
    service = SERVICES[body.service]
    grant = partner.grant_for(service.name, purpose, today)
    if grant is None or service.required_group not in grant.groups:
        raise Refused(RefusalCode.NOT_GRANTED, f"{service.name} for purpose {purpose}")
    groups = [group for group in service.groups if group in grant.groups]
    job_id = str(uuid.uuid4())
    conn.execute(
        insert(_JOB).values(
            id=job_id,
            partner_code=partner.code,
            service=service.name,
            purpose=purpose,
            grant_id=grant.id,
            groups=",".join(groups),
            subjects=len(body.subjects),
        )
    )
    conn.execute(
        insert(_ITEM),
        [
            {"job_id": job_id, "position": n, "query": subject.model_dump(exclude_none=True)}
            for n, subject in enumerate(body.subjects)
        ],
    )
    answer = {"job_id": job_id, "status": "queued", "subjects": len(body.subjects)}
    return services.Answer(answer, None, ("extract.job",))


def _own_job(conn: Connection, partner: PartnerInfo, job_id: str) -> Any:
    job = conn.execute(
        select(_JOB.__table__).where(_JOB.id == job_id, _JOB.partner_code == partner.code)
    ).first()
    if job is None:  # another partner's job is as unknown as a job that does not exist
        raise Refused(RefusalCode.SUBJECT_NOT_FOUND, "no such extract job of yours")
    return job


def _status_body(job: Any) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "service": job.service,
        "status": job.status,
        "subjects": job.subjects,
        "found": job.found,
        "not_found": job.not_found,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def status(conn: Connection, partner: PartnerInfo, body: Any) -> services.Answer:
    """Where a job stands."""
    return services.Answer(
        _status_body(_own_job(conn, partner, body.job_id)), None, ("extract.job",)
    )


def results(conn: Connection, partner: PartnerInfo, body: Any) -> services.Answer:
    """A page of a finished job's answers; each person in it is logged as read."""
    job = _own_job(conn, partner, body.job_id)
    if job.status != "done":
        raise Refused(RefusalCode.SUBJECT_NOT_FOUND, f"the job is {job.status}, not done")
    items = conn.execute(
        select(_ITEM.position, _ITEM.query, _ITEM.outcome, _ITEM.answer, _ITEM.bhxh_code)
        .where(_ITEM.job_id == job.id, _ITEM.position >= body.offset)
        .order_by(_ITEM.position)
        .limit(body.limit)
    ).all()
    page = [
        {"position": i.position, "query": i.query, "outcome": i.outcome, "answer": i.answer}
        for i in items
    ]
    fields = ",".join(sorted(job.groups.split(",")))
    disclosed = tuple((i.bhxh_code, fields) for i in items if i.outcome == "ok" and i.bhxh_code)
    body_out = {**_status_body(job), "offset": body.offset, "items": page}
    return services.Answer(body_out, None, ("extract.result",), disclosed=disclosed)


def run_job(
    engine: Engine, job_id: str, today: date, chunk: int = 500, lease: timedelta = LEASE
) -> bool:
    """Answer every subject of a job not yet answered; False if it is not runnable (done,
    failed, or running under a live lease held by someone else).

    A job taken over from a dead worker resumes at its first unanswered subject: answers are
    written chunk by chunk, each chunk with a renewed heartbeat, so nothing is answered twice
    by the same claim and nothing is lost."""
    with engine.begin() as conn:
        claimed = conn.execute(
            update(_JOB)
            .where(_JOB.id == job_id, _runnable(datetime.now(UTC), lease))
            .values(status="running", heartbeat_at=datetime.now(UTC))
        ).rowcount
        job = conn.execute(select(_JOB.__table__).where(_JOB.id == job_id)).first()
    if not claimed or job is None:
        return False
    groups = tuple(job.groups.split(","))
    try:
        position = -1
        while True:
            with engine.begin() as conn:
                items = conn.execute(
                    select(_ITEM.position, _ITEM.query)
                    .where(
                        _ITEM.job_id == job_id,
                        _ITEM.position > position,
                        _ITEM.outcome.is_(None),
                    )
                    .order_by(_ITEM.position)
                    .limit(chunk)
                ).all()
                if not items:
                    break
                for item in items:
                    _answer(conn, job, groups, item, today)
                conn.execute(
                    update(_JOB).where(_JOB.id == job_id).values(heartbeat_at=datetime.now(UTC))
                )
                position = items[-1].position
        with engine.begin() as conn:
            counts = dict(
                conn.execute(
                    select(_ITEM.outcome, func.count())
                    .where(_ITEM.job_id == job_id)
                    .group_by(_ITEM.outcome)
                ).all()
            )
            conn.execute(
                update(_JOB)
                .where(_JOB.id == job_id)
                .values(
                    status="done",
                    found=counts.get("ok", 0),
                    not_found=sum(n for outcome, n in counts.items() if outcome != "ok"),
                    finished_at=datetime.now(UTC),
                )
            )
    except Exception as error:  # a job must end in a state the partner can see
        log.exception("extract job %s failed", job_id)
        with engine.begin() as conn:
            conn.execute(
                update(_JOB)
                .where(_JOB.id == job_id)
                .values(status="failed", error=type(error).__name__, finished_at=datetime.now(UTC))
            )
    return True


def _answer(conn: Connection, job: Any, groups: tuple[str, ...], item: Any, today: date) -> None:
    query = item.query or {}
    try:
        code = services.resolve_person(conn, query.get("personal_id"), query.get("bhxh_code"))
        services.require_consent(conn, code, job.purpose)
        if job.service == "person.summary/v1":
            answer = services.person_summary(conn, code, groups, today)
        else:
            answer = services.participation_history(conn, code, groups)
        values: dict[str, Any] = {"bhxh_code": code, "outcome": "ok", "answer": answer.body}
    except Refused as refused:
        values = {"bhxh_code": None, "outcome": str(refused.code), "answer": None}
    conn.execute(
        update(_ITEM)
        .where(_ITEM.job_id == job.id, _ITEM.position == item.position)
        .values(**values)
    )


def run_pending(engine: Engine, today: date | None = None, lease: timedelta = LEASE) -> int:
    """Run every queued job, and every job a dead worker left running, oldest first; returns
    how many this call ran."""
    ran = 0
    while True:
        with engine.connect() as conn:
            job_id = conn.execute(
                select(_JOB.id)
                .where(_runnable(datetime.now(UTC), lease))
                .order_by(_JOB.created_at)
                .limit(1)
            ).scalar()
        if job_id is None:
            return ran
        if run_job(engine, job_id, today or date.today(), lease=lease):
            ran += 1


class ExtractWorker:
    """Runs queued jobs in the background of an API process (polling every ``interval`` s)."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine, self.interval = engine, interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nidb-extracts", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                run_pending(self.engine)
            except Exception:  # the database may be briefly away: try again next round
                log.exception("extract worker round failed")
            self._wake.wait(self.interval)
            self._wake.clear()
