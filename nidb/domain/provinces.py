"""Province codes (mã tỉnh): the 63-province list and the 34-province list of 1 July 2025.

Resolution 202/2025/QH15 merged the 63 provinces into 34 from 1 July 2025 (codes in Decision
19/2025/QĐ-TTg). A merged province keeps the code of the province that hosts its People's
Committee; the other codes are closed and never reused. Identifiers issued earlier (personal
IDs, health-insurance cards) keep their old codes, so both lists stay valid as identifiers and
a code such as "15" means Yên Bái until 30 June 2025 and Lào Cai after: validity is by date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

from nidb.domain.errors import InvalidProvinceCode, Rule

__all__ = [
    "MERGER_DATE",
    "PROVINCES_34",
    "PROVINCES_63",
    "Province",
    "id_prefix",
    "is_province_code",
    "predecessors",
    "province",
    "successor",
    "successor_or",
]

MERGER_DATE = date(2025, 7, 1)
_LAST_DAY_BEFORE_MERGER = MERGER_DATE - timedelta(days=1)

# Thừa Thiên Huế became the centrally-run city of Huế on 1 January 2025 (Resolution
# 175/2024/QH15), half a year before the merger, which left it unchanged.
_HUE_CITY_DATE = date(2025, 1, 1)


@dataclass(frozen=True, slots=True)
class Province:
    """A province-level unit (tỉnh / thành phố trực thuộc trung ương) and when its code held."""

    code: str  # 2 digits
    name: str
    valid_from: date | None  # None: valid since before any record nidb holds
    valid_to: date | None  # last day valid; None: still valid

    def is_valid_on(self, on: date) -> bool:
        """Whether this code meant this unit on the given day."""
        starts_ok = self.valid_from is None or self.valid_from <= on
        return starts_ok and (self.valid_to is None or on <= self.valid_to)


# The 63 provinces (Decision 124/2004/QĐ-TTg codes), in force until 30 June 2025.
_NAMES_63: dict[str, str] = {
    "01": "Hà Nội", "02": "Hà Giang", "04": "Cao Bằng", "06": "Bắc Kạn",
    "08": "Tuyên Quang", "10": "Lào Cai", "11": "Điện Biên", "12": "Lai Châu",
    "14": "Sơn La", "15": "Yên Bái", "17": "Hòa Bình", "19": "Thái Nguyên",
    "20": "Lạng Sơn", "22": "Quảng Ninh", "24": "Bắc Giang", "25": "Phú Thọ",
    "26": "Vĩnh Phúc", "27": "Bắc Ninh", "30": "Hải Dương", "31": "Hải Phòng",
    "33": "Hưng Yên", "34": "Thái Bình", "35": "Hà Nam", "36": "Nam Định",
    "37": "Ninh Bình", "38": "Thanh Hóa", "40": "Nghệ An", "42": "Hà Tĩnh",
    "44": "Quảng Bình", "45": "Quảng Trị", "46": "Thừa Thiên Huế", "48": "Đà Nẵng",
    "49": "Quảng Nam", "51": "Quảng Ngãi", "52": "Bình Định", "54": "Phú Yên",
    "56": "Khánh Hòa", "58": "Ninh Thuận", "60": "Bình Thuận", "62": "Kon Tum",
    "64": "Gia Lai", "66": "Đắk Lắk", "67": "Đắk Nông", "68": "Lâm Đồng",
    "70": "Bình Phước", "72": "Tây Ninh", "74": "Bình Dương", "75": "Đồng Nai",
    "77": "Bà Rịa - Vũng Tàu", "79": "TP. Hồ Chí Minh", "80": "Long An", "82": "Tiền Giang",
    "83": "Bến Tre", "84": "Trà Vinh", "86": "Vĩnh Long", "87": "Đồng Tháp",
    "89": "An Giang", "91": "Kiên Giang", "92": "Cần Thơ", "93": "Hậu Giang",
    "94": "Sóc Trăng", "95": "Bạc Liêu", "96": "Cà Mau",
}  # fmt: skip

# The 34 units from 1 July 2025 (Decision 19/2025/QĐ-TTg).
_NAMES_34: dict[str, str] = {
    "01": "Hà Nội", "04": "Cao Bằng", "08": "Tuyên Quang", "11": "Điện Biên",
    "12": "Lai Châu", "14": "Sơn La", "15": "Lào Cai", "19": "Thái Nguyên",
    "20": "Lạng Sơn", "22": "Quảng Ninh", "24": "Bắc Ninh", "25": "Phú Thọ",
    "31": "Hải Phòng", "33": "Hưng Yên", "37": "Ninh Bình", "38": "Thanh Hóa",
    "40": "Nghệ An", "42": "Hà Tĩnh", "44": "Quảng Trị", "46": "Huế",
    "48": "Đà Nẵng", "51": "Quảng Ngãi", "52": "Gia Lai", "56": "Khánh Hòa",
    "66": "Đắk Lắk", "68": "Lâm Đồng", "75": "Đồng Nai", "79": "TP. Hồ Chí Minh",
    "80": "Tây Ninh", "82": "Đồng Tháp", "86": "Vĩnh Long", "91": "An Giang",
    "92": "Cần Thơ", "96": "Cà Mau",
}  # fmt: skip

# Resolution 202/2025/QH15: each new code and the old codes merged into it, the seat first.
_MERGER: dict[str, tuple[str, ...]] = {
    "01": ("01",), "04": ("04",), "08": ("08", "02"), "11": ("11",), "12": ("12",),
    "14": ("14",), "15": ("15", "10"), "19": ("19", "06"), "20": ("20",), "22": ("22",),
    "24": ("24", "27"), "25": ("25", "26", "17"), "31": ("31", "30"), "33": ("33", "34"),
    "37": ("37", "35", "36"), "38": ("38",), "40": ("40",), "42": ("42",), "44": ("44", "45"),
    "46": ("46",), "48": ("48", "49"), "51": ("51", "62"), "52": ("52", "64"),
    "56": ("56", "58"), "66": ("66", "54"), "68": ("68", "67", "60"), "75": ("75", "70"),
    "79": ("79", "74", "77"), "80": ("80", "72"), "82": ("82", "87"), "86": ("86", "83", "84"),
    "91": ("91", "89"), "92": ("92", "94", "93"), "96": ("96", "95"),
}  # fmt: skip

_SUCCESSOR: dict[str, str] = {old: new for new, olds in _MERGER.items() for old in olds}


def _build_catalogues() -> tuple[dict[str, Province], dict[str, Province]]:
    """Give each code one record per name it has carried, dated by when it carried it."""
    old: dict[str, Province] = {}
    new: dict[str, Province] = {}
    for code, name in _NAMES_63.items():
        survives_unchanged = _NAMES_34.get(code) == name
        # A surviving code with an unchanged name is one continuous record in both lists.
        valid_to = None if survives_unchanged else _LAST_DAY_BEFORE_MERGER
        if code == "46":
            valid_to = _HUE_CITY_DATE - timedelta(days=1)
        old[code] = Province(code, name, None, valid_to)
    for code, name in _NAMES_34.items():
        if old[code].valid_to is None:
            new[code] = old[code]
        else:
            start = _HUE_CITY_DATE if code == "46" else MERGER_DATE
            new[code] = Province(code, name, start, None)
    return old, new


_OLD, _NEW = _build_catalogues()
PROVINCES_63: Mapping[str, Province] = MappingProxyType(_OLD)
PROVINCES_34: Mapping[str, Province] = MappingProxyType(_NEW)

# Every record a code has had, newest first, for look-ups by date.
# A code that survived unchanged has one record shared by both lists, hence the de-duplication.
_HISTORY: dict[str, tuple[Province, ...]] = {
    code: tuple(dict.fromkeys(p for p in (_NEW.get(code), _OLD[code]) if p is not None))
    for code in _OLD
}


def _two_digits(code: str) -> str | None:
    """Accept the 2-digit code or the 3-digit form used in personal IDs ("001")."""
    code = code.strip()
    if len(code) == 3 and code[0] == "0":
        code = code[1:]
    return code if code in _HISTORY else None


def _unknown(field: str, code: str, on: date | None = None) -> InvalidProvinceCode:
    if on is None:
        return InvalidProvinceCode(
            field,
            code,
            Rule.PROVINCE_UNKNOWN,
            "mã tỉnh không có trong danh mục 63 hoặc 34 tỉnh",
            "province code is in neither the 63- nor the 34-province list",
        )
    return InvalidProvinceCode(
        field,
        code,
        Rule.PROVINCE_UNKNOWN,
        f"mã tỉnh không có hiệu lực vào ngày {on.isoformat()}",
        f"province code not valid on {on.isoformat()}",
    )


def province(code: str, on: date | None = None, *, field: str = "province") -> Province:
    """Look up a province by its 2-digit code or its 3-digit personal-ID form.

    With `on`, return the unit the code meant that day (so "15" is Yên Bái on 2025-06-30 and
    Lào Cai on 2025-07-01); a code closed by then raises. Without `on`, any code ever valid is
    accepted and the newest record is returned. Raises InvalidProvinceCode (PROVINCE_UNKNOWN).
    """
    two = _two_digits(code)
    if two is None:
        raise _unknown(field, code)
    history = _HISTORY[two]
    if on is None:
        return history[0]
    for record in history:
        if record.is_valid_on(on):
            return record
    raise _unknown(field, code, on)


def is_province_code(code: str) -> bool:
    """Whether `code` is a 2-digit code of the 63- or the 34-province list."""
    return len(code) == 2 and code in _HISTORY


def successor(code: str) -> str:
    """The 34-list code that an old (63-list) code was merged into; itself if it survived.

    Accepts the 3-digit form too; always returns 2 digits. Raises InvalidProvinceCode.
    """
    two = _two_digits(code)
    if two is None:
        raise _unknown("province", code)
    return _SUCCESSOR[two]


def successor_or(code: str | None, default: str) -> str:
    """:func:`successor` of ``code``, or ``default`` when it is empty or no province code.

    >>> successor_or("10", "00"), successor_or("xx", "00"), successor_or(None, "")
    ('15', '00', '')
    """
    if not code:
        return default
    try:
        return successor(code)
    except InvalidProvinceCode:
        return default


def predecessors(code34: str) -> tuple[str, ...]:
    """The old codes merged into a 34-list code, the code itself (the seat) first.

    Raises InvalidProvinceCode when `code34` is not a code of the 34-province list.
    """
    two = _two_digits(code34)
    if two is None or two not in _MERGER:
        raise InvalidProvinceCode(
            "province",
            code34,
            Rule.PROVINCE_UNKNOWN,
            "mã tỉnh không có trong danh mục 34 tỉnh từ 01/07/2025",
            "province code is not in the 34-province list of 2025-07-01",
        )
    return _MERGER[two]


def id_prefix(code: str) -> str:
    """The 3-digit form of a province code used in personal IDs: "01" -> "001".

    Raises InvalidProvinceCode for a code in neither list.
    """
    two = _two_digits(code)
    if two is None:
        raise _unknown("province", code)
    return "0" + two
