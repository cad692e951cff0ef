"""Error model 2: a second, independently designed way insurance records get typed wrong.

Matching must not be fitted to the generator that tests it. Model 1 (``errors.py``) injects
what its author expected (diacritics lost, tone styles, upper case, one typo, a middle name
dropped, year-only dates, swapped day/month, CMND numbers, wrong IDs). Model 2 is written
apart, from what civil-status and insurance data show (domain-research.md §identity data
quality), with other kinds, rates and combinations — and nidb's thresholds are **never tuned
on it** (bench/linkage.py and bench/dedupe.py report both side by side):

- name words joined or split (``Thị Thu`` → ``Thịthu``, ``Phương`` → ``Phư ơng``), a dropped or
  doubled letter, confusions of similar letters as clerks and OCR make them (d/đ, i/y, s/x,
  ch/tr, n/ng at the end, gi/d, o/ô/ơ), and several of these in one name;
- an old 9-digit ID number (CMND) — the person's own, which the registry keeps (its ``old_id``
  column), sometimes with two digits exchanged as model 2 exchanges them in 12-digit IDs —, an
  ID with two digits exchanged, an ID that is a relative's;
- a wrong birth province; an ambiguous date written month-first (``03/04/1990`` meaning 4 March),
  a birth date off by a day, a year off by one, the first of January for an unknown date;
- fields left empty (gender, birth province, address, ID, and the middle name);
- addresses written in several styles (abbreviated ``P.``/``Q.``/``TP``, without diacritics,
  reordered, the old pre-2025 province).

It rewrites the ``records`` and ``truth`` files of a folder that ``generate`` wrote with model 1's
typing errors turned off (so only model 2's errors are in it; twins, namesakes, duplicates and
people missing from the registry come from the population itself). ``truth.errors`` lists the
model-2 codes (``M2_*``) of each record.
"""

from __future__ import annotations

import csv
import hashlib
import random
from pathlib import Path

from nidb.domain.names import strip_diacritics

RATES: dict[str, float] = {
    "M2_NAME_JOINED": 0.015,
    "M2_NAME_SPLIT": 0.01,
    "M2_LETTER_DROPPED": 0.02,
    "M2_LETTER_DOUBLED": 0.015,
    "M2_LETTER_CONFUSED": 0.04,
    "M2_NO_DIACRITICS": 0.15,
    "M2_MIDDLE_EMPTY": 0.03,
    "M2_ID_CMND": 0.07,
    "M2_ID_TRANSPOSED": 0.01,
    "M2_ID_EMPTY": 0.08,
    "M2_BIRTH_PROVINCE_WRONG": 0.03,
    "M2_BIRTH_PROVINCE_EMPTY": 0.10,
    "M2_DOB_MONTH_FIRST": 0.02,
    "M2_DOB_DAY_OFF": 0.01,
    "M2_DOB_YEAR_OFF": 0.01,
    "M2_DOB_JAN_FIRST": 0.03,
    "M2_GENDER_EMPTY": 0.05,
    "M2_ADDRESS_STYLE": 0.30,
    "M2_ADDRESS_EMPTY": 0.10,
}
"""Probability that one record gets each error (where it can show); several may combine."""

_CONFUSIONS = (
    ("đ", "d"), ("d", "đ"), ("i", "y"), ("y", "i"), ("s", "x"), ("x", "s"), ("tr", "ch"),
    ("ch", "tr"), ("gi", "d"), ("ng", "n"), ("ô", "o"), ("ơ", "o"), ("ư", "u"), ("l", "n"),
)  # fmt: skip
_ADDRESS_ABBREVIATIONS = (
    ("phường ", "P. "), ("Phường ", "P. "), ("quận ", "Q. "), ("Quận ", "Q. "),
    ("thành phố ", "TP "), ("TP. ", "TP "), ("đường ", "đ. "), ("xã ", "X. "), ("Số ", "số "),
)  # fmt: skip


def _name(rng: random.Random, name: str, errors: list[str]) -> str:
    words = name.split(" ")
    if len(words) > 3 and rng.random() < RATES["M2_MIDDLE_EMPTY"]:
        words = [words[0], words[-1]]
        errors.append("M2_MIDDLE_EMPTY")
    if len(words) >= 3 and rng.random() < RATES["M2_NAME_JOINED"]:
        at = rng.randrange(1, len(words) - 1)
        words[at : at + 2] = [words[at] + words[at + 1].lower()]
        errors.append("M2_NAME_JOINED")
    if rng.random() < RATES["M2_NAME_SPLIT"]:
        at = rng.randrange(len(words))
        if len(words[at]) >= 4:
            cut = rng.randrange(2, len(words[at]) - 1)
            words[at : at + 1] = [words[at][:cut], words[at][cut:]]
            errors.append("M2_NAME_SPLIT")
    text = " ".join(words)
    if rng.random() < RATES["M2_LETTER_CONFUSED"]:
        found = [(a, b) for a, b in _CONFUSIONS if a in text[1:]]
        if found:
            a, b = found[rng.randrange(len(found))]
            at = text.find(a, 1)
            text = text[:at] + b + text[at + len(a) :]
            errors.append("M2_LETTER_CONFUSED")
    if rng.random() < RATES["M2_LETTER_DROPPED"] and len(text) > 6:
        at = rng.randrange(1, len(text))
        if text[at] != " ":
            text = text[:at] + text[at + 1 :]
            errors.append("M2_LETTER_DROPPED")
    if rng.random() < RATES["M2_LETTER_DOUBLED"]:
        at = rng.randrange(1, len(text))
        if text[at].isalpha():
            text = text[:at] + text[at] + text[at:]
            errors.append("M2_LETTER_DOUBLED")
    if rng.random() < RATES["M2_NO_DIACRITICS"]:
        text = strip_diacritics(text)
        errors.append("M2_NO_DIACRITICS")
    return text


def _date(rng: random.Random, text: str, errors: list[str]) -> str:
    if len(text) != 10 or text[4] != "-":
        return text
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    if rng.random() < RATES["M2_DOB_JAN_FIRST"]:
        errors.append("M2_DOB_JAN_FIRST")
        return f"{year:04d}-01-01"
    if rng.random() < RATES["M2_DOB_YEAR_OFF"]:
        year += rng.choice((-1, 1))
        errors.append("M2_DOB_YEAR_OFF")
    if rng.random() < RATES["M2_DOB_DAY_OFF"] and 2 <= day <= 27:
        day += rng.choice((-1, 1))
        errors.append("M2_DOB_DAY_OFF")
    if rng.random() < RATES["M2_DOB_MONTH_FIRST"] and day <= 12 and day != month:
        errors.append("M2_DOB_MONTH_FIRST")
        return f"{month:02d}/{day:02d}/{year:04d}"  # read as DD/MM: day and month exchanged
    return f"{year:04d}-{month:02d}-{day:02d}"


def _exchanged(rng: random.Random, number: str, first: int) -> str:
    """Two neighbouring digits from position ``first`` on exchanged (unchanged if they agree)."""
    at = rng.randrange(first, len(number) - 1)
    return number[:at] + number[at + 1] + number[at] + number[at + 2 :]


def _personal_id(
    rng: random.Random, pid: str, old_id: str | None, relative: str | None, errors: list[str]
) -> str:
    if not pid:
        return pid
    draw = rng.random()
    edges = (RATES["M2_ID_EMPTY"], RATES["M2_ID_CMND"], RATES["M2_ID_TRANSPOSED"])
    if draw < edges[0]:
        errors.append("M2_ID_EMPTY")
        return ""
    if draw < edges[0] + edges[1] and old_id:
        # the person's own old number: model 2's own rate of exchanged digits applies to it too
        errors.append("M2_ID_CMND")
        typed = old_id
        if rng.random() < RATES["M2_ID_TRANSPOSED"]:
            typed = _exchanged(rng, old_id, 3)
            if typed != old_id:
                errors.append("M2_ID_CMND_TRANSPOSED")
        return typed
    if edges[0] + edges[1] <= draw < sum(edges):
        at = rng.randrange(3, 11)
        if pid[at] != pid[at + 1]:
            errors.append("M2_ID_TRANSPOSED")
            return pid[:at] + pid[at + 1] + pid[at] + pid[at + 2 :]
    if relative and rng.random() < 0.002:
        errors.append("M2_ID_RELATIVE")
        return relative
    return pid


def _address(rng: random.Random, address: str, errors: list[str]) -> str:
    if not address:
        return address
    if rng.random() < RATES["M2_ADDRESS_EMPTY"]:
        errors.append("M2_ADDRESS_EMPTY")
        return ""
    if rng.random() < RATES["M2_ADDRESS_STYLE"]:
        errors.append("M2_ADDRESS_STYLE")
        style = rng.randrange(3)
        if style == 0:
            for long, short in _ADDRESS_ABBREVIATIONS:
                address = address.replace(long, short)
        elif style == 1:
            address = strip_diacritics(address)
        else:
            parts = [p.strip() for p in address.split(",")]
            address = " - ".join(reversed(parts))
    return address


def _old_ids(folder: Path, records: list[dict[str, str]]) -> dict[str, str]:
    """Each record's person's old 9-digit ID (CMND), by the record's true 12-digit ID.

    The registry's ``old_id`` column holds it for the people it knows. A person the registry
    does not hold (``NOT_IN_REGISTRY``) who was born before 2007 still had a card: their number
    is derived from their 12-digit ID, so all their records carry the same one.
    """
    known: dict[str, str] = {}
    if (folder / "registry.csv").is_file():
        with (folder / "registry.csv").open(encoding="utf-8", newline="") as handle:
            known = {row["personal_id"]: row.get("old_id") or "" for row in csv.DictReader(handle)}
    old_ids: dict[str, str] = {}
    for row in records:
        pid = row["personal_id"]
        if len(pid) != 12 or pid in old_ids:
            continue
        if pid in known:
            old_ids[pid] = known[pid]
        elif row["date_of_birth"][:4] < "2007":
            digest = hashlib.sha256(f"cmnd:{pid}".encode()).digest()
            old_ids[pid] = f"{int.from_bytes(digest[:8], 'big') % 10**9:09d}"
    return old_ids


def apply_error_model_2(folder: Path, seed: int) -> int:
    """Rewrite ``folder``'s records and truth files with model-2 errors; the records touched."""
    rng = random.Random(f"error-model-2:{seed}")
    records_path, truth_path = folder / "records.csv", folder / "truth.csv"
    with records_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        records = list(reader)
    with truth_path.open(encoding="utf-8", newline="") as handle:
        truth_reader = csv.DictReader(handle)
        truth_fields = list(truth_reader.fieldnames or [])
        truth = {row["record_id"]: row for row in truth_reader}
    provinces = sorted({r["birth_province"] for r in records if r["birth_province"]})
    ids = [r["personal_id"] for r in records if len(r["personal_id"]) == 12]
    old_ids = _old_ids(folder, records)
    touched = 0
    for row in records:
        errors: list[str] = []
        old_id = old_ids.get(row["personal_id"])
        row["full_name"] = _name(rng, row["full_name"], errors)
        row["date_of_birth"] = _date(rng, row["date_of_birth"], errors)
        relative = ids[rng.randrange(len(ids))] if ids else None
        row["personal_id"] = _personal_id(rng, row["personal_id"], old_id, relative, errors)
        if row["gender"] and rng.random() < RATES["M2_GENDER_EMPTY"]:
            row["gender"] = ""
            errors.append("M2_GENDER_EMPTY")
        if row["birth_province"]:
            draw = rng.random()
            if draw < RATES["M2_BIRTH_PROVINCE_EMPTY"]:
                row["birth_province"] = ""
                errors.append("M2_BIRTH_PROVINCE_EMPTY")
            elif draw < RATES["M2_BIRTH_PROVINCE_EMPTY"] + RATES["M2_BIRTH_PROVINCE_WRONG"]:
                row["birth_province"] = provinces[rng.randrange(len(provinces))]
                errors.append("M2_BIRTH_PROVINCE_WRONG")
        row["address"] = _address(rng, row["address"], errors)
        if errors:
            touched += 1
            known = truth[row["record_id"]]["errors"]
            truth[row["record_id"]]["errors"] = ";".join(filter(None, [known, *errors]))
    for path, header, rows in (
        (records_path, fields, records),
        (truth_path, truth_fields, list(truth.values())),
    ):
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, quoting=csv.QUOTE_ALL)
            writer.writeheader()
            writer.writerows(rows)
    return touched


MODEL_1_TYPING_OFF = {
    "name_no_diacritics": 0.0,
    "name_nfd": 0.0,
    "name_upper": 0.0,
    "name_legacy_tone": 0.0,
    "name_typo": 0.0,
    "name_middle_missing": 0.0,
    "dob_year_only": 0.0,
    "dob_day_month_swapped": 0.0,
    "dob_format_dmy": 0.0,
    "gender_missing": 0.0,
    "gender_wrong": 0.0,
    "id_missing": 0.0,
    "id_wrong": 0.0,
    "id_old_cmnd": 0.0,
    "id_other_person": 0.0,
}
"""The model-1 rates of typing errors, off: model 2 types the records itself. Population
features (duplicates, twins, namesakes, people missing from the registry) stay."""
