"""Claims a citizen files: one-time social insurance and unemployment benefit.

Submission validates the form (FormInvalid, nothing written), finds the person's BHXH codes
(NotEligible when there are none: nothing to check against), runs the eligibility checks
against contributions and benefits, and stores the dossier with every check and the proposed
amount, so that staff see why. A claim whose checks fail is still filed — the citizen has the
right to a decision — but it can only be refused (``decisions.decide``).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert

from nidb.domain.gender import Gender
from nidb.domain.identifiers import PersonalId
from nidb.services import register, rules
from nidb.services.errors import FormInvalid, NotEligible
from nidb.services.forms import (
    Upload,
    check_bank_account,
    check_past_date,
    check_personal_id,
    check_text,
)
from nidb.services.views import DossierView, read_dossier
from nidb.services.workdays import add_months, today_vn
from nidb.services.workflow import notify, open_dossier
from nidb.store import people
from nidb.store.models_services import DossierFile

__all__ = [
    "ONE_TIME_GROUNDS",
    "retirement_age_months",
    "submit_one_time_claim",
    "submit_unemployment_claim",
]

ONE_TIME_GROUNDS = {
    "no_contribution_12_months": "Sau 12 tháng nghỉ việc không tiếp tục đóng BHXH, chưa đủ 20 năm đóng",
    "retirement_age_under_20_years": "Đủ tuổi nghỉ hưu nhưng chưa đủ 20 năm đóng BHXH",
    "emigrating": "Ra nước ngoài để định cư",
    "serious_illness": "Mắc bệnh nguy hiểm đến tính mạng",
}
_NEEDS_PAPER = {"emigrating", "serious_illness"}
TWENTY_YEARS = 240
PENSION_KINDS = ("pension",)


def retirement_age_months(gender: Gender, year: int) -> int:
    """Normal retirement age in months (Labour Code 2019 Art. 169; Decree 135/2020 roadmap):
    men 60y3m in 2021 + 3 months a year up to 62 (2028); women 55y4m + 4 months up to 60 (2035)."""
    steps = max(0, year - 2021)
    if gender is Gender.MALE:
        return min(60 * 12 + 3 + 3 * steps, 62 * 12)
    return min(55 * 12 + 4 + 4 * steps, 60 * 12)


def _check(code: str, ok: bool, vi: str) -> dict[str, Any]:
    return {"code": code, "ok": bool(ok), "message_vi": vi}


def _codes_or_refuse(conn: Connection, pid: str) -> list[str]:
    codes = people.codes_of(conn, pid, include_open_links=True)
    if not codes:
        raise NotEligible(
            "personal_id",
            pid,
            "NO_BHXH_CODE",
            "không tìm thấy mã số BHXH gắn với số định danh này",
            "no BHXH code is linked to this personal ID",
        )
    return codes


def _attach(conn: Connection, dossier_id: int, upload: Upload | None) -> None:
    if upload is None:
        return
    conn.execute(
        insert(DossierFile).values(
            dossier_id=dossier_id,
            filename=upload.filename,
            content_type=upload.content_type,
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
            content=upload.content,
        )
    )


def _months_ago(day: date, months: int) -> date:
    return add_months(day.replace(day=1), -months)


def _file_claim(
    conn: Connection,
    kind: str,
    title_vi: str,
    pid: str,
    codes: list[str],
    actor: str | None,
    attachment: Upload | None,
    checks: list[dict[str, Any]],
    data: dict[str, Any],
    source_ref: str | None = None,
) -> DossierView:
    """Open a citizen's claim dossier in ``submitted`` with its checks, attach the evidence and
    tell the citizen it was received (in the caller's transaction)."""
    dossier_id = open_dossier(
        conn,
        kind=kind,
        state="submitted",
        actor=actor or f"citizen:{pid}",
        applicant_personal_id=pid,
        applicant_bhxh_code=codes[0],
        subject_personal_id=pid,
        province=register.province_for(conn, pid, codes),
        data=data,
        checks=checks,
        source_ref=source_ref,
        note="tiếp nhận hồ sơ trực tuyến",
    )
    _attach(conn, dossier_id, attachment)
    notify(conn, pid, f"Đã tiếp nhận hồ sơ {title_vi} số {dossier_id}.", dossier_id)
    return read_dossier(conn, dossier_id)


def submit_one_time_claim(
    engine: Engine,
    personal_id: str,
    ground: str,
    bank_account: str,
    *,
    attachment: Upload | None = None,
    note: str | None = None,
    actor: str | None = None,
    today: date | None = None,
    source_ref: str | None = None,
) -> DossierView:
    """File a one-time SI claim (hưởng BHXH một lần) with its checks and proposed amount."""
    pid = check_personal_id(personal_id)
    if ground not in ONE_TIME_GROUNDS:
        raise FormInvalid(
            "ground", ground, "GROUND_UNKNOWN", "căn cứ hưởng không hợp lệ", "unknown ground"
        )
    account = check_bank_account(bank_account)
    note_text = check_text(note, "note", max_length=1000)
    if ground in _NEEDS_PAPER and attachment is None:
        raise FormInvalid(
            "attachment",
            None,
            "ATTACHMENT_REQUIRED",
            "căn cứ này cần giấy tờ kèm theo (PDF, JPEG hoặc PNG)",
            "this ground needs a supporting document (PDF, JPEG or PNG)",
        )
    today = today or today_vn()
    with engine.begin() as conn:
        codes = _codes_or_refuse(conn, pid)
        after = register.last_benefit_start(conn, codes, ("one_time",))
        wages = register.contribution_wages(conn, codes, "BHXH", after)
        months = len(wages)
        last = max(wages) if wages else None
        found = rules.one_time_amount(wages)
        checks = [
            _check("HAS_CONTRIBUTIONS", months > 0, f"{months} tháng đóng BHXH chưa hưởng một lần"),
            _check(
                "NO_PENSION",
                not register.has_active_benefit(conn, codes, PENSION_KINDS),
                "không đang hưởng lương hưu",
            ),
        ]
        if ground in ("no_contribution_12_months", "retirement_age_under_20_years"):
            checks.append(
                _check(
                    "UNDER_20_YEARS", months < TWENTY_YEARS, f"{months} tháng < 20 năm (240 tháng)"
                )
            )
        if ground == "no_contribution_12_months":
            gap_ok = last is not None and last <= _months_ago(today, 12)
            checks.append(
                _check(
                    "GAP_12_MONTHS",
                    gap_ok,
                    f"tháng đóng cuối {last:%m/%Y}" if last else "chưa có tháng đóng nào",
                )
            )
        if ground == "retirement_age_under_20_years":
            identifier = PersonalId.parse(pid)
            person = register.citizen(conn, pid)
            born = (
                date.fromisoformat(person.date_of_birth[:10])
                if person and len(person.date_of_birth) == 10
                else date(identifier.birth_year, 12, 31)
            )
            age_months = (
                (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
            )
            need = retirement_age_months(identifier.gender, today.year)
            checks.append(
                _check(
                    "RETIREMENT_AGE",
                    age_months >= need,
                    f"tuổi {age_months // 12} năm {age_months % 12} tháng; cần {need // 12} năm {need % 12} tháng",
                )
            )
        return _file_claim(
            conn,
            "one_time_si",
            "hưởng BHXH một lần",
            pid,
            codes,
            actor,
            attachment,
            checks,
            {
                "ground": ground,
                "ground_vi": ONE_TIME_GROUNDS[ground],
                "bank_account": account,
                "note": note_text,
                "months": months,
                "average_wage": found.average_wage,
                "amount": found.amount,
                "explanation_vi": found.explanation_vi,
            },
            source_ref,
        )


def submit_unemployment_claim(
    engine: Engine,
    personal_id: str,
    termination_date: str,
    bank_account: str,
    *,
    attachment: Upload | None = None,
    note: str | None = None,
    actor: str | None = None,
    today: date | None = None,
    source_ref: str | None = None,
) -> DossierView:
    """File an unemployment-benefit claim (trợ cấp thất nghiệp) with checks and amount."""
    pid = check_personal_id(personal_id)
    today = today or today_vn()
    ended = check_past_date(termination_date, "termination_date", today=today)
    account = check_bank_account(bank_account)
    note_text = check_text(note, "note", max_length=1000)
    with engine.begin() as conn:
        codes = _codes_or_refuse(conn, pid)
        after = register.last_benefit_start(conn, codes, ("unemployment",))
        wages = register.contribution_wages(conn, codes, "BHTN", after)
        ended_month = ended.replace(day=1)
        before_end = {m: w for m, w in wages.items() if m <= ended_month}
        window_start = _months_ago(ended, 23)
        in_window = [m for m in before_end if m >= window_start]
        worked_after = [m for m in wages if m > ended_month]
        last_six = [before_end[m] for m in sorted(before_end)[-6:]]
        found = rules.unemployment_amount(last_six, len(before_end))
        checks = [
            _check(
                "12_OF_24_MONTHS",
                len(in_window) >= 12,
                f"{len(in_window)} tháng đóng BHTN trong 24 tháng trước khi nghỉ việc",
            ),
            _check(
                "FILED_WITHIN_3_MONTHS",
                today <= add_months(ended, 3),
                f"nghỉ việc ngày {ended:%d/%m/%Y}; hạn nộp {add_months(ended, 3):%d/%m/%Y}",
            ),
            _check("NOT_WORKING", not worked_after, "không có tháng đóng BHTN sau khi nghỉ việc"),
            _check(
                "NO_PENSION",
                not register.has_active_benefit(conn, codes, PENSION_KINDS),
                "không đang hưởng lương hưu",
            ),
        ]
        start = today + timedelta(days=15)  # Art. 50.3: from the 16th day after filing
        return _file_claim(
            conn,
            "unemployment",
            "hưởng trợ cấp thất nghiệp",
            pid,
            codes,
            actor,
            attachment,
            checks,
            {
                "termination_date": ended.isoformat(),
                "bank_account": account,
                "note": note_text,
                "months": found.months_contributed,
                "average_wage": found.average_wage,
                "monthly_amount": found.monthly,
                "duration_months": found.duration_months,
                "start_date": start.isoformat(),
                "explanation_vi": found.explanation_vi,
            },
            source_ref,
        )
