"""The inter-linked procedures started by the population feed (Decree 63/2024/NĐ-CP):

- birth → residence → health card for a child under 6: a registered birth gives the child a
  citizen row, a BHXH code and a participant record; once the child has a registered
  permanent residence (in the birth event, or a later ``residence`` event) a free TE card
  (level 1) is issued, valid from birth until the child is 72 months old — to 30 September of
  that year if the 6th birthday falls before it (Law on Health Insurance Art. 16.3 as amended
  in 2014, *verify*). The parents do nothing.
- death → residence removal → funeral allowance and survivors' benefit: the contribution
  history decides; the funeral allowance (10 × base salary) is granted at once to the next of
  kin; the survivors' benefit is proposed for an approver.

The population follower calls these inside the transaction that applies the feed page and
moves its cursor, so a crash loses nothing and a replay opens nothing twice (``source_ref`` is
unique and checked first).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from nidb.domain.identifiers import HealthCardCode
from nidb.domain.names import name_forms
from nidb.domain.provinces import province as find_province
from nidb.domain.verification import VerificationStatus
from nidb.services import register
from nidb.services.deaths import grant_survivors, on_death  # the death group, re-exported
from nidb.services.workdays import add_months
from nidb.services.workflow import DOSSIERS, SYSTEM, move, notify, open_dossier
from nidb.store import models, people

__all__ = ["grant_survivors", "issue_child_card", "on_birth", "on_death", "on_residence"]

ACTOR = "feed:population"
CHILD_GROUP = "TE"


def _exists(conn: Connection, source_ref: str) -> bool:
    return (
        conn.execute(select(DOSSIERS.c.id).where(DOSSIERS.c.source_ref == source_ref)).first()
        is not None
    )


def _new_bhxh_code(conn: Connection, personal_id: str) -> str:
    """A BHXH code for a newborn: province of birth + a number derived from the personal ID,
    moved on until no record or link holds it (issued once for life)."""
    base = int(personal_id[4:])
    for attempt in range(1000):
        code = f"{personal_id[1:3]}{(base + attempt * 7919) % 10**8:08d}"
        held = (
            conn.execute(
                select(models.Person.record_id).where(models.Person.bhxh_code == code).limit(1)
            ).first()
            or conn.execute(
                select(models.IdentityLink.id).where(models.IdentityLink.bhxh_code == code).limit(1)
            ).first()
        )
        if not held:
            return code
    raise RuntimeError(f"no free BHXH code near {personal_id[1:3]}…")


def child_card_end(born: date) -> date:
    """Last day of a child's TE card: the day before 72 months, or 30 September that year."""
    six = add_months(born, 72)
    last = six - timedelta(days=1)
    september = date(six.year, 9, 30)
    return september if last < september else last


def on_birth(conn: Connection, seq: int, personal_id: str, data: Mapping[str, str]) -> int | None:
    """A birth registered: the child enters the register and the card dossier opens."""
    source_ref = f"population:birth:{personal_id}"
    if _exists(conn, source_ref):
        return None
    forms = name_forms(data["full_name"])
    born = date.fromisoformat(data["date_of_birth"])  # ValueError: the follower rejects it
    if born > datetime.now(UTC).date() + timedelta(days=1):
        raise ValueError(f"date_of_birth {born} is in the future")
    gender = data["gender"]
    if gender not in ("M", "F"):
        raise ValueError(f"gender {gender!r} is not M or F")
    birth_province = find_province(data.get("birth_province") or personal_id[:3]).code
    address = (data.get("permanent_address") or "").strip() or None
    household = (data.get("household_id") or "").strip() or None
    identity = {  # the child as the population database has it, in both tables
        "full_name": forms.exact,
        "name_base": forms.base,
        "date_of_birth": born.isoformat(),
        "dob_precision": "day",
        "birth_year": born.year,
        "gender": gender,
        "birth_province": birth_province,
    }
    if register.citizen(conn, personal_id) is None:
        conn.execute(
            insert(models.Citizen).values(
                personal_id=personal_id,
                **identity,
                permanent_address=address,
                household_id=household,
                status="alive",
            )
        )
    codes = people.codes_of(conn, personal_id, include_open_links=True)
    code = codes[0] if codes else _new_bhxh_code(conn, personal_id)
    if not codes:
        now = datetime.now(UTC)
        conn.execute(
            insert(models.Person).values(
                record_id=f"KS-{personal_id}",
                bhxh_code=code,
                **identity,
                declared_id=personal_id,
                declared_id_kind="personal_id",
                address=address,
                verification_status=VerificationStatus.VERIFIED.value,
                verified_personal_id=personal_id,
                verified_at=now,
            )
        )
        conn.execute(
            insert(models.IdentityLink).values(
                bhxh_code=code,
                personal_id=personal_id,
                source="registry",
                valid_from=now,
                note=f"birth registered (population feed {seq})",
            )
        )
    parents = [p for p in (data.get("mother_personal_id"), data.get("father_personal_id")) if p]
    dossier_id = open_dossier(
        conn,
        kind="child_card",
        state="awaiting_residence",
        actor=ACTOR,
        applicant_personal_id=parents[0] if parents else None,
        applicant_bhxh_code=code,
        subject_personal_id=personal_id,
        province=birth_province,
        data={
            "child_name": forms.exact,
            "date_of_birth": born.isoformat(),
            "parents": parents,
            "feed_seq": seq,
        },
        checks=[
            {
                "code": "BIRTH_REGISTERED",
                "ok": True,
                "message_vi": f"đã đăng ký khai sinh ngày {born:%d/%m/%Y}",
            }
        ],
        source_ref=source_ref,
        note="khai sinh từ CSDL dân cư",
    )
    if address:
        _complete_child(conn, dossier_id)
    return dossier_id


def on_residence(conn: Connection, personal_id: str, data: Mapping[str, str]) -> bool:
    """A permanent residence registered: update the citizen; a waiting child card is issued.

    False when the citizen is not held or already lives there (a replay changes nothing)."""
    address = (data.get("permanent_address") or "").strip()
    if not address:
        raise ValueError("permanent_address is empty")
    values: dict[str, Any] = {"permanent_address": address}
    if data.get("household_id"):
        values["household_id"] = data["household_id"]
    current = register.citizen(conn, personal_id)
    if current is None:
        return False
    changed = any(getattr(current, key) != value for key, value in values.items())
    if changed:
        conn.execute(
            update(models.Citizen).where(models.Citizen.personal_id == personal_id).values(**values)
        )
    waiting = conn.execute(
        select(DOSSIERS.c.id).where(
            DOSSIERS.c.kind == "child_card",
            DOSSIERS.c.state == "awaiting_residence",
            DOSSIERS.c.subject_personal_id == personal_id,
        )
    ).scalar()
    if waiting is not None:
        _complete_child(conn, int(waiting))
    return changed


def _complete_child(conn: Connection, dossier_id: int) -> None:
    dossier = move(
        conn,
        dossier_id,
        "completed",
        actor=ACTOR,
        role=SYSTEM,
        note="đã có thường trú: cấp thẻ BHYT",
    )
    card = issue_child_card(conn, dossier)
    if card is None:  # cannot happen after a residence was recorded; keep the state honest
        raise ValueError("residence vanished while issuing the child card")
    conn.execute(
        DOSSIERS.update()
        .where(DOSSIERS.c.id == dossier_id)
        .values(data={**dossier.data, "card": card})
    )
    for parent in dossier.data.get("parents", []):
        notify(
            conn,
            parent,
            f"Thẻ BHYT {card['card_code']} của bé {dossier.data['child_name']} có giá trị từ "
            f"{date.fromisoformat(card['valid_from']):%d/%m/%Y} đến {date.fromisoformat(card['valid_to']):%d/%m/%Y}.",
            dossier_id,
        )


def issue_child_card(conn: Connection, dossier: Row[Any]) -> dict[str, str] | None:
    """Issue the TE card of a child's dossier; None while the child has no residence."""
    child = register.citizen(conn, dossier.subject_personal_id)
    if child is None or not child.permanent_address:
        return None
    born = date.fromisoformat(child.date_of_birth)
    province = find_province(child.birth_province).code
    code = str(HealthCardCode.build(CHILD_GROUP, 1, province, dossier.applicant_bhxh_code))
    end = child_card_end(born)
    held = conn.execute(
        select(models.HealthCard.id).where(
            models.HealthCard.card_code == code, models.HealthCard.valid_from == born
        )
    ).first()
    if held is None:
        conn.execute(
            insert(models.HealthCard).values(
                card_code=code,
                bhxh_code=dossier.applicant_bhxh_code,
                group_code=CHILD_GROUP,
                benefit_level=1,
                province_code=province,
                facility_code=f"{province}000",
                valid_from=born,
                valid_to=end,
                status="active",
            )
        )
    return {"card_code": code, "valid_from": born.isoformat(), "valid_to": end.isoformat()}
