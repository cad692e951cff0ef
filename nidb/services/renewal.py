"""Household health-insurance renewal (gia hạn thẻ BHYT hộ gia đình), with e-payment.

Submission checks each member against the register — the person exists and is alive, is
verified against the population database, lives in the applicant's household, and is not
covered by another group — and prices the renewal by the reducing scale (Decree 146/2018
Art. 7, ``nidb.domain.catalogues.household_premium``: members in the order given). The dossier
then waits for payment (``payments``); the paid callback issues the new cards:

- a member whose household card is still valid (or ended yesterday) gets a card from the day
  after it ends, so coverage is continuous;
- a member without one (a lapse, or first time in the household scheme) gets a card valid 30
  days after the payment (Law on Health Insurance, Art. 16.3 as amended in 2014).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select, text

from nidb.domain.catalogues import household_premium
from nidb.domain.identifiers import HealthCardCode
from nidb.services import register
from nidb.services.errors import FormInvalid, NotEligible
from nidb.services.forms import check_personal_id
from nidb.services.rules import vnd
from nidb.services.views import DossierView, read_dossier
from nidb.services.workdays import add_months, today_vn
from nidb.services.workflow import DOSSIERS, notify, open_dossier
from nidb.store import models, people

__all__ = ["ALLOWED_MONTHS", "issue_renewal_cards", "submit_renewal"]

ALLOWED_MONTHS = (3, 6, 12)  # Law on HI Art. 15 (as amended): 3, 6 or 12 months at a time
MAX_MEMBERS = 20
HOUSEHOLD_GROUP = "GD"
FIRST_TIME_WAIT_DAYS = 30


def _not_eligible(index: int, pid: str, rule: str, vi: str, en: str) -> NotEligible:
    return NotEligible(
        f"members[{index}]", pid, rule, f"thành viên {pid}: {vi}", f"member {pid}: {en}"
    )


def _member(conn: Connection, index: int, pid: str, household: str, today: date) -> dict[str, Any]:
    person = register.citizen(conn, pid)
    if person is None:
        raise _not_eligible(
            index, pid, "PERSON_UNKNOWN", "không có trong CSDL dân cư", "not in the population data"
        )
    if person.status == "dead" or person.death_date is not None:
        raise _not_eligible(index, pid, "PERSON_DEAD", "đã được khai tử", "recorded as dead")
    if person.household_id != household:
        raise _not_eligible(
            index,
            pid,
            "NOT_IN_HOUSEHOLD",
            "không cùng hộ gia đình với người nộp",
            "not in the applicant's household",
        )
    codes = people.codes_of(conn, pid, include_open_links=True)
    if not codes or not people.is_verified(conn, pid):
        raise _not_eligible(
            index,
            pid,
            "NOT_VERIFIED",
            "chưa có mã số BHXH đã xác thực với CSDL dân cư",
            "no BHXH code verified against the population database",
        )
    cards = register.current_cards(conn, codes, today)
    other = [c for c in cards if c.group_code != HOUSEHOLD_GROUP]
    if other:
        card = other[0]
        raise _not_eligible(
            index,
            pid,
            "COVERED_ELSEWHERE",
            f"đang có thẻ BHYT nhóm {card.group_code} còn hạn đến {card.valid_to:%d/%m/%Y}",
            f"already covered by a {card.group_code} card until {card.valid_to}",
        )
    household_cards = [c for c in cards if c.group_code == HOUSEHOLD_GROUP]
    latest = register.latest_card(conn, codes)
    province = (
        latest.province_code if latest is not None else register.province_for(conn, pid, codes)
    )
    return {
        "personal_id": pid,
        "bhxh_code": codes[0],
        "full_name": person.full_name,
        "current_card_to": household_cards[0].valid_to.isoformat() if household_cards else None,
        "card_province": province,
        "facility": latest.facility_code if latest is not None else f"{province}000",
    }


def _open_renewal_for(conn: Connection, members: list[str]) -> int | None:
    row = conn.execute(
        select(DOSSIERS.c.id).where(
            DOSSIERS.c.kind == "household_renewal",
            DOSSIERS.c.state == "awaiting_payment",
            DOSSIERS.c.applicant_personal_id.in_(members),
        )
    ).first()
    return None if row is None else int(row[0])


def submit_renewal(
    engine: Engine,
    applicant_personal_id: str,
    member_personal_ids: list[str],
    months: int | str,
    *,
    actor: str | None = None,
    today: date | None = None,
) -> DossierView:
    """Check and price a household renewal; the dossier waits for payment.

    Raises FormInvalid for bad input and NotEligible when the register refuses a member;
    either way nothing is written.
    """
    applicant = check_personal_id(applicant_personal_id, "applicant_personal_id")
    try:
        months_int = int(str(months).strip())
    except ValueError:
        months_int = 0
    if months_int not in ALLOWED_MONTHS:
        raise FormInvalid(
            "months",
            months,
            "MONTHS_ALLOWED",
            "số tháng gia hạn phải là 3, 6 hoặc 12",
            "months must be 3, 6 or 12",
        )
    raw_members = [m for m in (str(x).strip() for x in member_personal_ids) if m]
    if not raw_members or len(raw_members) > MAX_MEMBERS:
        raise FormInvalid(
            "members",
            len(raw_members),
            "MEMBERS_COUNT",
            f"cần từ 1 đến {MAX_MEMBERS} thành viên",
            f"between 1 and {MAX_MEMBERS} members are needed",
        )
    members = [check_personal_id(m, f"members[{i}]") for i, m in enumerate(raw_members)]
    if len(set(members)) != len(members):
        raise FormInvalid(
            "members",
            ",".join(members),
            "MEMBERS_DUPLICATE",
            "một người được khai hai lần",
            "a member is listed twice",
        )
    today = today or today_vn()
    with engine.begin() as conn:
        head = register.citizen(conn, applicant)
        if head is None or not head.household_id:
            raise NotEligible(
                "applicant_personal_id",
                applicant,
                "NO_HOUSEHOLD",
                "người nộp chưa có hộ gia đình trong CSDL dân cư",
                "the applicant has no household in the population data",
            )
        if conn.dialect.name == "postgresql":  # two submissions for one household: one at a time
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"renewal:{head.household_id}"},
            )
        open_id = _open_renewal_for(conn, [applicant, *members])
        if open_id is not None:
            raise NotEligible(
                "members",
                open_id,
                "RENEWAL_PENDING",
                f"đã có hồ sơ gia hạn số {open_id} đang chờ thanh toán",
                f"renewal dossier {open_id} is already waiting for payment",
            )
        rows = [_member(conn, i, pid, head.household_id, today) for i, pid in enumerate(members)]
        for order, row in enumerate(rows, start=1):
            row["order"] = order
            row["premium"] = household_premium(order, months_int, today)
        total = sum(int(r["premium"]) for r in rows)
        checks = [
            {
                "code": "MEMBERS_VERIFIED",
                "ok": True,
                "message_vi": "các thành viên đã xác thực, cùng hộ, chưa có thẻ nhóm khác",
            },
            {
                "code": "PREMIUM",
                "ok": True,
                "message_vi": f"số tiền theo mức đóng giảm dần: {vnd(total)}",
            },
        ]
        dossier_id = open_dossier(
            conn,
            kind="household_renewal",
            state="awaiting_payment",
            actor=actor or f"citizen:{applicant}",
            applicant_personal_id=applicant,
            subject_personal_id=applicant,
            province=rows[0]["card_province"],
            data={
                "household_id": head.household_id,
                "months": months_int,
                "priced_on": today.isoformat(),
                "members": rows,
                "total": total,
            },
            checks=checks,
            note="kiểm tra đạt, chờ thanh toán",
        )
        notify(
            conn,
            applicant,
            f"Hồ sơ gia hạn BHYT hộ gia đình số {dossier_id}: số tiền {vnd(total)}, chờ thanh toán.",
            dossier_id,
        )
        return read_dossier(conn, dossier_id)


def issue_renewal_cards(conn: Connection, dossier: Row[Any], paid_on: date) -> list[dict[str, Any]]:
    """Issue each member's new household card (idempotent per card code and start)."""
    months = int(dossier.data["months"])
    issued: list[dict[str, Any]] = []
    for member in dossier.data["members"]:
        current_to = member.get("current_card_to")
        if current_to and date.fromisoformat(current_to) >= paid_on - timedelta(days=1):
            valid_from = date.fromisoformat(current_to) + timedelta(days=1)
        else:
            valid_from = paid_on + timedelta(days=FIRST_TIME_WAIT_DAYS)
        valid_to = add_months(valid_from, months) - timedelta(days=1)
        code = str(
            HealthCardCode.build(HOUSEHOLD_GROUP, 4, member["card_province"], member["bhxh_code"])
        )
        exists = conn.execute(
            select(models.HealthCard.id).where(
                models.HealthCard.card_code == code, models.HealthCard.valid_from == valid_from
            )
        ).first()
        if exists is None:
            conn.execute(
                insert(models.HealthCard).values(
                    card_code=code,
                    bhxh_code=member["bhxh_code"],
                    group_code=HOUSEHOLD_GROUP,
                    benefit_level=4,
                    province_code=member["card_province"],
                    facility_code=member["facility"],
                    valid_from=valid_from,
                    valid_to=valid_to,
                    status="active",
                )
            )
        issued.append(
            {
                "personal_id": member["personal_id"],
                "card_code": code,
                "valid_from": valid_from.isoformat(),
                "valid_to": valid_to.isoformat(),
            }
        )
        notify(
            conn,
            member["personal_id"],
            f"Thẻ BHYT hộ gia đình {code} có giá trị từ {valid_from:%d/%m/%Y} đến {valid_to:%d/%m/%Y}.",
            int(dossier.id),
        )
    return issued
