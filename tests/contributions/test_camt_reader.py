"""The camt.053 reader (expat handlers, no element tree): the same entries whatever the block
size, each statement's own id, prefixed namespaces, and every DOCTYPE refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nidb.contributions import camt
from nidb.contributions.camt import CamtError, read_entries
from nidb.sim.bank.camt import NAMESPACE, Credit, write_statement

DAY = date(2026, 9, 10)


def credits(n: int) -> list[Credit]:
    return [
        Credit(f"FT{i}", 1_000 + i, DAY, f"CONG TY {i} & CO", f"00{i}", f"BHXH DN{i:03d} thang 8")
        for i in range(n)
    ]


def test_the_entries_are_the_same_whatever_the_block_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.xml"
    write_statement(path, "STMT-1", "123", DAY, credits(50), debits=5)
    whole = list(read_entries(path))
    monkeypatch.setattr(camt, "_READ", 7)  # names and texts split across blocks
    assert list(read_entries(path)) == whole
    assert len(whole) == 50
    first = whole[0]
    assert (first.entry_ref, first.amount, first.booked_on) == ("FT0", 1_000, DAY)
    assert (first.debtor_name, first.debtor_account) == ("CONG TY 0 & CO", "000")
    assert first.remittance == "FT0 BHXH DN000 thang 8"


def test_each_statement_of_a_file_keeps_its_own_id_and_prefixes_are_read(tmp_path: Path) -> None:
    entry = (
        '<c:Ntry><c:Amt Ccy="VND">{amount}</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd>'
        "<c:BookgDt><c:DtTm>2026-09-10T08:00:00+07:00</c:DtTm></c:BookgDt>"
        "<c:NtryDtls><c:TxDtls><c:RltdPties><c:Dbtr><c:Pty><c:Nm>A</c:Nm></c:Pty></c:Dbtr>"
        "<c:DbtrAcct><c:Id><c:IBAN>VN01</c:IBAN></c:Id></c:DbtrAcct></c:RltdPties>"
        "<c:RmtInf><c:Ustrd>BHXH DN001</c:Ustrd><c:Ustrd> </c:Ustrd></c:RmtInf>"
        "</c:TxDtls></c:NtryDtls></c:Ntry>"
    )
    path = tmp_path / "two.xml"
    path.write_text(
        f'<?xml version="1.0"?><c:Document xmlns:c="{NAMESPACE}"><c:BkToCstmrStmt>'
        "<c:GrpHdr><c:MsgId>M</c:MsgId></c:GrpHdr>"
        f"<c:Stmt><c:Id>S-1</c:Id>{entry.format(amount=5)}</c:Stmt>"
        f"<c:Stmt><c:Id>S-2</c:Id>{entry.format(amount=7)}</c:Stmt>"
        "</c:BkToCstmrStmt></c:Document>"
    )
    one, two = read_entries(path)
    assert (one.statement_id, one.entry_ref, one.amount) == ("S-1", "S-1#1", 5)
    assert (two.statement_id, two.entry_ref, two.amount) == ("S-2", "S-2#2", 7)
    assert (one.booked_on, one.debtor_name, one.debtor_account) == (DAY, "A", "VN01")
    assert one.remittance == "BHXH DN001"


@pytest.mark.parametrize(
    "prolog",
    [
        "<!DOCTYPE Document>",
        '<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/camt.dtd">',
        '<!DOCTYPE Document [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    ],
)
def test_any_doctype_is_refused(tmp_path: Path, prolog: str) -> None:
    path = tmp_path / "d.xml"
    path.write_text(f'<?xml version="1.0"?>{prolog}<Document xmlns="{NAMESPACE}"/>')
    with pytest.raises(CamtError, match="DTD"):
        list(read_entries(path))


def test_an_undefined_entity_or_broken_xml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.xml"
    path.write_text(f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>&x;</BkToCstmrStmt></Document>')
    with pytest.raises(CamtError, match="XML"):
        list(read_entries(path))
    path.write_text(f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>')
    with pytest.raises(CamtError, match="XML"):
        list(read_entries(path))
    path.write_text("")
    with pytest.raises(CamtError):
        list(read_entries(path))
