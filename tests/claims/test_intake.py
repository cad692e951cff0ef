"""A facility sends XML 130 claims through the signed exchange; bad input is refused, coded,
and stores nothing."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from nidb.exchange.partners import add_grant
from nidb.protocol.client import Reply
from nidb.sim.generate.claims import ClaimDraft, LineDraft, envelope, xml_tables
from nidb.store.models_claims import Claim, ClaimLine, ClaimVersion
from tests.conftest import HOSPITAL, Exchange
from tests.seed import BHXH

CARD = f"DN401{BHXH}"
DAY = datetime.now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=1)


def draft(ma_lk: str = "LK1", **change: Any) -> ClaimDraft:
    values: dict[str, Any] = {
        "ma_lk": ma_lk,
        "facility": "01001",
        "card_code": CARD,
        "registered_facility": "01001",
        "admitted": DAY,
        "discharged": DAY + timedelta(hours=2),
        "inpatient": False,
        "lines": [
            LineDraft("service", "02.1896", "Khám bệnh", "1", 42_100),
            LineDraft("drug", "40.17", "Paracetamol 500mg", "10", 350),
        ],
    }
    values.update(change)
    return ClaimDraft(**values)


def send(exchange: Exchange, text: str) -> Reply:
    add_grant(exchange.engine, HOSPITAL, "claims.submit/v1", "KCB", "h", "QĐ 130/QĐ-BYT", "test")
    exchange.http.app.state.exchange.directory.refresh()  # type: ignore[attr-defined]
    return exchange.client().call("claims.submit/v1", "KCB", {"giamdinhhs": text})


def stored(exchange: Exchange) -> tuple[int, int]:
    with exchange.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(Claim)).scalar_one(),
            conn.execute(select(func.count()).select_from(ClaimLine)).scalar_one(),
        )


def test_a_claim_is_stored_and_a_resubmission_replaces_it_keeping_its_history(
    exchange: Exchange,
) -> None:
    reply = send(exchange, envelope("01001", [xml_tables(draft())]))
    assert reply.status == 200, reply.body
    assert reply.body["results"] == [{"ma_lk": "LK1", "result": "accepted", "version": 1}]
    assert stored(exchange) == (1, 2)
    fixed = draft(lines=[LineDraft("service", "02.1896", "Khám bệnh", "1", 42_100)])
    again = send(exchange, envelope("01001", [xml_tables(fixed)]))
    assert again.body["results"] == [{"ma_lk": "LK1", "result": "replaced", "version": 2}]
    assert stored(exchange) == (1, 1)
    with exchange.engine.connect() as conn:
        history = conn.execute(select(ClaimVersion.version, ClaimVersion.snapshot)).all()
        claim = conn.execute(select(Claim.__table__)).one()
    assert [h.version for h in history] == [1]
    assert len(history[0].snapshot["lines"]) == 2
    assert claim.claimed_total == 42_100 and claim.route == "right" and not claim.inpatient


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<GIAMDINHHS><THONGTINDONVI><MACSKCB>&lol3;</MACSKCB></THONGTINDONVI></GIAMDINHHS>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<GIAMDINHHS><THONGTINDONVI><MACSKCB>&xxe;</MACSKCB></THONGTINDONVI></GIAMDINHHS>"""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("<GIAMDINHHS><THONGTINDONVI>", "XML_MALFORMED"),
        (BILLION_LAUGHS, "XML_FORBIDDEN"),
        (XXE, "XML_FORBIDDEN"),
        ("<OTHER/>", "ENVELOPE_ROOT"),
        (envelope("01001", []), "ENVELOPE_EMPTY"),
    ],
)
def test_an_unreadable_or_hostile_envelope_is_refused_with_a_code(
    exchange: Exchange, text: str, code: str
) -> None:
    reply = send(exchange, text)
    assert reply.status == 422
    assert reply.body["error"]["code"] == "E_BODY_INVALID"
    assert reply.body["error"]["detail"].startswith(code)
    assert stored(exchange) == (0, 0)


def test_a_hospital_may_send_claims_of_its_own_facility_only(exchange: Exchange) -> None:
    reply = send(exchange, envelope("79001", [xml_tables(draft(facility="79001"))]))
    assert reply.status == 200
    (result,) = reply.body["results"]
    assert result["result"] == "rejected"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("MACSKCB", "FACILITY_NOT_SENDER")
    ]
    assert stored(exchange) == (0, 0)


def _tables(**change: str) -> dict[str, str]:
    tables = xml_tables(draft())
    tables.update(change)
    return {k: v for k, v in tables.items() if v}


def _xml3(quantity: str, price: str, amount: str) -> str:
    row = (
        "<CHI_TIET_DVKT><MA_LK>LK1</MA_LK><MA_DICH_VU>02.1896</MA_DICH_VU>"
        f"<SO_LUONG>{quantity}</SO_LUONG><DON_GIA_BH>{price}</DON_GIA_BH>"
        f"<THANH_TIEN_BH>{amount}</THANH_TIEN_BH></CHI_TIET_DVKT>"
    )
    return f"<X>{row}</X>"


@pytest.mark.parametrize(
    ("tables", "field", "code"),
    [
        (_tables(XML2="RAW:not*base64!"), "NOIDUNGFILE", "BASE64_INVALID"),
        (_tables(XML3=""), "LOAIHOSO", "TABLE_MISSING"),
        (_tables(XML2="<broken"), "NOIDUNGFILE", "XML_MALFORMED"),
        (
            _tables(XML2='<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><X>&e;</X>'),
            "NOIDUNGFILE",
            "XML_FORBIDDEN",
        ),
        (xml_tables(draft(card_code="DN4019999999999")), "MA_THE_BHYT", "CARD_NOT_FOUND"),
        (xml_tables(draft(card_code="ZZ12")), "MA_THE_BHYT", "CARD_CODE_INVALID"),
        (_tables(XML3=_xml3("-1", "42100", "-42100")), "SO_LUONG", "NOT_POSITIVE"),
        (_tables(XML3=_xml3("1", "99999999999999", "99999999999999")), "DON_GIA_BH", "ABSURD"),
        (_tables(XML3=_xml3("1e9", "1", "1000000000")), "SO_LUONG", "ABSURD"),
        (_tables(XML3=_xml3("NaN", "1", "1")), "SO_LUONG", "NUMBER_INVALID"),
        (_tables(XML3=_xml3("2", "42100", "42100")), "THANH_TIEN_BH", "AMOUNT_MISMATCH"),
        (
            xml_tables(draft(discharged=DAY - timedelta(hours=1))),
            "NGAY_RA",
            "DISCHARGE_BEFORE_ADMISSION",
        ),
    ],
)
def test_a_bad_claim_comes_back_with_coded_field_errors_and_stores_nothing(
    exchange: Exchange, tables: dict[str, str], field: str, code: str
) -> None:
    good = xml_tables(draft("LK2"))
    reply = send(exchange, envelope("01001", [tables, good]))
    assert reply.status == 200
    bad, fine = reply.body["results"]
    assert fine["result"] == "accepted"
    assert bad["result"] == "rejected"
    assert (field, code) in {(e["field"], e["code"]) for e in bad["errors"]}, bad["errors"]
    assert all(e["message_vi"] and e["message_en"] for e in bad["errors"])
    assert stored(exchange) == (1, 2)  # only the good claim


def test_a_sick_leave_certificate_xml11_is_kept_with_the_claim(exchange: Exchange) -> None:
    claim = draft(sick_leave={"MA_BHXH": BHXH, "TU_NGAY": "20260301", "SO_NGAY_NGHI": "3"})
    assert send(exchange, envelope("01001", [xml_tables(claim)])).status == 200
    with exchange.engine.connect() as conn:
        kept = conn.execute(select(Claim.sick_leave)).scalar_one()
    assert kept is not None and kept["SO_NGAY_NGHI"] == "3"


def test_an_envelope_over_the_size_limit_is_refused_before_parsing(exchange: Exchange) -> None:
    from nidb.claims.routes import MAX_ENVELOPE_CHARS

    big = envelope("01001", [xml_tables(draft())]).replace(
        "<GIAMDINHHS>", "<GIAMDINHHS>" + " " * MAX_ENVELOPE_CHARS, 1
    )
    reply = send(exchange, big)
    assert reply.status == 422 and reply.body["error"]["code"] == "E_BODY_INVALID"
    assert stored(exchange) == (0, 0)


def test_an_envelope_of_more_than_100_claims_is_refused_whole(exchange: Exchange) -> None:
    many = envelope("01001", [xml_tables(draft(f"LK{n}")) for n in range(101)])
    reply = send(exchange, many)
    assert reply.status == 422
    assert reply.body["error"]["detail"].startswith("ENVELOPE_TOO_MANY")
    assert stored(exchange) == (0, 0)


@pytest.mark.parametrize(
    ("tables", "field", "code"),
    [
        (_tables(XML1=""), "LOAIHOSO", "TABLE_MISSING"),  # no visit summary
        (_tables(XML2=""), "LOAIHOSO", "TABLE_MISSING"),
        (  # an external DTD (network) and a parameter entity: refused, never fetched
            _tables(XML3='<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><X/>'),
            "NOIDUNGFILE",
            "XML_FORBIDDEN",
        ),
        (
            _tables(XML3='<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]><X/>'),
            "NOIDUNGFILE",
            "XML_FORBIDDEN",
        ),
        (  # valid base64 of bytes that are not UTF-8 XML
            _tables(XML2="RAW:" + base64.b64encode(b"\xff\xfe\x00<\x00X").decode()),
            "NOIDUNGFILE",
            "XML_MALFORMED",
        ),
        (_tables(XML3=_xml3("1", "-5", "-5")), "DON_GIA_BH", "NEGATIVE"),
    ],
)
def test_missing_tables_hostile_dtds_and_undecodable_tables_are_refused_per_claim(
    exchange: Exchange, tables: dict[str, str], field: str, code: str
) -> None:
    reply = send(exchange, envelope("01001", [tables]))
    assert reply.status == 200
    (bad,) = reply.body["results"]
    assert bad["result"] == "rejected"
    assert (field, code) in {(e["field"], e["code"]) for e in bad["errors"]}, bad["errors"]
    assert stored(exchange) == (0, 0)
