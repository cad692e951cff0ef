"""Death → residence removal → funeral allowance and survivors' benefit (Decree 63/2024/NĐ-CP).

Called by the population follower (through ``triggers.on_death``) in the transaction that
applies the death: the contribution history decides; the funeral allowance (10 × base salary,
Law on SI 2014 Art. 66) is granted at once to the next of kin — the oldest living adult of the
household in the population data; the survivors' benefit (Art. 67–70) is proposed for an
approver: monthly when the person had 15 years of contributions or a pension and leaves
children under 18, else a lump sum.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, select

from nidb.services import register, rules
from nidb.services.benefits import record_benefit
from nidb.services.rules import vnd
from nidb.services.workdays import add_months
from nidb.services.workflow import DOSSIERS, notify, open_dossier
from nidb.store import models

__all__ = ["grant_survivors", "on_death"]

ACTOR = "feed:population"
ADULT_YEARS = 18


def _exists(conn: Connection, source_ref: str) -> bool:
    return (
        conn.execute(select(DOSSIERS.c.id).where(DOSSIERS.c.source_ref == source_ref)).first()
        is not None
    )


def _age(born_text: str, on: date) -> int:
    try:
        born = (
            date.fromisoformat(born_text)
            if len(born_text) == 10
            else date(int(born_text[:4]), 1, 1)
        )
    except ValueError:
        return 0
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _household(conn: Connection, personal_id: str, died: date) -> tuple[str | None, int]:
    """Next of kin (the oldest living adult of the household) and dependants under 18."""
    person = register.citizen(conn, personal_id)
    if person is None or not person.household_id:
        return None, 0
    members = conn.execute(
        select(models.Citizen.personal_id, models.Citizen.date_of_birth).where(
            models.Citizen.household_id == person.household_id,
            models.Citizen.personal_id != personal_id,
            models.Citizen.status != "dead",
        )
    ).all()
    ages = sorted(((_age(m.date_of_birth, died), m.personal_id) for m in members), reverse=True)
    adults = [pid for age, pid in ages if age >= ADULT_YEARS]
    minors = sum(1 for age, _ in ages if age < ADULT_YEARS)
    return (adults[0] if adults else (ages[0][1] if ages else None)), minors


def on_death(
    conn: Connection, seq: int, personal_id: str, died: date, codes: list[str]
) -> int | None:
    """A death with insurance history: funeral allowance now, survivors' benefit proposed."""
    source_ref = f"population:death:{personal_id}"
    if not codes or _exists(conn, source_ref):
        return None
    after = register.last_benefit_start(conn, codes, ("one_time",))
    wages = register.contribution_wages(conn, codes, "BHXH", after)
    b = models.Benefit
    pensioner = (
        conn.execute(
            select(b.id)
            .where(b.bhxh_code.in_(codes), b.kind == "pension", b.start_date <= died)
            .limit(1)
        ).first()
        is not None
    )
    next_of_kin, dependants = _household(conn, personal_id, died)
    months = len(wages)
    funeral_ok = months >= 12 or pensioner
    checks = [
        {
            "code": "RESIDENCE_REMOVED",
            "ok": True,
            "message_vi": "CSDL dân cư đã xóa đăng ký thường trú khi khai tử",
        },
        {
            "code": "FUNERAL_ELIGIBLE",
            "ok": funeral_ok,
            "message_vi": f"{months} tháng đóng BHXH{', đang hưởng lương hưu' if pensioner else ''}",
        },
        {
            "code": "NEXT_OF_KIN",
            "ok": next_of_kin is not None,
            "message_vi": f"thân nhân nhận: {next_of_kin or 'chưa xác định'}",
        },
    ]
    data: dict[str, Any] = {
        "death_date": died.isoformat(),
        "months": months,
        "pensioner": pensioner,
        "next_of_kin": next_of_kin,
        "feed_seq": seq,
    }
    if funeral_ok:
        amount = rules.funeral_allowance(died)
        data["funeral"] = {
            "amount": amount,
            "benefit_id": record_benefit(
                conn, codes[0], "funeral", died, lump_sum=amount, status="ended"
            ),
        }
    start = add_months(died.replace(day=1), 1)
    if (months >= 180 or pensioner) and dependants > 0:
        data["survivors"] = {
            "kind": "survivor",
            "monthly_amount": rules.survivors_monthly(dependants, died),
            "dependants": dependants,
            "start_date": start.isoformat(),
        }
    elif months > 0:
        found = rules.survivors_lump_sum(wages)
        data["survivors"] = {
            "kind": "survivor_lump",
            "lump_sum": found.amount,
            "start_date": start.isoformat(),
            "explanation_vi": found.explanation_vi,
        }
    state = "awaiting_approval" if "survivors" in data else "completed"
    dossier_id = open_dossier(
        conn,
        kind="death_benefits",
        state=state,
        actor=ACTOR,
        applicant_personal_id=next_of_kin,
        applicant_bhxh_code=codes[0],
        subject_personal_id=personal_id,
        province=register.province_for(conn, personal_id, codes),
        data=data,
        checks=checks,
        source_ref=source_ref,
        note="khai tử từ CSDL dân cư",
    )
    if next_of_kin:
        parts = []
        if funeral_ok:
            parts.append(f"trợ cấp mai táng {vnd(data['funeral']['amount'])} đã được giải quyết")
        if "survivors" in data:
            parts.append("trợ cấp tuất đang chờ phê duyệt")
        notify(
            conn,
            next_of_kin,
            f"Hồ sơ tử tuất số {dossier_id}: "
            + ("; ".join(parts) or "không đủ điều kiện hưởng")
            + ".",
            dossier_id,
        )
    return dossier_id


def grant_survivors(conn: Connection, dossier: Row[Any]) -> tuple[str, dict[str, Any]]:
    """Approve the proposed survivors' benefit: its benefit row, and the message."""
    proposal = dossier.data["survivors"]
    start = date.fromisoformat(proposal["start_date"])
    if proposal["kind"] == "survivor":
        benefit = record_benefit(
            conn,
            dossier.applicant_bhxh_code,
            "survivor",
            start,
            monthly_amount=int(proposal["monthly_amount"]),
            status="active",
        )
        text = f"Trợ cấp tuất hằng tháng {vnd(int(proposal['monthly_amount']))} từ {start:%d/%m/%Y} đã được duyệt."
    else:
        benefit = record_benefit(
            conn,
            dossier.applicant_bhxh_code,
            "survivor_lump",
            start,
            lump_sum=int(proposal["lump_sum"]),
            status="ended",
        )
        text = f"Trợ cấp tuất một lần {vnd(int(proposal['lump_sum']))} đã được duyệt."
    return f"Hồ sơ số {dossier.id}: {text}", {"benefit_id": benefit}
