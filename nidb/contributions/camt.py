"""Reading a bank-to-customer statement (ISO 20022 camt.053) safely, entry by entry.

Only what reconciliation needs is read: the statement id and, per credit entry (Ntry with
CdtDbtInd CRDT), the bank's reference (AcctSvcrRef, else the statement id and the entry's
position), the booking date, the amount in whole đồng (VND), the debtor's name and account and
the remittance text (Ustrd, EndToEndId). Any camt.053 version (001.02 … 001.08) is read by
local names. The parser is defusedxml's (no DTD, no entities, no network) and streams the file
(iterparse, each entry cleared once read), so memory stays flat; the file size is limited.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

__all__ = ["MAX_BYTES", "CamtError", "Entry", "read_entries"]

MAX_BYTES = 200 * 1024 * 1024
"""The largest statement file read (200 MB: ~100 000 entries is ~60 MB)."""


class CamtError(ValueError):
    """The file is not a camt.053 statement nidb can read; names the entry and field."""

    def __init__(self, where: str, message_vi: str, message_en: str) -> None:
        super().__init__(where, message_vi, message_en)
        self.where = where
        self.message_vi = message_vi
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.where}: {self.message_vi} ({self.message_en})"


@dataclass(frozen=True, slots=True)
class Entry:
    """One credit entry of the statement."""

    statement_id: str
    entry_ref: str
    booked_on: date
    amount: int
    debtor_account: str | None
    debtor_name: str | None
    remittance: str


@functools.lru_cache(maxsize=256)
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: Any, *path: str) -> Any:
    found = element
    for name in path:
        found = next((c for c in found if _local(c.tag) == name), None)
        if found is None:
            return None
    return found


def _text(element: Any, *path: str) -> str | None:
    found = _find(element, *path)
    if found is None or found.text is None:
        return None
    return str(found.text).strip() or None


def _all_texts(element: Any, names: tuple[str, ...]) -> list[str]:
    return [str(e.text).strip() for e in element.iter() if e.text and _local(e.tag) in names]


def _entry(statement_id: str, index: int, ntry: Any) -> Entry | None:
    where = f"Stmt {statement_id} Ntry {index}"
    if _text(ntry, "CdtDbtInd") != "CRDT":
        return None
    amount_el = _find(ntry, "Amt")
    if amount_el is None or amount_el.text is None:
        raise CamtError(f"{where} Amt", "thiếu số tiền", "amount missing")
    currency = amount_el.get("Ccy")
    if currency != "VND":
        raise CamtError(f"{where} Amt", f"tiền tệ {currency!r} không phải VND", "not VND")
    try:
        value = Decimal(amount_el.text.strip())
    except InvalidOperation:
        raise CamtError(f"{where} Amt", f"số tiền {amount_el.text!r} sai", "bad amount") from None
    if value <= 0 or value != value.to_integral_value():
        raise CamtError(
            f"{where} Amt", f"số tiền {value} không phải số đồng dương", "not whole positive đồng"
        )
    booked = _text(ntry, "BookgDt", "Dt") or (_text(ntry, "BookgDt", "DtTm") or "")[:10]
    try:
        booked_on = date.fromisoformat(booked)
    except ValueError:
        raise CamtError(f"{where} BookgDt", f"ngày {booked!r} sai", "bad booking date") from None
    reference = _text(ntry, "AcctSvcrRef") or f"{statement_id}#{index}"
    parties = _find(ntry, "NtryDtls", "TxDtls", "RltdPties")
    account = name = None
    if parties is not None:
        name = _text(parties, "Dbtr", "Nm") or _text(parties, "Dbtr", "Pty", "Nm")
        account = _text(parties, "DbtrAcct", "Id", "Othr", "Id") or _text(
            parties, "DbtrAcct", "Id", "IBAN"
        )
    remittance = " ".join(_all_texts(ntry, ("Ustrd", "EndToEndId")))
    return Entry(statement_id, reference[:120], booked_on, int(value), account, name, remittance)


def read_entries(path: Path, max_bytes: int = MAX_BYTES) -> Iterator[Entry]:
    """The credit entries of the statement in ``path``, in file order.

    Raises CamtError for a file too large, not XML, with a DTD or entity, or with a bad entry.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    if path.stat().st_size > max_bytes:
        raise CamtError(str(path), f"tệp lớn hơn {max_bytes} byte", f"file over {max_bytes} bytes")
    statement_id = ""
    header_done = checked = False
    index = 0
    try:
        for _event, element in iterparse(str(path), events=("end",)):
            tag = element.tag
            if not checked:
                if "camt.053" not in tag:
                    raise CamtError(str(path), "không phải camt.053", "not a camt.053 document")
                checked = True
            name = _local(tag)
            if name == "Ntry":
                index += 1
                entry = _entry(statement_id or path.name, index, element)
                element.clear()
                if entry is not None:
                    yield entry
            elif name == "GrpHdr":
                header_done = True
            elif name == "Id" and header_done and not statement_id:
                # Stmt/Id is the first Id after the group header (Stmt's first child)
                statement_id = (element.text or "").strip()
    except (ParseError, DefusedXmlException) as error:
        raise CamtError(str(path), f"XML không đọc được: {error}", "unreadable XML") from None
