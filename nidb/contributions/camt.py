"""Reading a bank-to-customer statement (ISO 20022 camt.053) safely, entry by entry.

Only what reconciliation needs is read: per statement its id and, per credit entry (Ntry with
CdtDbtInd CRDT), the bank's reference (AcctSvcrRef, else the statement id and the entry's
position), the booking date, the amount in whole đồng (VND), the debtor's name and account and
the remittance text (Ustrd, EndToEndId). Any camt.053 version (001.02 … 001.08) is read by
local names.

The file is streamed through expat with handlers that keep only those fields (no element tree
is built: a 100 000-entry statement has ~3 million elements, and building them was most of a
reconciliation's time). The parser is hostile-input safe the way defusedxml's is: a document
type declaration (and with it every entity declaration), an external entity or an undefined
entity refuses the file, parameter entities are never parsed, nothing is fetched from the
network; memory stays flat and the file size is limited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.parsers import expat

__all__ = ["MAX_BYTES", "CamtError", "Entry", "read_entries"]

MAX_BYTES = 200 * 1024 * 1024
"""The largest statement file read (200 MB: ~100 000 entries is ~60 MB)."""

_READ = 1 << 20


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


_PARTIES = ("NtryDtls", "TxDtls", "RltdPties")
_FIELDS: dict[tuple[str, ...], str] = {
    ("CdtDbtInd",): "direction",
    ("Amt",): "amount",
    ("BookgDt", "Dt"): "date",
    ("BookgDt", "DtTm"): "datetime",
    ("AcctSvcrRef",): "reference",
    (*_PARTIES, "Dbtr", "Nm"): "name",
    (*_PARTIES, "Dbtr", "Pty", "Nm"): "party_name",
    (*_PARTIES, "DbtrAcct", "Id", "Othr", "Id"): "account",
    (*_PARTIES, "DbtrAcct", "Id", "IBAN"): "iban",
}
"""The fields of an entry kept, by their path below Ntry (the first one in the entry wins)."""
_REMITTANCE = frozenset({"Ustrd", "EndToEndId"})


def _entry(
    statement_id: str,
    index: int,
    fields: dict[str, str],
    currency: str | None,
    remittance: list[str],
) -> Entry | None:
    where = f"Stmt {statement_id} Ntry {index}"
    if fields.get("direction") != "CRDT":
        return None
    text = fields.get("amount")
    if text is None:
        raise CamtError(f"{where} Amt", "thiếu số tiền", "amount missing")
    if currency != "VND":
        raise CamtError(f"{where} Amt", f"tiền tệ {currency!r} không phải VND", "not VND")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CamtError(f"{where} Amt", f"số tiền {text!r} sai", "bad amount") from None
    if not value.is_finite() or value <= 0 or value != value.to_integral_value():
        raise CamtError(
            f"{where} Amt", f"số tiền {value} không phải số đồng dương", "not whole positive đồng"
        )
    booked = fields.get("date") or fields.get("datetime", "")[:10]
    try:
        booked_on = date.fromisoformat(booked)
    except ValueError:
        raise CamtError(f"{where} BookgDt", f"ngày {booked!r} sai", "bad booking date") from None
    reference = fields.get("reference") or f"{statement_id}#{index}"
    name = fields.get("name") or fields.get("party_name")
    account = fields.get("account") or fields.get("iban")
    return Entry(
        statement_id, reference[:120], booked_on, int(value), account, name, " ".join(remittance)
    )


_PREFIXES = frozenset(path[:n] for path in _FIELDS for n in range(len(path)))


class _Node:
    """Where an open element is: the kind of place, the field it holds, and (by raw expat name,
    filled as names are met) its children, so each element costs one dictionary look-up."""

    __slots__ = ("children", "key", "kind", "rel")

    def __init__(self, kind: str, rel: tuple[str, ...] | None = (), key: str | None = None) -> None:
        self.kind = kind  # root, document, statements, statement, id, entry, inside, other
        self.rel = rel  # the path below Ntry while it can still lead to a field, else None
        self.key = key  # the field kept from this element's text, if any
        self.children: dict[str, _Node] = {}

    def child(self, local: str) -> _Node:
        kind = self.kind
        if kind == "root":
            return _Node("document")
        if kind == "document" and local == "BkToCstmrStmt":
            return _Node("statements")
        if kind == "statements" and local == "Stmt":
            return _Node("statement")
        if kind == "statement":
            if local == "Id":
                return _Node("id", key="statement")
            if local == "Ntry":
                return _Node("entry")
        if kind in ("entry", "inside"):
            rel = (*self.rel, local) if self.rel is not None else None
            key = _FIELDS.get(rel) if rel is not None else None
            if key is None and local in _REMITTANCE:
                key = "remittance"
            return _Node("inside", rel if rel in _PREFIXES else None, key)
        return _OTHER


_OTHER = _Node("other")


class _Reader:
    """Expat handlers: the state of one file's walk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ready: list[Entry] = []
        self.nodes: list[_Node] = [_Node("root")]
        self.root_checked = False
        self.statement_id = ""
        self.index = 0
        self.fields: dict[str, str] = {}
        self.currency: str | None = None
        self.remittance: list[str] = []
        self.capture: list[str] | None = None  # text of the element being kept
        self.capture_as: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        parent = self.nodes[-1]
        node = parent.children.get(name)
        if node is None:
            if not self.root_checked:
                if "camt.053" not in name:
                    raise CamtError(
                        str(self.path), "không phải camt.053", "not a camt.053 document"
                    )
                self.root_checked = True
            node = parent.child(name.rsplit("}", 1)[-1])
            if parent is not _OTHER:
                parent.children[name] = node
        self.nodes.append(node)
        key = node.key
        if key is None:
            self.capture = None
            if node.kind == "entry":
                self.index += 1
                self.fields, self.remittance, self.currency = {}, [], None
            elif node.kind == "statement":
                self.statement_id = ""
            return
        self.capture, self.capture_as = [], key
        if key == "amount":
            self.currency = attrs.get("Ccy")

    def data(self, text: str) -> None:
        if self.capture is not None:
            self.capture.append(text)

    def end(self, name: str) -> None:
        node = self.nodes.pop()
        if self.capture is not None:
            value = "".join(self.capture).strip()
            key = self.capture_as
            self.capture = None
            if key == "remittance":
                if value:
                    self.remittance.append(value)
            elif key == "statement":
                self.statement_id = value
            elif key is not None and value:
                self.fields.setdefault(key, value)
        if node.kind == "entry":
            entry = _entry(
                self.statement_id or self.path.name,
                self.index,
                self.fields,
                self.currency,
                self.remittance,
            )
            if entry is not None:
                self.ready.append(entry)

    def refuse(self, *_args: object) -> int:
        raise CamtError(
            str(self.path),
            "XML có khai báo DTD hoặc thực thể: không nhận",
            "XML with a DTD or entity declaration refused",
        )


def read_entries(path: Path, max_bytes: int = MAX_BYTES) -> Iterator[Entry]:
    """The credit entries of the statement in ``path``, in file order.

    Raises CamtError for a file too large, not XML, with a DTD or entity, or with a bad entry.
    """
    if path.stat().st_size > max_bytes:
        raise CamtError(str(path), f"tệp lớn hơn {max_bytes} byte", f"file over {max_bytes} bytes")
    reader = _Reader(path)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.StartDoctypeDeclHandler = reader.refuse
    parser.EntityDeclHandler = reader.refuse
    parser.UnparsedEntityDeclHandler = reader.refuse
    parser.ExternalEntityRefHandler = reader.refuse
    read = 0
    try:
        with path.open("rb") as source:
            while True:
                block = source.read(_READ)
                read += len(block)
                if read > max_bytes:  # the file grew since it was measured
                    raise CamtError(
                        str(path), f"tệp lớn hơn {max_bytes} byte", f"file over {max_bytes} bytes"
                    )
                parser.Parse(block, not block)
                if reader.ready:
                    yield from reader.ready
                    reader.ready = []
                if not block:
                    break
    except expat.ExpatError as error:
        raise CamtError(str(path), f"XML không đọc được: {error}", "unreadable XML") from None
    if not reader.root_checked:
        raise CamtError(str(path), "không phải camt.053", "not a camt.053 document")
