"""A facility downloads its quarter's settlement, data and PDF, through the signed exchange."""

from __future__ import annotations

import base64
from pathlib import Path

from nidb.claims.assess import assess_claims
from nidb.claims.catalogue import import_catalogue
from nidb.exchange.partners import add_grant
from nidb.sim.generate.claims import LineDraft, envelope, write_catalogues, xml_tables
from tests.analytics.pdftext import page_texts
from tests.claims.test_intake import DAY, draft
from tests.conftest import HOSPITAL, Exchange


def test_the_quarter_settlement_says_what_was_claimed_accepted_and_reduced_and_why(
    exchange: Exchange, tmp_path: Path
) -> None:
    for kind, path in write_catalogues(tmp_path, ["01"]).items():
        import_catalogue(exchange.engine, kind, path, "test")
    for service in ("claims.submit/v1", "claims.settlement/v1"):
        add_grant(exchange.engine, HOSPITAL, service, "KCB", "h", "QĐ 130/QĐ-BYT", "test")
    exchange.http.app.state.exchange.directory.refresh()  # type: ignore[attr-defined]
    client = exchange.client()
    over = LineDraft("drug", "40.17", "Paracetamol 500mg", "10", 500)  # catalogue: 350
    claims = [
        draft("S1"),
        draft("S2", lines=[over, LineDraft("service", "18.0200", "CT", "1", 522_000)]),
    ]
    sent = client.call(
        "claims.submit/v1",
        "KCB",
        {"giamdinhhs": envelope("01001", [xml_tables(c) for c in claims])},
    )
    assert sent.body["accepted"] == 2
    assess_claims(exchange.engine, "test")

    quarter = (DAY.month - 1) // 3 + 1
    reply = client.call("claims.settlement/v1", "KCB", {"year": DAY.year, "quarter": quarter})
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["facility_code"] == "01001"
    assert body["claims"] == {"accepted": 1, "reduced": 1}
    assert body["claimed"] == 45_600 + 527_000
    assert body["accepted"] == 45_600 + 525_500 and body["reduced"] == 1_500
    assert body["reductions"] == [
        {
            "rule": "over_price",
            "title_vi": "Đơn giá cao hơn giá thanh toán BHYT",
            "times": 1,
            "amount": 1_500,
        }
    ]
    text = " ".join(page_texts(base64.b64decode(body["statement_pdf"])))
    assert "QUYẾT TOÁN CHI PHÍ KHÁM BỆNH" in text
    assert f"Quý {quarter} năm {DAY.year}" in text
    assert "1.500 đồng" in text and "Đơn giá cao hơn giá thanh toán BHYT" in text

    empty = client.call("claims.settlement/v1", "KCB", {"year": 2001, "quarter": 1})
    assert empty.body["claimed"] == 0 and empty.body["claims"] == {}
    refused = client.call("claims.settlement/v1", "KCB", {"year": 2026, "quarter": 5})
    assert refused.status == 422
