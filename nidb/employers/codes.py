"""Issuing a BHXH code to a new participant declared without one (cấp mã số BHXH).

The candidates come from ``nidb.domain.bhxh_codes``; a candidate is taken only if no person
record, identity link, merge, participation period, card, declared wage or earlier issue holds
it, and the ``issued_bhxh_codes`` primary key makes the issue itself unique: a code is never
issued twice, even by two processes at once.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, exists, or_, select, text

from nidb.domain.bhxh_codes import bhxh_code_candidates
from nidb.store import models
from nidb.store.models_employers import IssuedBhxhCode
from nidb.store.models_employment import DeclaredWage

__all__ = ["is_held", "issue_bhxh_code"]

_HOLDERS = (
    (models.Person.bhxh_code,),
    (models.IdentityLink.bhxh_code,),
    (models.CodeMerge.kept_code, models.CodeMerge.retired_code),
    (models.ParticipationPeriod.bhxh_code,),
    (models.HealthCard.bhxh_code,),
    (DeclaredWage.bhxh_code,),
    (IssuedBhxhCode.bhxh_code,),
)


_HELD = select(
    or_(
        *(exists().where(or_(*(c == bindparam("p_code") for c in columns))) for columns in _HOLDERS)
    )
)
"""Whether any table holds the code: one query, built once."""
_ISSUE = text(
    f"INSERT INTO {IssuedBhxhCode.__tablename__} (bhxh_code, personal_id, issued_by) "
    "VALUES (:bhxh_code, :personal_id, :issued_by) "
    "ON CONFLICT (bhxh_code) DO NOTHING RETURNING bhxh_code"
)
"""The issue itself: the primary key makes it unique, a conflict means taken meanwhile."""


def is_held(conn: Connection, code: str) -> bool:
    """Whether any table of the register already holds ``code`` (one query over all)."""
    return bool(conn.execute(_HELD, {"p_code": code}).scalar())


def issue_bhxh_code(conn: Connection, personal_id: str, province: str, actor: str) -> str:
    """A new BHXH code for ``personal_id``, issued in the caller's transaction."""
    for code in bhxh_code_candidates(province, personal_id):
        if is_held(conn, code):
            continue
        issued = conn.execute(
            _ISSUE, {"bhxh_code": code, "personal_id": personal_id, "issued_by": actor}
        ).first()
        if issued is None:  # issued by another transaction meanwhile
            continue
        return code
    raise RuntimeError(f"no free BHXH code in province {province}")  # 10**8 codes: unreachable
