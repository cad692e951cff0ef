"""The assessment's rules (quy tắc giám định): codes, Vietnamese and English explanations.

Each rule either rejects a whole claim (``CLAIM_RULES``) or reduces a line (``LINE_RULES``).
The SQL that applies them is nidb.claims.assess; the wording lives here, once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

CLAIM_RULES = ("card_invalid", "card_suspended", "facility_no_contract", "overlapping_inpatient")
LINE_RULES = ("not_in_catalogue", "over_price", "duplicate_line", "wrong_route")
RULES = CLAIM_RULES + LINE_RULES

TITLES: dict[str, tuple[str, str]] = {
    "card_invalid": ("Thẻ BHYT không có giá trị sử dụng", "card not valid on the visit date"),
    "card_suspended": ("Thẻ BHYT bị tạm khóa hoặc thu hồi", "card suspended or revoked"),
    "facility_no_contract": ("Cơ sở không có hợp đồng KCB BHYT", "facility without a contract"),
    "overlapping_inpatient": (
        "Điều trị nội trú chồng lấn thời gian",
        "overlapping inpatient stays",
    ),
    "not_in_catalogue": ("Thuốc, dịch vụ ngoài danh mục", "drug or service not in the catalogue"),
    "over_price": ("Đơn giá cao hơn giá thanh toán BHYT", "price above the insurer's price"),
    "duplicate_line": ("Dòng chi phí trùng lặp", "duplicated line"),
    "wrong_route": ("Khám chữa bệnh trái tuyến", "outside the registered route"),
    # not a rule of the automatic assessment: a staff member's review (nidb.claims.review)
    "staff_adjustment": ("Cán bộ giám định điều chỉnh", "adjusted by a staff reviewer"),
}


def dong(amount: int) -> str:
    """Money as Vietnamese screens write it: ``1.234.567 đồng``."""
    return f"{amount:,} đồng".replace(",", ".")


def day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def claim_reason(rule: str, r: dict[str, Any]) -> dict[str, Any]:
    """The reason a whole claim is rejected, for the facility and the staff."""
    vi: str
    en: str
    if rule == "card_invalid":
        vi = (
            f"Thẻ BHYT {r['card_code']} không có giá trị sử dụng ngày {day(r['visit_day'])}; "
            f"từ chối thanh toán toàn bộ {dong(r['claimed_total'])}."
        )
        en = f"Card {r['card_code']} is not valid on {r['visit_day']}; the whole claim is refused."
    elif rule == "card_suspended":
        vi = (
            f"Thẻ BHYT {r['card_code']} đang bị tạm khóa hoặc thu hồi ngày {day(r['visit_day'])}; "
            f"từ chối thanh toán toàn bộ {dong(r['claimed_total'])}."
        )
        en = f"Card {r['card_code']} is suspended or revoked; the whole claim is refused."
    elif rule == "facility_no_contract":
        vi = (
            f"Cơ sở {r['facility_code']} không có hợp đồng KCB BHYT ngày {day(r['visit_day'])}; "
            f"từ chối thanh toán toàn bộ {dong(r['claimed_total'])}."
        )
        en = f"Facility {r['facility_code']} has no contract on {r['visit_day']}."
    else:
        vi = r["overlap_vi"] + " Hồ sơ vào viện sau bị từ chối."
        en = r["overlap_en"] + " The later stay is refused."
    return {"rule": rule, "amount": r["claimed_total"], "explanation_vi": vi, "explanation_en": en}


def line_reductions(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The reductions of one line, each with its amount and explanation."""
    found: list[dict[str, Any]] = []
    what = "Thuốc" if r["kind"] == "drug" else "Dịch vụ"

    def add(rule: str, amount: int, vi: str, en: str) -> None:
        if amount > 0:
            found.append(
                {"rule": rule, "amount": amount, "explanation_vi": vi, "explanation_en": en}
            )

    if r["duplicate_of"] is not None:
        add(
            "duplicate_line",
            r["amount"],
            f"Dòng {r['line_no']} trùng dòng {r['duplicate_of']} ({r['item_code']}, cùng số lượng "
            f"và đơn giá): giảm trừ {dong(r['amount'])}.",
            f"Line {r['line_no']} repeats line {r['duplicate_of']}: {r['amount']} VND refused.",
        )
    elif r["catalogue_price"] is None:
        add(
            "not_in_catalogue",
            r["amount"],
            f"{what} {r['item_code']} không có trong danh mục thanh toán BHYT ngày "
            f"{day(r['visit_day'])}: giảm trừ {dong(r['amount'])}.",
            f"{r['item_code']} is not in the catalogue on {r['visit_day']}.",
        )
    else:
        add(
            "over_price",
            r["price_reduction"],
            f"Đơn giá {dong(r['unit_price'])} của {r['item_code']} cao hơn giá thanh toán BHYT "
            f"{dong(r['catalogue_price'])}: giảm trừ {dong(r['price_reduction'])}.",
            f"Unit price {r['unit_price']} above the insurer's {r['catalogue_price']}.",
        )
        add(
            "wrong_route",
            r["route_reduction"],
            f"Khám chữa bệnh trái tuyến tại cơ sở tuyến {r['facility_level']}: quỹ chỉ thanh toán "
            f"{r['route_pct']}% — giảm trừ {dong(r['route_reduction'])}.",
            f"Outside the registered route: the fund pays {r['route_pct']}% here.",
        )
    return found
