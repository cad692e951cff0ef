"""How values are written for people (screens, PDF and XLSX reports): one place for dates, money
and the Vietnamese words of stored codes.

- dates: ``dd/mm/yyyy`` (and ``dd/mm/yyyy HH:MM`` in Vietnam's time zone for instants);
- money: integer đồng with dots between thousands and the word "đồng": ``1.234.567 đồng``
  (never "đ" or "₫"; in spreadsheets the number stays a number, formatted ``#,##0 "đồng"``);
- gender and life status in words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from nidb.domain.catalogues import BENEFICIARY_GROUPS

__all__ = [
    "BENEFIT_KIND_LABELS",
    "BENEFIT_LEVEL_LABELS",
    "LIFE_STATUS_LABELS",
    "XLSX_MONEY_FORMAT",
    "beneficiary_group_label",
    "gender_label",
    "vn_date",
    "vn_datetime",
    "vn_money",
    "vn_partial_date",
]

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

XLSX_MONEY_FORMAT = '#,##0 "đồng"'
"""Number format of money cells in XLSX reports (the value stays an integer)."""

LIFE_STATUS_LABELS = {"alive": "Còn sống", "dead": "Đã mất", "missing": "Mất tích"}
"""The population database's life status (``alive``/``dead``) in words."""

_GENDERS = {"M": "Nam", "F": "Nữ"}

BENEFIT_KIND_LABELS = {
    "pension": "Lương hưu",
    "survivor": "Trợ cấp tuất hằng tháng",
    "unemployment": "Trợ cấp thất nghiệp",
    "one_time": "BHXH một lần",
    "funeral": "Trợ cấp mai táng",
    "sickness": "Ốm đau",
    "maternity": "Thai sản",
}
"""The kinds of benefit (``benefits.kind``) in words, for the portal and the reports."""

BENEFIT_LEVEL_LABELS = {
    1: "100% chi phí khám chữa bệnh, không giới hạn tỷ lệ một số thuốc, vật tư, dịch vụ; "
    "có chi phí vận chuyển",
    2: "100% chi phí khám chữa bệnh, có giới hạn tỷ lệ một số thuốc, vật tư, dịch vụ; "
    "có chi phí vận chuyển",
    3: "95% chi phí khám chữa bệnh",
    4: "80% chi phí khám chữa bệnh",
    5: "100% chi phí khám chữa bệnh, kể cả ngoài phạm vi được hưởng; có chi phí vận chuyển",
}
"""A health-insurance card's benefit level (mức hưởng, the card code's third character) in
words: what the fund pays (reference/domain-research.md, "Benefit levels")."""


def beneficiary_group_label(code: str | None) -> str:
    """A card's participant type (mã đối tượng, ``DN``) in words; the code itself if unknown.

    >>> beneficiary_group_label("DN")
    'Người lao động trong doanh nghiệp'
    """
    group = BENEFICIARY_GROUPS.get(code or "")
    return group.name_vi if group is not None else (code or "")


def vn_date(value: date | None) -> str:
    """``07/12/2026``; empty for None.

    >>> vn_date(date(2026, 12, 7))
    '07/12/2026'
    """
    return value.strftime("%d/%m/%Y") if value is not None else ""


def vn_datetime(value: datetime | None) -> str:
    """``07/12/2026 09:30`` in Vietnam's time zone (a naive value is taken as UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def vn_partial_date(value: str | None) -> str:
    """An ISO partial date (``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY``) as Vietnamese write it.

    >>> vn_partial_date("1980-03-05"), vn_partial_date("1980-03"), vn_partial_date("1980")
    ('05/03/1980', '03/1980', '1980')
    """
    if not value:
        return ""
    parts = str(value).split("-")
    return "/".join(reversed(parts)) if all(p.isdigit() for p in parts) else str(value)


def vn_money(value: int | None) -> str:
    """``1.234.567 đồng``; empty for None.

    >>> vn_money(1234567), vn_money(0)
    ('1.234.567 đồng', '0 đồng')
    """
    return "" if value is None else f"{value:,}".replace(",", ".") + " đồng"


def gender_label(value: str | None) -> str:
    """``Nam`` / ``Nữ`` for the stored ``M`` / ``F``; empty when unknown."""
    return _GENDERS.get(value or "", "")
