"""Who can sign in at the stand-in: citizens from a CSV file or from a register's ``citizens``.

A row may carry its own ``password``; everyone else signs in with the stand-in's one-time code
(``--otp``, default 123456), which is what a test citizen "receives by SMS" here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text


@dataclass(frozen=True)
class VneidPerson:
    """A citizen as VNeID knows them (from the population database)."""

    personal_id: str
    full_name: str
    birthdate: str  # YYYY-MM-DD (or YYYY when only the year is known)
    gender: str  # M | F
    password: str | None = None


class People(Protocol):
    """Finds a person by personal ID."""

    def find(self, personal_id: str) -> VneidPerson | None: ...


class CsvPeople:
    """People from a CSV with columns personal_id, full_name, date_of_birth, gender[, password]."""

    def __init__(self, path: Path) -> None:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            self._people = {
                row["personal_id"].strip(): VneidPerson(
                    row["personal_id"].strip(),
                    row["full_name"].strip(),
                    row["date_of_birth"].strip(),
                    row.get("gender", "").strip().upper()[:1],
                    (row.get("password") or "").strip() or None,
                )
                for row in csv.DictReader(handle)
            }

    def find(self, personal_id: str) -> VneidPerson | None:
        return self._people.get(personal_id)


class ListPeople:
    """People given in code (tests, demos)."""

    def __init__(self, people: list[VneidPerson]) -> None:
        self._people = {p.personal_id: p for p in people}

    def find(self, personal_id: str) -> VneidPerson | None:
        return self._people.get(personal_id)


class DatabasePeople:
    """People read from the ``citizens`` table of a register (the population data it holds)."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url, pool_pre_ping=True)

    def find(self, personal_id: str) -> VneidPerson | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT personal_id, full_name, date_of_birth, gender FROM citizens "
                    "WHERE personal_id = :pid"
                ),
                {"pid": personal_id},
            ).one_or_none()
        return None if row is None else VneidPerson(row[0], row[1], row[2], row[3])
