"""The e-card's QR code: what a hospital needs to run card.check/v1 for the holder.

The payload is compact JSON with the same field names as the card.check/v1 body
(``card_code``, ``full_name``, ``date_of_birth``, ``gender``), plus ``v`` (format version) and
``svc`` (the service to call), so hospital software can turn a scan into a check without
re-typing. It carries no secret: the check itself still goes through the signed exchange.
"""

from __future__ import annotations

import json
from typing import Any

import segno

QR_VERSION = 1


def card_payload(card_code: str, full_name: str, date_of_birth: str, gender: str | None) -> str:
    """The text encoded in the QR code."""
    body: dict[str, Any] = {
        "v": QR_VERSION,
        "svc": "card.check/v1",
        "card_code": card_code,
        "full_name": full_name,
        "date_of_birth": date_of_birth,
    }
    if gender:
        body["gender"] = gender
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def qr_svg(payload: str) -> str:
    """An inline SVG of ``payload`` (error correction M, quiet zone kept), no inline styles.

    segno's output is plain markup (path data and attributes), safe under a CSP without
    ``'unsafe-inline'`` styles; the width scales through CSS.
    """
    qr = segno.make(payload, error="m", micro=False)
    svg = qr.svg_inline(
        scale=4, border=4, omitsize=True, dark="#000", light="#fff", title="Mã QR thẻ BHYT"
    )
    return svg.replace("<svg ", '<svg role="img" aria-label="Mã QR thẻ BHYT" ', 1)
