"""The in-memory population registry: people keyed by personal ID, a search index, changes.

Memory is what limits a stand-in holding the whole country, so a person is one UTF-8 `bytes`
value (fields joined by U+001F) under an `int` key, and the search index is two sorted
`array('q')` columns (key hash, personal ID) with a small dict on top for changes made since
loading. About 150 bytes a person: a million people take a few hundred MB at most.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Any, NamedTuple

from nidb.sim.population.compare import (
    MATCH,
    MISMATCH,
    PARTIAL,
    clean_name,
    compare_dates,
    compare_names,
    search_base,
    search_key,
)

__all__ = [
    "ALIVE",
    "DEAD",
    "ChangeConflict",
    "Person",
    "Registry",
    "UnknownPerson",
]

ALIVE = "alive"
DEAD = "dead"
_SEP = "\x1f"
_SUPERSEDED_CHAIN_LIMIT = 16  # corrections of corrections; a loop would be a bug, not data


class Person(NamedTuple):
    """One person as the registry holds them (the fields the service answers about)."""

    personal_id: str
    full_name: str
    date_of_birth: str  # YYYY-MM-DD, YYYY-MM or YYYY
    gender: str  # M or F
    birth_province: str | None  # 3 digits
    status: str  # alive or dead
    death_date: str | None  # YYYY-MM-DD
    old_id: str | None = None  # the old 9-digit ID card number (số CMND), kept for who held one


class UnknownPerson(LookupError):
    """No one in the registry holds this personal ID."""

    def __init__(self, personal_id: str) -> None:
        super().__init__(personal_id)
        self.personal_id = personal_id


class ChangeConflict(ValueError):
    """A change cannot be applied to the registry as it stands."""

    def __init__(self, personal_id: str, message_vi: str, message_en: str) -> None:
        super().__init__(personal_id, message_vi, message_en)
        self.personal_id = personal_id
        self.message_vi = message_vi
        self.message_en = message_en


def _key(personal_id: str) -> int | None:
    """The int key of a 12-digit ID; None for anything else (never a person)."""
    if len(personal_id) != 12 or not personal_id.isascii() or not personal_id.isdigit():
        return None
    return int(personal_id)


def _encode(person: Person) -> bytes:
    return _SEP.join(
        (
            person.full_name,
            person.date_of_birth,
            person.gender,
            person.birth_province or "",
            person.status,
            person.death_date or "",
            person.old_id or "",
        )
    ).encode()


def _decode(key: int, blob: bytes) -> Person:
    name, dob, gender, province, status, death, old_id = blob.decode().split(_SEP)
    return Person(
        f"{key:012d}", name, dob, gender, province or None, status, death or None, old_id or None
    )


def _old_key(old_id: str) -> int | None:
    """The int key of a 9-digit old ID (CMND); None for anything else."""
    if len(old_id) != 9 or not old_id.isascii() or not old_id.isdigit():
        return None
    return int(old_id)


class Registry:
    """People by personal ID, with strict verification, demographic search and changes.

    Fill it with `add`, then `seal` it (sorts the search index; the first search does it
    otherwise). Not thread-safe: the service uses it from one event loop.
    """

    def __init__(self) -> None:
        self._people: dict[int, bytes] = {}
        self._superseded: dict[int, int] = {}  # old personal ID -> corrected one
        self._index_keys = array("q")
        self._index_ids = array("q")
        self._index_extra: dict[int, list[int]] = {}  # entries added after sealing
        self._old_keys = array("q")  # old 9-digit IDs (CMND), sorted when sealed …
        self._old_ids = array("q")  # … beside the personal ID that holds each
        self._old_extra: dict[int, int] = {}  # old IDs of people added after sealing
        self._sealed = False

    def __len__(self) -> int:
        return len(self._people)

    def __contains__(self, personal_id: object) -> bool:
        key = _key(personal_id) if isinstance(personal_id, str) else None
        return key is not None and key in self._people

    # --- building ---------------------------------------------------------------------------

    def add(self, person: Person, base: str | None = None) -> None:
        """Add a person (already validated). Raises ChangeConflict for a personal ID held.

        `base` is the person's search_base name, when the caller has it already.
        """
        key = _key(person.personal_id)
        if key is None:
            raise ValueError(f"not a 12-digit personal ID: {person.personal_id!r}")
        if key in self._people:
            raise ChangeConflict(
                person.personal_id,
                "số định danh cá nhân đã có trong sổ",
                "personal ID already in the registry",
            )
        old_key = None if person.old_id is None else _old_key(person.old_id)
        if person.old_id is not None and old_key is None:
            raise ValueError(f"not a 9-digit old ID: {person.old_id!r}")
        if old_key is not None and self._holder_of_old(old_key) is not None:
            raise ChangeConflict(
                person.personal_id,
                "số CMND cũ đã thuộc về người khác trong sổ",
                "old ID number already held by someone in the registry",
            )
        self._people[key] = _encode(person)
        self._index(key, person, base)
        if old_key is not None:
            if self._sealed:
                self._old_extra[old_key] = key
            else:
                self._old_keys.append(old_key)
                self._old_ids.append(key)

    def _index(self, key: int, person: Person, base: str | None = None) -> None:
        """Make a person findable by search under their current name and birth year."""
        if base is None:
            base = search_base(person.full_name)
        index_key = search_key(base, person.date_of_birth[:4])
        if self._sealed:
            self._index_extra.setdefault(index_key, []).append(key)
        else:
            self._index_keys.append(index_key)
            self._index_ids.append(key)

    def seal(self) -> None:
        """Sort the search index; later additions and changes go to a small overlay.

        Raises ChangeConflict (naming the second holder) when two people hold one old ID.
        """
        if self._sealed:
            return
        keys, ids = self._index_keys, self._index_ids
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self._index_keys = array("q", map(keys.__getitem__, order))
        self._index_ids = array("q", map(ids.__getitem__, order))
        old_keys, old_ids = self._old_keys, self._old_ids
        order = sorted(range(len(old_keys)), key=old_keys.__getitem__)
        self._old_keys = array("q", map(old_keys.__getitem__, order))
        self._old_ids = array("q", map(old_ids.__getitem__, order))
        for at in range(1, len(self._old_keys)):
            if self._old_keys[at] == self._old_keys[at - 1]:
                raise ChangeConflict(
                    f"{self._old_ids[at]:012d}",
                    f"số CMND cũ {self._old_keys[at]:09d} thuộc về hai người",
                    f"old ID number {self._old_keys[at]:09d} held by two people",
                )
        self._sealed = True

    # --- reading ----------------------------------------------------------------------------

    def get(self, personal_id: str) -> Person | None:
        """The person holding this personal ID, or None."""
        key = _key(personal_id)
        blob = None if key is None else self._people.get(key)
        return None if blob is None or key is None else _decode(key, blob)

    def _holder_of_old(self, old_key: int) -> int | None:
        """The personal-ID key of whoever holds an old ID, or None."""
        if old_key in self._old_extra:
            return self._old_extra[old_key]
        if not self._sealed:
            return None  # while loading: `seal` refuses an old ID held twice
        at = bisect_left(self._old_keys, old_key)
        if at < len(self._old_keys) and self._old_keys[at] == old_key:
            return self._old_ids[at]
        return None

    def by_old_id(self, old_id: str) -> Person | None:
        """The person who held this old 9-digit ID card number (số CMND), or None.

        Follows an ID correction: the old ID stays with the person, whose personal ID moved.
        """
        old_key = _old_key(old_id)
        if old_key is None:
            return None
        if not self._sealed:
            self.seal()
        key = self._holder_of_old(old_key)
        if key is None:
            return None
        current = self.superseded_by(f"{key:012d}")
        return self.get(current or f"{key:012d}")

    def superseded_by(self, personal_id: str) -> str | None:
        """The personal ID that replaced this one after a correction, or None."""
        key = _key(personal_id)
        if key is None or key not in self._superseded:
            return None
        for _ in range(_SUPERSEDED_CHAIN_LIMIT):
            if key not in self._superseded:
                break
            key = self._superseded[key]
        return f"{key:012d}"

    def verify(
        self, personal_id: str, full_name: str, date_of_birth: str, gender: str | None
    ) -> dict[str, Any]:
        """Compare the given fields with the registry's, field by field, as the wire answer.

        Never returns the registry's values of the compared fields, only match / mismatch /
        partial per field (gender None when not asked), the life status and the death date.
        """
        key = _key(personal_id)
        blob = None if key is None else self._people.get(key)
        if blob is None:
            return {
                "personal_id": personal_id,
                "found": False,
                "fields": None,
                "status": None,
                "death_date": None,
                "superseded_by": self.superseded_by(personal_id),
            }
        name, dob, held_gender, _, status, death, _ = blob.decode().split(_SEP)
        return {
            "personal_id": personal_id,
            "found": True,
            "fields": {
                "full_name": compare_names(name, full_name),
                "date_of_birth": compare_dates(dob, date_of_birth),
                "gender": None if gender is None else MATCH if gender == held_gender else MISMATCH,
            },
            "status": status,
            "death_date": death or None,
            "superseded_by": None,
        }

    def search(
        self,
        full_name: str,
        date_of_birth: str,
        gender: str | None = None,
        birth_province: str | None = None,
        limit: int = 10,
    ) -> tuple[list[Person], bool]:
        """People with the same name without diacritics and the same birth year (tra cứu).

        `gender` and `birth_province` (3 digits) narrow the result when given. The closest
        come first: same date, then a compatible partial date, then another date in the same
        year; ties by personal ID. Returns at most `limit` people and whether more matched.
        """
        if not self._sealed:
            self.seal()
        base, year = search_base(full_name), date_of_birth[:4]
        index_key = search_key(base, year)
        lo = bisect_left(self._index_keys, index_key)
        hi = bisect_right(self._index_keys, index_key)
        keys = set(self._index_ids[lo:hi])
        keys.update(self._index_extra.get(index_key, ()))
        rank = {MATCH: 0, PARTIAL: 1, MISMATCH: 2}
        found: list[tuple[int, str, Person]] = []
        for key in keys:
            blob = self._people.get(key)
            if blob is None:
                continue  # the ID was corrected since it was indexed
            person = _decode(key, blob)
            # Re-check: the index key is a hash, and names change after indexing.
            if person.date_of_birth[:4] != year or search_base(person.full_name) != base:
                continue
            if gender is not None and person.gender != gender:
                continue
            if birth_province is not None and person.birth_province != birth_province:
                continue
            closeness = rank[compare_dates(person.date_of_birth, date_of_birth)]
            found.append((closeness, person.personal_id, person))
        found.sort(key=lambda item: item[:2])
        return [person for _, _, person in found[:limit]], len(found) > limit

    # --- changes ----------------------------------------------------------------------------

    def _require(self, personal_id: str) -> tuple[int, Person]:
        key = _key(personal_id)
        blob = None if key is None else self._people.get(key)
        if blob is None or key is None:
            raise UnknownPerson(personal_id)
        return key, _decode(key, blob)

    def record_death(self, personal_id: str, death_date: str) -> None:
        """Mark a person dead on a date (YYYY-MM-DD). Raises UnknownPerson, ChangeConflict."""
        key, person = self._require(personal_id)
        if person.status == DEAD:
            raise ChangeConflict(
                personal_id,
                "người này đã được ghi nhận là đã chết",
                "this person is already recorded as dead",
            )
        if death_date < person.date_of_birth:  # ISO strings order as dates do
            raise ChangeConflict(
                personal_id, "ngày chết trước ngày sinh", "the death date is before the birth date"
            )
        self._people[key] = _encode(person._replace(status=DEAD, death_date=death_date))

    def change_name(self, personal_id: str, full_name: str) -> None:
        """Record a change of name (thay đổi họ, tên). Raises UnknownPerson."""
        key, person = self._require(personal_id)
        changed = person._replace(full_name=clean_name(full_name))
        self._people[key] = _encode(changed)
        self._index(key, changed)

    def correct_id(self, personal_id: str, new_personal_id: str) -> None:
        """Move a person to a corrected personal ID; the old one then reports it.

        Raises UnknownPerson for the old ID and ChangeConflict when the new one is held.
        """
        key, person = self._require(personal_id)
        new_key = _key(new_personal_id)
        if new_key is None:
            raise ValueError(f"not a 12-digit personal ID: {new_personal_id!r}")
        if new_key in self._people or new_key in self._superseded:
            raise ChangeConflict(
                new_personal_id,
                "số định danh cá nhân mới đã được dùng",
                "the new personal ID is already in use",
            )
        moved = person._replace(personal_id=new_personal_id)
        self._people[new_key] = self._people.pop(key)
        self._superseded[key] = new_key
        self._index(new_key, moved)
