"""Declarations of an employer (the content of forms D02-LT and TK1-TS): register the unit,
increase (a new worker), decrease (contract end, maternity leave, unpaid leave, death), salary
change, and correction of a worker's data.

`submit` checks a declaration against the register and the population data, and applies it in
the caller's transaction, with its audit entries and outbox events: ``declared_wages`` runs
(opened, closed, split), participation periods (BHXH, BHYT, BHTN) and health cards (issued,
renewed, stopped). A declaration is all or nothing: one bad worker row refuses it, with every
row's errors; the employer corrects it and sends it again under the same number (a refused
number may be re-used; an applied one answers its first outcome again when the same content
is sent, and is refused when the content differs). Months: ``month`` is the first month of the
change (an increase from, a salary from, a decrease from: the last month declared is the month
before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from nidb.domain.catalogues import BENEFICIARY_GROUPS
from nidb.domain.identifiers import HealthCardCode
from nidb.employers.checks import DECREASE_REASONS, WorkerRow, read_row
from nidb.employers.codes import issue_bhxh_code
from nidb.employers.errors import RowError
from nidb.protocol.canonical import canonical_json
from nidb.store import models, people
from nidb.store.audit import audit_entry, outbox_event, write_audits, write_events
from nidb.store.direct import Direct
from nidb.store.models_employers import DECLARATION_KINDS, EmployerDeclaration
from nidb.store.models_employment import DeclaredWage

__all__ = ["MAX_WORKERS", "Outcome", "card_group", "submit"]

MAX_WORKERS = 1000
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
_CARD_GROUP = {  # Decision 1351/QĐ-BHXH: the group printed on an employee's card
    "enterprise": "DN",
    "cooperative": "HX",
    "state": "HC",
    "household_business": "TK",
    "other": "TK",
}
_WAGES = DeclaredWage.__table__
_PERIODS = models.ParticipationPeriod.__table__
_CARDS = models.HealthCard.__table__
_DECLARATIONS = EmployerDeclaration.__table__
_EMPLOYERS = models.Employer.__table__

# The statements of a declaration's path, built once (issue 14 target: 200 declarations/s).
# Building a statement per call (values coerced, cache key computed) cost more than running it;
# each is compiled once and, under PostgreSQL, run on psycopg directly (nidb.store.direct).
_PREVIOUS = Direct(
    select(_DECLARATIONS).where(
        _DECLARATIONS.c.employer_code == bindparam("p_employer"),
        _DECLARATIONS.c.declaration_no == bindparam("p_number"),
    )
)
_NEW_DECLARATION = Direct(insert(EmployerDeclaration).returning(EmployerDeclaration.id))
_DECIDE = Direct(update(EmployerDeclaration).where(EmployerDeclaration.id == bindparam("p_id")))
_EMPLOYER = Direct(select(_EMPLOYERS).where(_EMPLOYERS.c.employer_code == bindparam("p_employer")))
_RUNS = Direct(
    select(_WAGES)
    .where(
        _WAGES.c.employer_code == bindparam("p_employer"),
        _WAGES.c.personal_id.in_(bindparam("p_personal_ids", expanding=True)),
    )
    .order_by(_WAGES.c.from_month, _WAGES.c.id)
)
_PERSON_AT_EMPLOYER = Direct(
    update(models.Person).where(models.Person.bhxh_code == bindparam("p_code"))
)
_NEW_WAGE = Direct(insert(DeclaredWage))
_NEW_PERSON = Direct(insert(models.Person))
_NEW_LINK = Direct(insert(models.IdentityLink))
_NEW_PERIOD = Direct(insert(models.ParticipationPeriod))
_NEW_CARD = Direct(insert(models.HealthCard))
_SCHEMES_STARTING = Direct(
    select(_PERIODS.c.scheme).where(
        _PERIODS.c.bhxh_code == bindparam("p_code"), _PERIODS.c.start_month == bindparam("p_month")
    )
)
_FULL_TIME_ELSEWHERE = Direct(
    select(_WAGES.c.employer_code)
    .where(
        _WAGES.c.bhxh_code == bindparam("p_code"),
        _WAGES.c.employer_code != bindparam("p_employer"),
        _WAGES.c.full_time.is_(True),
        or_(_WAGES.c.to_month.is_(None), _WAGES.c.to_month >= bindparam("p_month")),
    )
    .limit(1)
)
_CARDS_OF = Direct(
    select(
        _CARDS.c.card_code,
        _CARDS.c.status,
        _CARDS.c.valid_from,
        _CARDS.c.valid_to,
        _CARDS.c.five_years_from,
    )
    .where(_CARDS.c.bhxh_code == bindparam("p_code"))
    .order_by(_CARDS.c.valid_from)
)


def card_group(employer_type: str) -> str:
    """The beneficiary group of a worker of this kind of employer."""
    return _CARD_GROUP.get(employer_type, "TK")


@dataclass
class Outcome:
    """What became of a declaration."""

    declaration_id: int | None
    declaration_no: str
    kind: str
    status: str  # applied | refused
    errors: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    repeated: bool = False  # the same declaration was applied before; nothing changed now

    def as_json(self) -> dict[str, Any]:
        return {
            "declaration_id": self.declaration_id,
            "declaration_no": self.declaration_no,
            "kind": self.kind,
            "status": self.status,
            "errors": self.errors,
            "flags": self.flags,
            "results": self.results,
            "repeated": self.repeated,
        }


def _error(field_name: str, value: object, rule: str, vi: str, en: str, row: int = 0) -> RowError:
    return RowError(row, field_name, "" if value is None else str(value), rule, vi, en)


def _month_before(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def _read_head(body: Any) -> tuple[str, str, list[RowError]]:
    if not isinstance(body, dict):
        return (
            "",
            "",
            [
                _error(
                    "body",
                    "",
                    "BODY_NOT_OBJECT",
                    "nội dung phải là đối tượng JSON",
                    "body must be a JSON object",
                )
            ],
        )
    errors: list[RowError] = []
    number = body.get("declaration_no")
    if not isinstance(number, str) or not _NUMBER.fullmatch(number):
        errors.append(
            _error(
                "declaration_no",
                number,
                "DECLARATION_NO_FORMAT",
                "số hồ sơ của đơn vị: 1-40 ký tự chữ, số, . _ / -",
                "the employer's declaration number: 1-40 letters, digits, . _ / -",
            )
        )
        number = ""
    kind = body.get("kind")
    if kind not in DECLARATION_KINDS:
        errors.append(
            _error(
                "kind",
                kind,
                "DECLARATION_KIND",
                "loại khai báo phải là " + ", ".join(DECLARATION_KINDS),
                "kind must be one of " + ", ".join(DECLARATION_KINDS),
            )
        )
        kind = ""
    unknown = set(body) - {"declaration_no", "kind", "month", "workers", "unit"}
    for name in sorted(unknown):
        errors.append(_error(name, "", "FIELD_UNKNOWN", "trường không được biết", "unknown field"))
    return number, str(kind), errors


def submit(
    conn: Connection,
    employer_code: str,
    body: Any,
    *,
    actor: str,
    channel: str,
    message_id: str | None = None,
) -> Outcome:
    """Check and apply one declaration in the caller's transaction; see the module."""
    number, kind, head_errors = _read_head(body)
    if not number:
        return Outcome(None, "", kind, "refused", [e.as_json() for e in head_errors])
    previous = _PREVIOUS.first(conn, {"p_employer": employer_code, "p_number": number})
    if previous is not None and previous.status == "applied":
        if canonical_json(previous.body) == canonical_json(body):
            return Outcome(
                previous.id,
                number,
                previous.kind,
                "applied",
                [],
                list(previous.flags),
                list(previous.results),
                repeated=True,
            )
        error = _error(
            "declaration_no",
            number,
            "DECLARATION_NO_USED",
            "số hồ sơ này đã được chấp nhận với nội dung khác; dùng số mới",
            "this number was applied with other content; use a new number",
        )
        return Outcome(previous.id, number, previous.kind, "refused", [error.as_json()])
    state = _Applying(conn, employer_code, actor, body)
    errors = head_errors + state.check_employer()
    rows: list[WorkerRow] = []
    if not errors:
        rows, row_errors = state.read(kind)
        errors += row_errors
    now = datetime.now(UTC)
    values = {
        "kind": kind or "increase",
        "body": body,
        "message_id": message_id,
        "channel": channel,
        "decided_at": now,
        "errors": [],
        "flags": [],
        "results": [],
    }
    if previous is None:
        (declaration_id,) = _NEW_DECLARATION.one(
            conn,
            {
                "employer_code": employer_code,
                "declaration_no": number,
                "status": "refused",
                "attempts": 1,
                **values,
            },
        )
    else:
        declaration_id = previous.id
        conn.execute(
            update(EmployerDeclaration)
            .where(EmployerDeclaration.id == declaration_id)
            .values(attempts=EmployerDeclaration.attempts + 1, **values)
        )
    if not errors:
        state.declaration_id = declaration_id
        state.apply(kind, rows)
    status = "refused" if errors else "applied"
    outcome = Outcome(
        declaration_id,
        number,
        kind,
        status,
        [e.as_json() for e in errors],
        state.flags,
        state.results,
    )
    _DECIDE.run(
        conn,
        {
            "p_id": declaration_id,
            "status": status,
            "errors": outcome.errors,
            "flags": outcome.flags,
            "results": outcome.results,
        },
    )
    detail = {
        "declaration_id": declaration_id,
        "declaration_no": number,
        "kind": kind,
        "workers": len(rows),
        "errors": len(errors),
        "channel": channel,
    }
    state.audits.append(
        audit_entry(
            actor=actor,
            action=f"employer.declaration_{status}",
            subject_type="employer",
            subject_id=employer_code,
            purpose="KBDT",
            detail=detail,
        )
    )
    state.events.append(
        outbox_event(
            f"employer.declaration_{status}",
            employer_code,
            {"employer_code": employer_code, **detail},
        )
    )
    write_audits(conn, state.audits)
    write_events(conn, state.events)
    return outcome


class _Applying:
    """One declaration being checked and applied on one connection."""

    def __init__(self, conn: Connection, employer_code: str, actor: str, body: dict[str, Any]):
        self.conn, self.employer_code, self.actor, self.body = conn, employer_code, actor, body
        self.employer: Any = None
        self.declaration_id = 0
        self.flags: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        # read once for all the declaration's workers, by personal ID: the employer's wage
        # runs of each (by start month), and (increases) each one's BHXH codes
        self.runs: dict[str, list[Any]] = {}
        self.codes: dict[str, list[str]] = {}
        # audit entries and outbox events, written together when the declaration is decided
        self.audits: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    # --- checks --------------------------------------------------------------------------

    def check_employer(self) -> list[RowError]:
        self.employer = _EMPLOYER.first(self.conn, {"p_employer": self.employer_code})
        if self.employer is None or self.employer.status != "active":
            return [
                _error(
                    "employer_code",
                    self.employer_code,
                    "EMPLOYER_NOT_ACTIVE",
                    "đơn vị không có trong cơ sở dữ liệu hoặc đã đóng",
                    "employer is unknown or closed",
                )
            ]
        return []

    def read(self, kind: str) -> tuple[list[WorkerRow], list[RowError]]:
        if kind == "register_unit":
            return [], self._check_unit(self.body.get("unit"))
        workers = self.body.get("workers")
        if not isinstance(workers, list) or not 1 <= len(workers) <= MAX_WORKERS:
            return [], [
                _error(
                    "workers",
                    "",
                    "WORKERS_COUNT",
                    f"danh sách lao động phải có từ 1 đến {MAX_WORKERS} dòng",
                    f"workers must be a list of 1 to {MAX_WORKERS} rows",
                )
            ]
        month = self.body.get("month")
        given = {
            str(raw.get("personal_id") or "").strip() for raw in workers if isinstance(raw, dict)
        }
        citizens = people.citizens(self.conn, given - {""})
        rows = [
            read_row(self.conn, kind, n, raw, month if isinstance(month, str) else None, citizens)
            for n, raw in enumerate(workers, start=1)
        ]
        ids = {row.personal_id for row in rows if row.personal_id and not row.errors}
        if ids:
            for run in _RUNS.rows(
                self.conn, {"p_employer": self.employer_code, "p_personal_ids": sorted(ids)}
            ):
                self.runs.setdefault(run.personal_id, []).append(run)
            if kind == "increase":
                self.codes = people.codes_of_each(self.conn, ids)
        seen: set[str] = set()
        for row in rows:
            if row.personal_id and row.personal_id in seen:
                row.error(
                    "personal_id",
                    row.personal_id,
                    "DUPLICATE_IN_DECLARATION",
                    "người lao động xuất hiện hai lần trong cùng hồ sơ",
                    "the worker appears twice in the declaration",
                )
            seen.add(row.personal_id)
            if not row.errors:
                self._check_against_register(row)
        return rows, [e for row in rows for e in row.errors]

    def _check_unit(self, unit: Any) -> list[RowError]:
        if not isinstance(unit, dict) or not unit:
            return [
                _error(
                    "unit",
                    "",
                    "UNIT_MISSING",
                    "thiếu thông tin đơn vị",
                    "the unit's details are missing",
                )
            ]
        errors = []
        for name, value in unit.items():
            if name == "registered_workers":
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    errors.append(
                        _error(
                            name,
                            value,
                            "WORKERS_NUMBER",
                            "số lao động phải là số nguyên không âm",
                            "number of workers must be a whole number, not negative",
                        )
                    )
            elif name in ("address", "phone", "email", "business_line"):
                if not isinstance(value, str) or len(value) > 300:
                    errors.append(
                        _error(
                            name,
                            value,
                            "TEXT_FORMAT",
                            "văn bản tối đa 300 ký tự",
                            "text of at most 300 characters",
                        )
                    )
            else:
                errors.append(
                    _error(name, value, "FIELD_UNKNOWN", "trường không được biết", "unknown field")
                )
        return errors

    def _runs(self, personal_id: str) -> list[Any]:
        """The employer's wage runs of a checked worker, by start month (read by `read`; the
        rows of a declaration are distinct workers, so applying one changes no other's)."""
        return self.runs.get(personal_id, [])

    def _check_against_register(self, row: WorkerRow) -> None:
        runs = self._runs(row.personal_id)
        running = [r for r in runs if r.to_month is None]
        assert row.month is not None or row.kind == "correction"
        if row.kind == "increase":
            assert row.month is not None
            if any(r.to_month is None or r.to_month >= row.month for r in runs):
                row.error(
                    "personal_id",
                    row.personal_id,
                    "WORKER_ALREADY_DECLARED",
                    "người lao động đã được đơn vị khai báo trong tháng này hoặc sau đó",
                    "the worker is already declared by this employer for this month or later",
                )
            codes = self.codes[row.personal_id]
            declared_code = self.body_code(row)
            if declared_code and declared_code not in codes:
                row.error(
                    "bhxh_code",
                    declared_code,
                    "BHXH_CODE_NOT_THEIRS",
                    "mã số BHXH không thuộc người có số định danh này",
                    "the BHXH code does not belong to this personal ID",
                )
            return
        if row.kind == "correction":
            if not runs:
                row.error(
                    "personal_id",
                    row.personal_id,
                    "WORKER_NOT_DECLARED",
                    "đơn vị chưa khai báo người lao động này",
                    "this employer has not declared the worker",
                )
            return
        assert row.month is not None
        if not running:
            row.error(
                "personal_id",
                row.personal_id,
                "WORKER_NOT_DECLARED",
                "người lao động không đang được đơn vị khai báo",
                "the worker is not currently declared by this employer",
            )
            return
        start = running[0].from_month
        if row.kind == "decrease" and row.month <= start:
            row.error(
                "month",
                f"{row.month:%Y-%m}",
                "DECREASE_BEFORE_START",
                f"tháng giảm phải sau tháng bắt đầu {start:%m/%Y}",
                f"the decrease month must be after the start month {start:%Y-%m}",
            )
        if row.kind == "salary_change" and row.month < start:
            row.error(
                "month",
                f"{row.month:%Y-%m}",
                "CHANGE_BEFORE_START",
                f"tháng điều chỉnh lương không được trước tháng {start:%m/%Y}",
                f"the salary change cannot be before {start:%Y-%m}",
            )

    def body_code(self, row: WorkerRow) -> str | None:
        workers = self.body.get("workers") or []
        raw = workers[row.row - 1] if row.row - 1 < len(workers) else {}
        code = raw.get("bhxh_code") if isinstance(raw, dict) else None
        return str(code).strip() if code else None

    # --- applying --------------------------------------------------------------------------

    def apply(self, kind: str, rows: list[WorkerRow]) -> None:
        if kind == "register_unit":
            unit = dict(self.body["unit"])
            self.conn.execute(
                update(models.Employer)
                .where(models.Employer.employer_code == self.employer_code)
                .values(**unit)
            )
            self.results.append({"row": 0, "unit": unit})
            return
        for row in rows:
            getattr(self, f"_{kind}")(row)

    def _event(self, topic: str, row: WorkerRow, code: str, **extra: Any) -> None:
        detail = {
            "employer_code": self.employer_code,
            "bhxh_code": code,
            "declaration_id": self.declaration_id,
            **extra,
        }
        if row.month is not None:
            detail["month"] = f"{row.month:%Y-%m}"
        self.audits.append(
            audit_entry(
                actor=self.actor,
                action=topic,
                subject_type="person",
                subject_id=code,
                purpose="KBDT",
                detail=detail,
            )
        )
        self.events.append(outbox_event(topic, code, detail))

    def _flag(self, row: WorkerRow, rule: str, vi: str, en: str, code: str) -> None:
        flag = {"row": row.row, "rule": rule, "message_vi": vi, "message_en": en, "bhxh_code": code}
        self.flags.append(flag)
        self.conn.execute(
            insert(models.Alert).values(
                kind=rule.lower(),
                province=self.employer.province,
                subject_type="person",
                subject_id=code,
                detail={
                    "employer_code": self.employer_code,
                    "declaration_id": self.declaration_id,
                    **flag,
                },
            )
        )

    def _increase(self, row: WorkerRow) -> None:
        assert row.month is not None and row.wage is not None
        month = row.month
        codes = self.codes[row.personal_id]  # looked up by the check, in this transaction
        # A code issued now is held by no period, card or wage (issue_bhxh_code checks every
        # table in the same statement), so what the register holds under it need not be read.
        new = not codes
        code = self._new_participant(row) if new else codes[0]
        if not new:  # a new person record is written with the employer already
            _PERSON_AT_EMPLOYER.run(
                self.conn, {"p_code": code, "employer_code": self.employer_code}
            )
        _NEW_WAGE.run(
            self.conn,
            {
                "employer_code": self.employer_code,
                "bhxh_code": code,
                "personal_id": row.personal_id,
                "from_month": month,
                "to_month": None,
                "wage": row.wage,
                "contract_type": row.contract_type,
                "full_time": row.full_time,
                "position": row.position,
                "social": "BHXH" in row.schemes,
                "health": "BHYT" in row.schemes,
                "unemployment": "BHTN" in row.schemes,
                "declaration_id": self.declaration_id,
            },
        )
        group = card_group(self.employer.employer_type)
        starting = (
            set()
            if new
            else {
                scheme
                for (scheme,) in _SCHEMES_STARTING.rows(
                    self.conn, {"p_code": code, "p_month": month}
                )
            }
        )
        periods = []
        for scheme in row.schemes:
            if scheme in starting:
                self._flag(
                    row,
                    "PERIOD_EXISTS",
                    f"đã có quá trình {scheme} bắt đầu tháng {month:%m/%Y} ở đơn vị khác",
                    f"a {scheme} period starting {month:%Y-%m} exists at another employer",
                    code,
                )
                continue
            periods.append(
                {
                    "bhxh_code": code,
                    "scheme": scheme,
                    "employer_code": self.employer_code,
                    "participant_type": group,
                    "start_month": month,
                    "end_month": None,
                }
            )
        if periods:
            _NEW_PERIOD.run(self.conn, periods)
        if row.full_time and not new:
            other = _FULL_TIME_ELSEWHERE.first(
                self.conn, {"p_code": code, "p_employer": self.employer_code, "p_month": month}
            )
            if other:
                self._flag(
                    row,
                    "DOUBLE_FULL_TIME",
                    f"người lao động đang được đơn vị {other.employer_code} khai báo "
                    "toàn thời gian trong cùng tháng",
                    f"the worker is declared full-time by {other.employer_code} "
                    "for the same months",
                    code,
                )
        card = self._card(row, code, group, new) if "BHYT" in row.schemes else None
        self.results.append(
            {
                "row": row.row,
                "personal_id": row.personal_id,
                "bhxh_code": code,
                "card_code": card,
                "new_code": new,
            }
        )
        self._event(
            "employment.worker_increased",
            row,
            code,
            wage=row.wage,
            card_code=card,
            new_code=new,
        )

    def _new_participant(self, row: WorkerRow) -> str:
        citizen = row.citizen  # read by the identity check
        assert citizen is not None
        code = issue_bhxh_code(self.conn, row.personal_id, self.employer.province, self.actor)
        now = datetime.now(UTC)
        _NEW_PERSON.run(
            self.conn,
            {
                "record_id": f"KB-{code}",
                "bhxh_code": code,
                "full_name": citizen.full_name,
                "name_base": citizen.name_base,
                "date_of_birth": citizen.date_of_birth,
                "dob_precision": citizen.dob_precision,
                "birth_year": citizen.birth_year,
                "gender": citizen.gender,
                "declared_id": row.personal_id,
                "declared_id_kind": "personal_id",
                "birth_province": citizen.birth_province,
                "address": citizen.permanent_address,
                "employer_code": self.employer_code,
                # checked field by field against nidb's extract of the population database
                "verification_status": "verified",
                "verified_personal_id": row.personal_id,
                "verified_at": now,
            },
        )
        _NEW_LINK.run(
            self.conn,
            {
                "bhxh_code": code,
                "personal_id": row.personal_id,
                "source": "declared",
                "valid_from": now,
                "note": f"issued on declaration {self.declaration_id} of {self.employer_code}",
            },
        )
        return code

    def _card(self, row: WorkerRow, code: str, group: str, new: bool) -> str | None:
        """Issue the worker's card, or renew it when the last one has ended; a card still
        valid in the start month is kept (one person, one card). ``new``: the code was issued
        now, so it has no card yet."""
        assert row.month is not None and row.facility_code
        month = row.month
        cards = [] if new else _CARDS_OF.rows(self.conn, {"p_code": code})
        current = [c for c in cards if c.status == "active" and c.valid_to >= month]
        if current:
            return str(current[-1].card_code)  # the latest valid_from
        earlier = cards[0] if cards else None
        level = BENEFICIARY_GROUPS[group].default_benefit_level
        province = self.employer.province
        card_code = str(HealthCardCode.build(group, level, province, code))
        _NEW_CARD.run(
            self.conn,
            {
                "card_code": card_code,
                "bhxh_code": code,
                "group_code": group,
                "benefit_level": level,
                "province_code": province,
                "facility_code": row.facility_code,
                "valid_from": month,
                "valid_to": date(month.year, 12, 31),
                "five_years_from": earlier.five_years_from if earlier else None,
                "status": "active",
            },
        )
        self.events.append(
            outbox_event(
                "card.issued",
                code,
                {
                    "card_code": card_code,
                    "valid_from": month.isoformat(),
                    "renewal": earlier is not None,
                },
            )
        )
        return card_code

    def _decrease(self, row: WorkerRow) -> None:
        assert row.month is not None and row.reason in DECREASE_REASONS
        month = row.month
        last = _month_before(month)
        (run,) = [r for r in self._runs(row.personal_id) if r.to_month is None]
        code = run.bhxh_code
        self.conn.execute(
            update(DeclaredWage).where(DeclaredWage.id == run.id).values(to_month=last)
        )
        stopped: list[str] = []
        if row.reason != "maternity":  # on maternity leave the fund pays: cover continues
            self.conn.execute(
                update(models.ParticipationPeriod)
                .where(
                    models.ParticipationPeriod.bhxh_code == code,
                    models.ParticipationPeriod.employer_code == self.employer_code,
                    models.ParticipationPeriod.end_month.is_(None),
                )
                .values(end_month=last)
            )
            stopped = self._stop_cards(code, month, row.reason == "death")
        self.results.append(
            {
                "row": row.row,
                "personal_id": row.personal_id,
                "bhxh_code": code,
                "stopped_cards": stopped,
            }
        )
        self._event(
            "employment.worker_decreased", row, code, reason=row.reason, stopped_cards=stopped
        )

    def _stop_cards(self, code: str, month: date, death: bool) -> list[str]:
        cards = list(
            self.conn.execute(
                select(_CARDS.c.id, _CARDS.c.card_code, _CARDS.c.valid_from).where(
                    _CARDS.c.bhxh_code == code,
                    _CARDS.c.status == "active",
                    _CARDS.c.valid_to >= month,
                    _CARDS.c.card_code.like(card_group(self.employer.employer_type) + "%"),
                )
            )
        )
        for card in cards:
            values: dict[str, Any] = (
                {"status": "revoked"}
                if card.valid_from >= month or death
                else {"valid_to": month - timedelta(days=1)}
            )
            self.conn.execute(
                update(models.HealthCard).where(models.HealthCard.id == card.id).values(**values)
            )
            self.events.append(
                outbox_event(
                    "card.stopped", code, {"card_code": card.card_code, "from": month.isoformat()}
                )
            )
        return [str(c.card_code) for c in cards]

    def _salary_change(self, row: WorkerRow) -> None:
        assert row.month is not None and row.wage is not None
        (run,) = [r for r in self._runs(row.personal_id) if r.to_month is None]
        if run.from_month == row.month:  # the run starts this month: its salary is corrected
            self.conn.execute(
                update(DeclaredWage)
                .where(DeclaredWage.id == run.id)
                .values(
                    wage=row.wage,
                    position=row.position or run.position,
                    declaration_id=self.declaration_id,
                )
            )
        else:  # split: the old salary up to the month before, the new one from the month
            self.conn.execute(
                update(DeclaredWage)
                .where(DeclaredWage.id == run.id)
                .values(to_month=_month_before(row.month))
            )
            self.conn.execute(
                insert(DeclaredWage).values(
                    employer_code=self.employer_code,
                    bhxh_code=run.bhxh_code,
                    personal_id=row.personal_id,
                    from_month=row.month,
                    to_month=None,
                    wage=row.wage,
                    contract_type=run.contract_type,
                    full_time=run.full_time,
                    position=row.position or run.position,
                    social=run.social,
                    health=run.health,
                    unemployment=run.unemployment,
                    declaration_id=self.declaration_id,
                )
            )
        self.results.append(
            {
                "row": row.row,
                "personal_id": row.personal_id,
                "bhxh_code": run.bhxh_code,
                "wage": row.wage,
            }
        )
        self._event(
            "employment.salary_changed", row, run.bhxh_code, wage=row.wage, previous_wage=run.wage
        )

    def _correction(self, row: WorkerRow) -> None:
        code = self._runs(row.personal_id)[-1].bhxh_code
        citizen = row.citizen  # read by the identity check
        assert citizen is not None
        values: dict[str, Any] = {}
        if row.full_name:
            values.update(full_name=citizen.full_name, name_base=citizen.name_base)
        if row.date_of_birth:
            values.update(
                date_of_birth=citizen.date_of_birth,
                dob_precision=citizen.dob_precision,
                birth_year=citizen.birth_year,
            )
        self.conn.execute(
            update(models.Person)
            .where(
                and_(
                    models.Person.bhxh_code == code,
                    or_(
                        models.Person.declared_id == row.personal_id,
                        people.verified_as(row.personal_id),
                    ),
                )
            )
            .values(**values)
        )
        self.results.append(
            {
                "row": row.row,
                "personal_id": row.personal_id,
                "bhxh_code": code,
                "corrected": sorted(values),
            }
        )
        self._event("employment.worker_corrected", row, code, fields=sorted(values))
