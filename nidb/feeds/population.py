"""The population database's change feed (deaths, name changes, ID corrections) → the register.

`follow_population` reads pages after the stored cursor (source ``population``) over HTTP and
applies each page in one transaction with the cursor move:

- **death** → the citizen is dead from that date; every active health card of the person's BHXH
  codes valid on or after it is suspended; every active benefit (pension, allowance) stops on
  that date; an alert goes to the card's province and a ``person.death_recorded`` event out.
- **name change** → the citizen's name and the name of every record verified as them.
- **ID correction** → the citizen's personal ID, the records verified as them and their open
  identity links (closed and reopened, history kept) move to the new ID.
- **birth** / **residence** → the inter-linked procedure birth → residence → health card for a
  child under 6, and a death opens funeral allowance and survivors' benefit: the dossiers of
  ``nidb.services.triggers``, opened in this same transaction (so a replay opens none twice).

Every effect is audited and idempotent: a change applied twice changes nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert, select, text, update

from nidb.connectors.population import Change, ChangeKind, ChangePage
from nidb.domain.errors import DomainError
from nidb.domain.names import name_forms
from nidb.domain.provinces import province
from nidb.feeds import feed
from nidb.feeds.cursors import advance_cursor, read_cursor
from nidb.store import models, people

SOURCE = "population"


class ChangeSource(Protocol):
    def changes(self, after: str | None = None, limit: int = 100) -> ChangePage: ...


@dataclass
class PopulationFeedReport:
    """What a run of the follower applied."""

    pages: int = 0
    changes: int = 0
    deaths: int = 0
    name_changes: int = 0
    id_corrections: int = 0
    births: int = 0
    residences: int = 0
    dossiers_opened: int = 0
    """Online-service dossiers opened by births and deaths (nidb.services.triggers)."""
    cards_suspended: int = 0
    benefits_stopped: int = 0
    alerts: int = 0
    not_held: int = 0
    """Changes about people who hold no BHXH code here (nothing of ours to change)."""
    skipped: int = 0
    """Changes that could not be applied (malformed), each recorded as a feed_rejected alert."""

    @property
    def events(self) -> int:
        return self.changes


class CursorMoved(Exception):
    """Another follower applied this page first; this one's work was rolled back."""


def follow_population(
    engine: Engine, source: ChangeSource, page_size: int = 500, max_pages: int | None = None
) -> PopulationFeedReport:
    """Apply every change after the stored cursor; returns what was done.

    Stops when the feed has nothing newer or after ``max_pages``. Raises the client's errors
    when the service is unavailable: rerun to continue from the last page applied.
    """
    report = PopulationFeedReport()
    while max_pages is None or report.pages < max_pages:
        with engine.connect() as conn:
            after = read_cursor(conn, SOURCE)
        page = source.changes(after, page_size)
        if not page.changes:
            break
        with engine.begin() as conn:
            if not _claim(conn, after, page.next_cursor, len(page.changes)):
                raise CursorMoved(f"the {SOURCE} cursor moved past {after!r}")
            for change in page.changes:
                _apply(conn, change, report)
        report.pages += 1
        report.changes += len(page.changes)
    return report


def _claim(conn: Connection, after: str | None, cursor: str, count: int) -> bool:
    """Move the cursor from ``after`` to ``cursor`` unless someone else moved it."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('feed:population'))"))
    if read_cursor(conn, SOURCE) != after:
        return False
    advance_cursor(conn, SOURCE, cursor, count)
    return True


def _apply(conn: Connection, change: Change, report: PopulationFeedReport) -> None:
    try:
        if change.kind is ChangeKind.DEATH:
            _death(conn, change, date.fromisoformat(change.data["death_date"]), report)
        elif change.kind is ChangeKind.NAME_CHANGE:
            _name_change(conn, change, change.data["full_name"], report)
        elif change.kind is ChangeKind.BIRTH:
            _birth(conn, change, report)
        elif change.kind is ChangeKind.RESIDENCE:
            _residence(conn, change, report)
        else:
            _id_correction(conn, change, change.data["new_personal_id"], report)
    except (KeyError, ValueError, DomainError) as error:
        # one bad entry must not hold back the feed: it goes to staff, named, and we move on
        report.skipped += 1
        feed.alert(
            conn,
            "feed_rejected",
            None,
            "feed_change",
            str(change.seq),
            {
                "source": SOURCE,
                "kind": str(change.kind),
                "problem": type(error).__name__,
                "message_vi": "thay đổi từ CSDL dân cư không áp dụng được",
                "detail": str(error)[:200],
            },
        )


def _death(conn: Connection, change: Change, died: date, report: PopulationFeedReport) -> None:
    pid = change.personal_id
    citizens = models.Citizen
    newly_dead = conn.execute(
        update(citizens)
        .where(citizens.personal_id == pid)
        .where(
            (citizens.status != "dead")
            | citizens.death_date.is_(None)
            | (citizens.death_date != died)
        )
        .values(status="dead", death_date=died)
    ).rowcount
    codes = people.codes_of(conn, pid, include_open_links=True)
    if not codes:
        report.not_held += 1
        return
    cards = conn.execute(
        update(models.HealthCard)
        .where(
            models.HealthCard.bhxh_code.in_(codes),
            models.HealthCard.status == "active",
            models.HealthCard.valid_to >= died,
        )
        .values(status="suspended")
        .returning(models.HealthCard.card_code, models.HealthCard.province_code)
    ).all()
    benefits = conn.execute(
        update(models.Benefit)
        .where(models.Benefit.bhxh_code.in_(codes), models.Benefit.status == "active")
        .values(status="stopped", end_date=died)
        .returning(models.Benefit.id, models.Benefit.kind, models.Benefit.bhxh_code)
    ).all()
    if not (newly_dead or cards or benefits):
        return  # applied before
    report.deaths += 1
    report.cards_suspended += len(cards)
    report.benefits_stopped += len(benefits)
    detail: dict[str, Any] = {
        "personal_id": pid,
        "death_date": died.isoformat(),
        "bhxh_codes": codes,
        "cards_suspended": [c.card_code for c in cards],
        "benefits_stopped": [{"id": b.id, "kind": b.kind} for b in benefits],
        "feed_seq": change.seq,
    }
    feed.audit(conn, SOURCE, "person.death_recorded", "citizen", pid, detail)
    if cards or benefits:
        province = cards[0].province_code if cards else _province(conn, pid)
        feed.alert(conn, "death_with_live_coverage", province, "person", codes[0], detail)
        report.alerts += 1
    feed.outbox(conn, "person.death_recorded", f"person:{pid}", detail)
    from nidb.services import triggers  # the inter-linked procedures (Decree 63/2024)

    if triggers.on_death(conn, change.seq, pid, died, codes) is not None:
        report.dossiers_opened += 1


def _birth(conn: Connection, change: Change, report: PopulationFeedReport) -> None:
    from nidb.services import triggers

    dossier = triggers.on_birth(conn, change.seq, change.personal_id, change.data)
    if dossier is None:
        return  # applied before
    report.births += 1
    report.dossiers_opened += 1
    detail = {"personal_id": change.personal_id, "dossier_id": dossier, "feed_seq": change.seq}
    feed.audit(conn, SOURCE, "person.birth_recorded", "citizen", change.personal_id, detail)
    feed.outbox(conn, "person.birth_recorded", f"person:{change.personal_id}", detail)


def _residence(conn: Connection, change: Change, report: PopulationFeedReport) -> None:
    from nidb.services import triggers

    if not triggers.on_residence(conn, change.personal_id, change.data):
        report.not_held += 1
        return
    report.residences += 1
    detail = {"personal_id": change.personal_id, "feed_seq": change.seq}
    feed.audit(conn, SOURCE, "person.residence_registered", "citizen", change.personal_id, detail)
    feed.outbox(conn, "person.residence_registered", f"person:{change.personal_id}", detail)


def _province(conn: Connection, personal_id: str) -> str | None:
    value = conn.execute(
        select(models.Citizen.birth_province).where(models.Citizen.personal_id == personal_id)
    ).scalar()
    if not value:
        return None
    try:
        return province(value).code
    except DomainError:
        return None


def _name_change(
    conn: Connection, change: Change, new_name: str, report: PopulationFeedReport
) -> None:
    pid = change.personal_id
    forms = name_forms(new_name)
    old = conn.execute(
        select(models.Citizen.full_name).where(models.Citizen.personal_id == pid)
    ).scalar()
    conn.execute(
        update(models.Citizen)
        .where(models.Citizen.personal_id == pid)
        .values(full_name=forms.exact, name_base=forms.base)
    )
    records = conn.execute(
        update(models.Person)
        .where(people.verified_as(pid), models.Person.full_name != forms.exact)
        .values(full_name=forms.exact, name_base=forms.base)
        .returning(models.Person.record_id)
    ).all()
    if old is None and not records:
        report.not_held += 1
        return
    if old == forms.exact and not records:
        return
    report.name_changes += 1
    detail = {
        "personal_id": pid,
        "old": old,
        "new": forms.exact,
        "records": [r[0] for r in records],
        "feed_seq": change.seq,
    }
    feed.audit(conn, SOURCE, "identity.name_changed", "citizen", pid, detail)
    feed.outbox(
        conn,
        "identity.name_changed",
        f"person:{pid}",
        {"personal_id": pid, "records": detail["records"]},
    )


_PID = re.compile(r"^\d{12}$")


def _id_correction(
    conn: Connection, change: Change, new_pid: str, report: PopulationFeedReport
) -> None:
    old_pid = change.personal_id
    if not _PID.fullmatch(new_pid):
        raise ValueError(f"new_personal_id {new_pid!r} is not 12 digits")
    if old_pid == new_pid:
        return
    citizens = models.Citizen
    taken = conn.execute(
        select(citizens.personal_id).where(citizens.personal_id == new_pid)
    ).first()
    moved_citizen = 0
    if not taken:
        moved_citizen = conn.execute(
            update(citizens).where(citizens.personal_id == old_pid).values(personal_id=new_pid)
        ).rowcount
    records = conn.execute(
        update(models.Person)
        .where(models.Person.verified_personal_id == old_pid)
        .values(verified_personal_id=new_pid)
        .returning(models.Person.record_id)
    ).all()
    now = datetime.now(UTC)
    links = conn.execute(
        update(models.IdentityLink)
        .where(models.IdentityLink.personal_id == old_pid, models.IdentityLink.valid_to.is_(None))
        .values(valid_to=now)
        .returning(models.IdentityLink.bhxh_code)
    ).all()
    if links:
        conn.execute(
            insert(models.IdentityLink),
            [
                {
                    "bhxh_code": code,
                    "personal_id": new_pid,
                    "source": "registry",
                    "valid_from": now,
                    "note": f"ID corrected from {old_pid} (population feed {change.seq})",
                }
                for code in sorted({link[0] for link in links})
            ],
        )
    if not (moved_citizen or records or links):
        return
    report.id_corrections += 1
    detail = {
        "old_personal_id": old_pid,
        "new_personal_id": new_pid,
        "records": [r[0] for r in records],
        "links_moved": len(links),
        "feed_seq": change.seq,
    }
    feed.audit(conn, SOURCE, "identity.id_corrected", "citizen", new_pid, detail)
    feed.outbox(conn, "identity.id_corrected", f"person:{new_pid}", detail)


__all__ = ["CursorMoved", "PopulationFeedReport", "follow_population"]
