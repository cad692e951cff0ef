"""Citizens' requests to correct their record (yêu cầu điều chỉnh thông tin), with evidence.

The portal validates every field with the domain rules (a personal ID must be a valid
12-digit ID, a birth date a real past date, a name Vietnamese letters only); free text may not
contain markup. A request and its evidence file are written in one transaction with the audit
entry, so a failure leaves nothing behind. Staff decide them in the console.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from nidb.domain.dates import parse_birth_date
from nidb.domain.display import gender_label, vn_partial_date
from nidb.domain.errors import DomainError
from nidb.domain.gender import parse_gender
from nidb.domain.identifiers import PersonalId
from nidb.domain.names import name_forms, normalize_name
from nidb.domain.text import control_character
from nidb.store import people
from nidb.store.audit import write_audit, write_event
from nidb.store.models import Person
from nidb.store.models_web import CorrectionEvidence, CorrectionRequest
from nidb.store.tables import table_of
from nidb.web.templating import env
from nidb.web.uploads import Evidence

MARKUP = re.compile(r"[<>]")
STATUS_LABELS = {
    "submitted": ("Đã tiếp nhận", "warn"),
    "in_review": ("Đang xử lý", "warn"),
    "accepted": ("Đã chấp thuận", "ok"),
    "rejected": ("Không chấp thuận", "bad"),
}


def _name(raw: str) -> str:
    return normalize_name(raw, field="new_value")


def _birth_date(raw: str) -> str:
    return parse_birth_date(raw, field="new_value").iso()


def _gender(raw: str) -> str:
    found = parse_gender(raw, field="new_value")
    if found is None:
        raise ValueError("Vui lòng nhập giới tính (Nam hoặc Nữ).")
    return str(found.value)


def _personal_id(raw: str) -> str:
    return str(PersonalId.parse(raw, field="new_value"))


def _free_text(raw: str) -> str:
    text = " ".join(raw.split())
    if not text:
        raise ValueError("Vui lòng nhập giá trị mới.")
    if len(text) > 200:
        raise ValueError("Giá trị mới dài tối đa 200 ký tự.")
    if MARKUP.search(text) or control_character(text) is not None:
        raise ValueError("Giá trị mới không được chứa ký tự < hoặc > hay ký tự điều khiển.")
    return text


@dataclass(frozen=True)
class CorrectableField:
    """A field a citizen may ask to correct, how to read its new value, and a hint."""

    key: str
    label_vi: str
    parse: Callable[[str], str]
    hint_vi: str


FIELDS: dict[str, CorrectableField] = {
    f.key: f
    for f in (
        CorrectableField("full_name", "Họ và tên", _name, "Ví dụ: Nguyễn Văn An"),
        CorrectableField(
            "date_of_birth", "Ngày sinh", _birth_date, "Dạng DD/MM/YYYY, ví dụ 17/03/1985"
        ),
        CorrectableField("gender", "Giới tính", _gender, "Nam hoặc Nữ"),
        CorrectableField(
            "personal_id", "Số định danh cá nhân", _personal_id, "12 chữ số trên thẻ CCCD"
        ),
        CorrectableField(
            "address", "Địa chỉ liên hệ", _free_text, "Số nhà, đường, phường/xã, tỉnh"
        ),
    )
}


def shown(value: str | None, field: str) -> str:
    """A stored value as people read it: a birth date ``17/03/1985``, a gender ``Nam``/``Nữ``,
    anything else as written; ``—`` when the register holds nothing (a Jinja filter,
    ``value|correction_value(field)``)."""
    if not value:
        return "—"
    if field == "date_of_birth":
        return vn_partial_date(value)
    if field == "gender":
        return gender_label(value) or value
    return value


env.filters["correction_value"] = shown


def _date_message(error: DomainError) -> str:
    messages = {
        "DATE_FUTURE": "Ngày sinh không được ở tương lai.",
        "DATE_FORMAT": "Ngày sinh phải có dạng DD/MM/YYYY (ví dụ 17/03/1985).",
        "DATE_IMPOSSIBLE": "Ngày sinh không tồn tại trong lịch.",
        "DATE_TOO_OLD": "Ngày sinh quá xa (trước năm 1880).",
        "PERSONAL_ID_FORMAT": "Số định danh cá nhân phải gồm đúng 12 chữ số.",
    }
    return messages.get(str(error.rule), error.message_vi[:1].upper() + error.message_vi[1:] + ".")


def validate(field: str, new_value: str, reason: str) -> tuple[dict[str, str], dict[str, str]]:
    """Cleaned values and Vietnamese errors by form field (``field``, ``new_value``, ``reason``)."""
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    spec = FIELDS.get(field)
    if spec is None:
        errors["field"] = "Vui lòng chọn thông tin cần điều chỉnh."
    elif not new_value.strip():
        errors["new_value"] = "Vui lòng nhập giá trị mới."
    elif len(new_value) > 400:
        errors["new_value"] = "Giá trị mới quá dài."
    else:
        try:
            clean["new_value"] = spec.parse(new_value.strip())
        except DomainError as error:
            errors["new_value"] = _date_message(error)
        except ValueError as error:
            errors["new_value"] = str(error)
    text = reason.strip()
    if len(text) < 10:
        errors["reason"] = "Vui lòng nêu lý do (ít nhất 10 ký tự)."
    elif len(text) > 1000:
        errors["reason"] = "Lý do dài tối đa 1000 ký tự."
    elif MARKUP.search(text) or control_character(text, multiline=True):
        errors["reason"] = "Lý do không được chứa ký tự < hoặc > hay ký tự điều khiển."
    else:
        clean["reason"] = text
    return clean, errors


def submit(
    engine: Engine,
    personal_id: str,
    field: str,
    current_value: str | None,
    new_value: str,
    reason: str,
    evidence: Evidence,
) -> int:
    """Store a validated request with its evidence, audited, in one transaction."""
    with engine.begin() as conn:
        request_id = conn.execute(
            insert(CorrectionRequest).values(
                personal_id=personal_id,
                field=field,
                current_value=(current_value or "")[:200] or None,
                new_value=new_value,
                reason=reason,
                status="submitted",
            )
        ).inserted_primary_key
        assert request_id is not None
        request_id = request_id[0]
        conn.execute(
            insert(CorrectionEvidence).values(
                request_id=request_id,
                filename=evidence.filename,
                content_type=evidence.content_type,
                size_bytes=evidence.size,
                sha256=evidence.sha256,
                content=evidence.content,
            )
        )
        write_audit(
            conn,
            actor=f"citizen:{personal_id}",
            action="citizen.correction_request",
            subject_type="citizen",
            subject_id=personal_id,
            purpose=None,
            detail={"request_id": request_id, "field": field, "evidence_sha256": evidence.sha256},
        )
    return int(request_id)


def requests_of(engine: Engine, personal_id: str) -> list[Any]:
    """A citizen's requests, newest first, with their evidence file's name and size."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    CorrectionRequest.id,
                    CorrectionRequest.field,
                    CorrectionRequest.current_value,
                    CorrectionRequest.new_value,
                    CorrectionRequest.reason,
                    CorrectionRequest.status,
                    CorrectionRequest.created_at,
                    CorrectionRequest.decided_at,
                    CorrectionRequest.decision_note,
                    CorrectionEvidence.filename,
                    CorrectionEvidence.size_bytes,
                )
                .join(
                    CorrectionEvidence,
                    CorrectionEvidence.request_id == CorrectionRequest.id,
                    isouter=True,
                )
                .where(CorrectionRequest.personal_id == personal_id)
                .order_by(CorrectionRequest.id.desc())
            ).all()
        )


TRANSITIONS = {
    "submitted": {"in_review", "accepted", "rejected"},
    "in_review": {"accepted", "rejected"},
}


class DecisionError(ValueError):
    """A decision the request's state does not allow (Vietnamese first)."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


class AlreadyDecided(DecisionError):
    """Someone decided the request first (or it is in a state this decision cannot leave)."""


@dataclass(frozen=True)
class Decision:
    """A decided request and, when accepted, each register value it changed."""

    request_id: int
    status: str
    applied: tuple[dict[str, Any], ...]


APPLIED_FIELDS = ("full_name", "date_of_birth", "gender", "address")
"""Accepting a request for one of these writes the new value onto every record verified as
the citizen. A personal ID is the population database's key, not nidb's: accepting such a
request records the decision, and the ID changes through verification against that database."""


def _register_values(field: str, new_value: str) -> dict[str, Any]:
    """The ``persons`` columns a corrected field sets (derived forms included)."""
    if field == "full_name":
        forms = name_forms(new_value)
        return {"full_name": forms.exact, "name_base": forms.base}
    if field == "date_of_birth":
        born = parse_birth_date(new_value)
        return {
            "date_of_birth": born.iso(),
            "dob_precision": born.precision.value,
            "birth_year": born.year,
        }
    if field in ("gender", "address"):
        return {field: new_value}
    return {}


def _apply(
    conn: Connection, personal_id: str, field: str, new_value: str
) -> tuple[dict[str, Any], ...]:
    """Write an accepted correction onto the citizen's records; what changed, old → new."""
    values = _register_values(field, new_value)
    if not values:
        return ()
    persons = table_of(Person)
    records = conn.execute(
        select(persons.c.record_id, *(persons.c[c] for c in values))
        .where(people.verified_as(personal_id))
        .order_by(persons.c.record_id)
    ).all()
    applied: list[dict[str, Any]] = []
    for record in records:
        changed = {c: v for c, v in values.items() if record._mapping[c] != v}
        if not changed:
            continue
        conn.execute(
            update(persons).where(persons.c.record_id == record.record_id).values(**changed)
        )
        applied.extend(
            {"record_id": record.record_id, "column": c, "before": record._mapping[c], "after": v}
            for c, v in changed.items()
        )
    return tuple(applied)


def decide(
    engine: Engine, request_id: int, status: str, *, actor: str, note: str | None = None
) -> Decision:
    """Move a request to ``status`` (in_review, accepted, rejected): the one way requests are
    decided, by the console and by tests alike.

    Accepting a name, birth date, gender or address writes it onto every record verified as
    the citizen. The state change (guarded, so two staff deciding at once decide it once), the
    register change, the audit entry with every value before and after, and the
    ``correction.decided`` event are one transaction. Raises DecisionError (bad note, no such
    request) or AlreadyDecided; then nothing is written.
    """
    if note is not None and (
        len(note) > 1000 or MARKUP.search(note) or control_character(note, multiline=True)
    ):
        raise DecisionError("Ghi chú không hợp lệ (tối đa 1000 ký tự, không có < >).", "bad note")
    note = (note or "").strip() or None
    final = status in ("accepted", "rejected")
    with engine.begin() as conn:
        row = conn.execute(
            select(
                CorrectionRequest.status,
                CorrectionRequest.personal_id,
                CorrectionRequest.field,
                CorrectionRequest.new_value,
                CorrectionRequest.decided_by,
            ).where(CorrectionRequest.id == request_id)
        ).one_or_none()
        if row is None:
            raise DecisionError(f"Không có yêu cầu số {request_id}.", f"no request {request_id}")
        moved = 0
        if status in TRANSITIONS.get(row.status, set()):
            moved = conn.execute(
                update(CorrectionRequest)
                .where(CorrectionRequest.id == request_id, CorrectionRequest.status == row.status)
                .values(
                    status=status,
                    decided_by=actor if final else None,
                    decided_at=func.now() if final else None,
                    decision_note=note,
                )
            ).rowcount
        if moved != 1:
            fresh = conn.execute(
                select(CorrectionRequest.status, CorrectionRequest.decided_by).where(
                    CorrectionRequest.id == request_id
                )
            ).one()
            label = STATUS_LABELS[fresh.status][0].lower()
            if fresh.decided_by:
                said = f"đã được quyết định trước đó ({label}, bởi {fresh.decided_by})"
            else:
                said = f"đang ở trạng thái {label}, không thể chuyển"
            raise AlreadyDecided(
                f"Yêu cầu số {request_id} {said}. Không có thay đổi nào được ghi.",
                f"request {request_id} is {fresh.status}; cannot go to {status}",
            )
        applied = (
            _apply(conn, row.personal_id, row.field, row.new_value) if status == "accepted" else ()
        )
        detail = {
            "request_id": request_id,
            "from": row.status,
            "field": row.field,
            "note": note,
            "applied": list(applied),
        }
        write_audit(
            conn,
            actor=actor,
            action=f"correction.{status}",
            subject_type="citizen",
            subject_id=row.personal_id,
            purpose="GQCD",
            detail=detail,
        )
        if final:
            write_event(
                conn,
                "correction.decided",
                f"person:{row.personal_id}",
                {
                    "request_id": request_id,
                    "personal_id": row.personal_id,
                    "field": row.field,
                    "new_value": row.new_value,
                    "decision": status,
                    "applied": list(applied),
                },
            )
    return Decision(request_id, status, applied)
