"""The minimum-wage region (vùng I..IV) of an employer, set by staff."""

from __future__ import annotations

from sqlalchemy import Engine, text

from nidb.store.audit import write_audit

__all__ = ["set_region"]


def set_region(engine: Engine, employer_code: str, region: int, *, actor: str) -> None:
    """Record ``employer_code``'s region (1..4) with its audit entry; later months use it."""
    if region not in (1, 2, 3, 4):
        raise ValueError(f"region must be 1..4: {region}")
    with engine.begin() as conn:
        before = conn.execute(
            text("SELECT region FROM employer_regions WHERE employer_code = :e"),
            {"e": employer_code},
        ).scalar_one_or_none()
        if before is None:
            conn.execute(
                text("INSERT INTO employer_regions (employer_code, region) VALUES (:e, :r)"),
                {"e": employer_code, "r": region},
            )
        else:
            conn.execute(
                text("UPDATE employer_regions SET region = :r WHERE employer_code = :e"),
                {"e": employer_code, "r": region},
            )
        write_audit(
            conn,
            actor=actor,
            action="contributions.region",
            subject_type="employer",
            subject_id=employer_code,
            purpose="minimum-wage region",
            detail={"before": before, "after": region},
        )
