"""The person and the BHXH codes of a personal ID: the one place that answers it.

**The rule.**

- A person record is *verified as* a personal ID when its ``verification_status`` is
  ``verified`` and its ``verified_personal_id`` is that ID. Verification against the population
  database, a staff member accepting a review item and a birth registered from the population
  feed are what make a record so; rejecting a review item unmakes it.
- An *open identity link* is an ``identity_links`` row for the pair whose ``valid_to`` is empty,
  whatever its source (declared by an employer, verified, staff, registry). A closed link
  (``valid_to`` set) never counts: it is history.
- The BHXH codes of a personal ID are the codes of the records verified as it; with
  ``include_open_links``, also the codes an open link ties to it that no verified record backs.
  Verified codes come first, then the link-only ones, each group in ascending order, so the
  first code is always the best-attested one.
- A code retired by a merge (gộp sổ) holds nothing once merged (its records and links moved to
  the kept code), so it is never an answer; undoing the merge moves them back.

**Which strictness, and why.** The citizen portal (``include_open_links=False``) shows a citizen
only what is verified as theirs: an employer's declaration is a claim, not proof, and a wrong
one would show a stranger's contributions. The online services, the population and MOLISA feeds
and the partner exchange (``include_open_links=True``) also act on a person known only by a
declared link — a renewal, a death or a card check must find the person before verification
has reached their record; the services check ``is_verified`` themselves where the law needs a
verified identity.

Reads only, on the caller's connection (so that a check and the write it justifies are one
transaction); every query is an index look-up (``persons.verified_personal_id``,
``identity_links.personal_id``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    literal_column,
    select,
    union,
)

from nidb.domain.verification import VerificationStatus
from nidb.store import models
from nidb.store.direct import Direct

__all__ = [
    "citizen",
    "citizens",
    "codes_of",
    "codes_of_each",
    "is_verified",
    "records_of",
    "verified_as",
    "verified_personal_ids",
]

_PERSON = models.Person
_LINK = models.IdentityLink


def verified_as(personal_id: Any) -> ColumnElement[bool]:
    """SQL condition: the person record is verified as ``personal_id`` (a value or a column)."""
    return and_(
        _PERSON.verified_personal_id == personal_id,
        _PERSON.verification_status == VerificationStatus.VERIFIED.value,
    )


def citizen(conn: Connection, personal_id: str) -> Row[Any] | None:
    """The person as the population database says (nidb's ``citizens`` extract), or None."""
    return conn.execute(_CITIZEN, {"p_personal_id": personal_id}).first()


def _in_ids(column: Any) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column.in_(bindparam("p_personal_ids", expanding=True))
    return condition


# Built once (an employer's declaration looks its workers up on every call; building the
# statement cost more than running it).
_CITIZEN = select(models.Citizen.__table__).where(
    models.Citizen.personal_id == bindparam("p_personal_id")
)
_VERIFIED_CODES = (
    select(_PERSON.bhxh_code).where(verified_as(bindparam("p_personal_id"))).distinct()
)
_CITIZENS = Direct(select(models.Citizen.__table__).where(_in_ids(models.Citizen.personal_id)))
_ALL_CODES_SQL: CompoundSelect[Any] = union(
    select(
        _PERSON.verified_personal_id.label("personal_id"),
        _PERSON.bhxh_code,
        literal_column("0").label("linked"),
    ).where(
        _in_ids(_PERSON.verified_personal_id),
        _PERSON.verification_status == VerificationStatus.VERIFIED.value,
    ),
    select(_LINK.personal_id, _LINK.bhxh_code, literal_column("1").label("linked")).where(
        _in_ids(_LINK.personal_id), _LINK.valid_to.is_(None)
    ),
)
"""Verified and open-link codes of several personal IDs in one round trip, each marked by
where it came from."""
_ALL_CODES = Direct(_ALL_CODES_SQL)  # under PostgreSQL, run on psycopg (nidb.store.direct)


def codes_of(conn: Connection, personal_id: str, *, include_open_links: bool) -> list[str]:
    """The BHXH codes of a personal ID: verified ones first, then (if asked) link-only ones.

    ``include_open_links=False``: the codes of the records verified as the personal ID (what
    the citizen portal shows). ``include_open_links=True``: also the codes with an open
    identity link to it (what services, feeds and the exchange act on). See the module's rule.
    """
    if not include_open_links:
        return sorted(conn.execute(_VERIFIED_CODES, {"p_personal_id": personal_id}).scalars())
    return codes_of_each(conn, [personal_id])[personal_id]


def codes_of_each(conn: Connection, personal_ids: Collection[str]) -> dict[str, list[str]]:
    """`codes_of` with ``include_open_links=True`` for several personal IDs in one query (an
    employer's declaration of many workers); every ID is a key, with ``[]`` if it has none."""
    verified: dict[str, set[str]] = {pid: set() for pid in personal_ids}
    linked: dict[str, set[str]] = {pid: set() for pid in personal_ids}
    if personal_ids:
        for pid, code, is_link in _ALL_CODES.rows(conn, {"p_personal_ids": list(personal_ids)}):
            (linked if is_link else verified)[pid].add(code)
    return {pid: sorted(verified[pid]) + sorted(linked[pid] - verified[pid]) for pid in verified}


def citizens(conn: Connection, personal_ids: Collection[str]) -> dict[str, Any]:
    """`citizen` for several personal IDs in one query; the IDs not in the extract are absent.
    Rows read by attribute (``row.full_name``), as `citizen`'s."""
    if not personal_ids:
        return {}
    rows = _CITIZENS.rows(conn, {"p_personal_ids": list(personal_ids)})
    return {row.personal_id: row for row in rows}


def is_verified(conn: Connection, personal_id: str) -> bool:
    """True when some person record is verified as this personal ID."""
    found = conn.execute(select(_PERSON.record_id).where(verified_as(personal_id)).limit(1))
    return found.first() is not None


def records_of(conn: Connection, personal_id: str) -> list[Row[Any]]:
    """The person records verified as a personal ID (every column), by BHXH code, record id."""
    return list(
        conn.execute(
            select(_PERSON.__table__)
            .where(verified_as(personal_id))
            .order_by(_PERSON.bhxh_code, _PERSON.record_id)
        ).all()
    )


def verified_personal_ids(bhxh_code: Any) -> Select[str | None]:
    """Subquery: the personal IDs the records of ``bhxh_code`` (a value or a column) are
    verified as — normally one."""
    return select(_PERSON.verified_personal_id).where(
        _PERSON.bhxh_code == bhxh_code,
        _PERSON.verified_personal_id.is_not(None),
        _PERSON.verification_status == VerificationStatus.VERIFIED.value,
    )
