"""Issuing a BHXH code to a new participant declared without one (cấp mã số BHXH).

The candidates come from ``nidb.domain.bhxh_codes``; a candidate is taken only if no person
record, identity link, merge, participation period, card, declared wage or earlier issue holds
it, and the ``issued_bhxh_codes`` primary key makes the issue itself unique: a code is never
issued twice, even by two processes at once.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from nidb.domain.bhxh_codes import bhxh_code_candidates
from nidb.store import models
from nidb.store.direct import Direct
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


_HELD_SQL = " OR ".join(
    f"EXISTS (SELECT 1 FROM {columns[0].table} WHERE "
    + " OR ".join(f"{c.name} = :bhxh_code" for c in columns)
    + ")"
    for columns in _HOLDERS
)
"""Whether any table holds ``:bhxh_code``: one condition over all, shared by both statements."""
_HELD = text(f"SELECT {_HELD_SQL}")
_ISSUE = Direct(
    text(
        f"INSERT INTO {IssuedBhxhCode.__tablename__} (bhxh_code, personal_id, issued_by) "
        "SELECT CAST(:bhxh_code AS VARCHAR), CAST(:personal_id AS VARCHAR), "
        f"CAST(:issued_by AS VARCHAR) WHERE NOT ({_HELD_SQL}) "
        "ON CONFLICT (bhxh_code) DO NOTHING RETURNING bhxh_code"
    )
)
"""The issue itself, if no table holds the candidate: one statement. The primary key makes it
unique; no row back means the code is held, or was issued by another transaction meanwhile."""


def is_held(conn: Connection, code: str) -> bool:
    """Whether any table of the register already holds ``code`` (one query over all)."""
    return bool(conn.execute(_HELD, {"bhxh_code": code}).scalar())


def issue_bhxh_code(conn: Connection, personal_id: str, province: str, actor: str) -> str:
    """A new BHXH code for ``personal_id``, issued in the caller's transaction."""
    for code in bhxh_code_candidates(province, personal_id):
        issued = _ISSUE.first(
            conn, {"bhxh_code": code, "personal_id": personal_id, "issued_by": actor}
        )
        if issued is not None:
            return code
    raise RuntimeError(f"no free BHXH code in province {province}")  # 10**8 codes: unreachable
