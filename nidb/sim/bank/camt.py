"""Writes bank-to-customer statements (ISO 20022 camt.053.001.08) as a bank would send them.

Used by the tests, the benchmark and the demo to produce statement files for nidb to reconcile;
streams its output, so a statement of 100 000 entries takes little memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["NAMESPACE", "Credit", "write_statement"]

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


@dataclass(frozen=True, slots=True)
class Credit:
    """A credit to the collecting account (money an employer sent)."""

    reference: str  # the bank's own entry reference (AcctSvcrRef)
    amount: int  # đồng
    booked_on: date
    debtor_name: str
    debtor_account: str
    remittance: str  # what the payer wrote (nội dung chuyển khoản)


def _entry(credit: Credit) -> str:
    return (
        "<Ntry>"
        f'<Amt Ccy="VND">{credit.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{credit.booked_on.isoformat()}</Dt></BookgDt>"
        f"<AcctSvcrRef>{escape(credit.reference)}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn>"
        "</BkTxCd><NtryDtls><TxDtls><Refs>"
        f"<EndToEndId>{escape(credit.reference)}</EndToEndId></Refs>"
        f'<Amt Ccy="VND">{credit.amount}</Amt>'
        f"<RltdPties><Dbtr><Pty><Nm>{escape(credit.debtor_name)}</Nm></Pty></Dbtr>"
        f"<DbtrAcct><Id><Othr><Id>{escape(credit.debtor_account)}</Id></Othr></Id></DbtrAcct>"
        "</RltdPties>"
        f"<RmtInf><Ustrd>{escape(credit.remittance)}</Ustrd></RmtInf>"
        "</TxDtls></NtryDtls></Ntry>\n"
    )


def write_statement(
    path: Path,
    statement_id: str,
    account: str,
    day: date,
    credits: Iterable[Credit],
    debits: int = 0,
) -> None:
    """Write one statement of ``account`` for ``day`` with ``credits`` (and ``debits`` debit
    entries, which reconciliation must skip)."""
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>')
        out.write(
            f"<GrpHdr><MsgId>MSG-{escape(statement_id)}</MsgId>"
            f"<CreDtTm>{day.isoformat()}T23:00:00+07:00</CreDtTm></GrpHdr>"
        )
        out.write(
            f"<Stmt><Id>{escape(statement_id)}</Id>"
            f"<CreDtTm>{day.isoformat()}T23:00:00+07:00</CreDtTm>"
            f"<Acct><Id><Othr><Id>{escape(account)}</Id></Othr></Id><Ccy>VND</Ccy></Acct>\n"
        )
        for credit in credits:
            out.write(_entry(credit))
        for n in range(debits):
            out.write(
                f'<Ntry><Amt Ccy="VND">{1000 + n}</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
                f"<BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>"
                f"<AcctSvcrRef>FEE-{statement_id}-{n}</AcctSvcrRef></Ntry>\n"
            )
        out.write("</Stmt></BkToCstmrStmt></Document>\n")
