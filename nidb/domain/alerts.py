"""The detection rules' names in words: one owner for what a rule is called.

``nidb.detect`` runs the rules and the console and the reports name them; a rule's
Vietnamese title is what staff and reports show (never the rule's code name), the English one
is for the command line's bilingual output.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["ALERT_RULE_TITLES", "alert_rule_label"]

ALERT_RULE_TITLES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "card_after_death": (
            "Thẻ BHYT dùng sau khi chủ thẻ mất",
            "health card used after the holder's death",
        ),
        "benefit_after_death": (
            "Chế độ vẫn chi trả sau khi người hưởng mất",
            "benefit paid after the beneficiary's death",
        ),
        "overlapping_inpatient": (
            "Điều trị nội trú chồng lấn trên cùng một thẻ",
            "overlapping inpatient stays on one card",
        ),
        "two_provinces_same_day": (
            "Một thẻ khám ở hai tỉnh trong cùng một ngày",
            "one card at facilities in two provinces the same day",
        ),
        "duplicate_claim": (
            "Một lượt khám đề nghị thanh toán hai lần",
            "the same claim twice",
        ),
        "cost_outlier": (
            "Chi phí lượt khám bất thường so với cùng chương bệnh",
            "visit cost extreme for its ICD-10 chapter",
        ),
        "facility_cost_outlier": (
            "Cơ sở có chi phí trung vị bất thường theo chương bệnh",
            "facility's median cost extreme for an ICD-10 chapter",
        ),
        "visits_per_card_outlier": (
            "Thẻ BHYT đi khám nhiều bất thường",
            "card with an extreme number of visits",
        ),
        "employer_under_declared": (
            "Đơn vị khai ít lao động tham gia hơn số đăng ký",
            "employer insuring fewer workers than it registered",
        ),
        "contributions_stopped": (
            "Đơn vị đang hoạt động ngừng đóng BHXH",
            "active employer whose contributions stopped",
        ),
    }
)
"""Rule name → (Vietnamese title, English title)."""


def alert_rule_label(name: str) -> str:
    """A rule's Vietnamese title; the name itself for a rule nidb no longer has.

    >>> alert_rule_label("card_after_death")
    'Thẻ BHYT dùng sau khi chủ thẻ mất'
    """
    titles = ALERT_RULE_TITLES.get(name)
    return titles[0] if titles is not None else name
