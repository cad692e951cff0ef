"""Where synthetic people live and work: province weights, street and commune names, wages.

Province names come from `nidb.domain.provinces.PROVINCES_63`; this module only adds the weights
the generator draws with (2019 census population, in thousands, rounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from nidb.domain.provinces import MERGER_DATE, PROVINCES_34, PROVINCES_63, successor

POPULATION_2019: dict[str, int] = {
    "01": 8054,
    "02": 855,
    "04": 531,
    "06": 314,
    "08": 785,
    "10": 731,
    "11": 599,
    "12": 461,
    "14": 1249,
    "15": 822,
    "17": 855,
    "19": 1287,
    "20": 782,
    "22": 1321,
    "24": 1804,
    "25": 1464,
    "26": 1152,
    "27": 1369,
    "30": 1893,
    "31": 2029,
    "33": 1253,
    "34": 1861,
    "35": 853,
    "36": 1781,
    "37": 983,
    "38": 3641,
    "40": 3328,
    "42": 1289,
    "44": 896,
    "45": 633,
    "46": 1129,
    "48": 1135,
    "49": 1496,
    "51": 1232,
    "52": 1487,
    "54": 873,
    "56": 1232,
    "58": 591,
    "60": 1231,
    "62": 541,
    "64": 1514,
    "66": 1870,
    "67": 623,
    "68": 1297,
    "70": 995,
    "72": 1170,
    "74": 2456,
    "75": 3097,
    "77": 1149,
    "79": 8993,
    "80": 1689,
    "82": 1765,
    "83": 1289,
    "84": 1009,
    "86": 1023,
    "87": 1600,
    "89": 1908,
    "91": 1723,
    "92": 1236,
    "93": 734,
    "94": 1200,
    "95": 907,
    "96": 1194,
}

MIGRATION_TARGETS: dict[str, float] = {
    "79": 0.40,
    "01": 0.22,
    "74": 0.14,
    "75": 0.08,
    "48": 0.04,
    "27": 0.04,
    "31": 0.04,
    "92": 0.02,
    "77": 0.02,
}
"""Where people born elsewhere mostly live (shares of internal migrants)."""

URBAN_SHARE: dict[str, float] = {
    "79": 0.80,
    "01": 0.50,
    "48": 0.87,
    "31": 0.46,
    "92": 0.70,
    "74": 0.80,
    "75": 0.45,
    "77": 0.52,
    "22": 0.65,
}
DEFAULT_URBAN_SHARE = 0.30

# Regional minimum wages from 1 January 2026 (Decree 293/2025/NĐ-CP) (verify).
REGIONAL_MINIMUM_WAGE = (5_310_000, 4_730_000, 4_140_000, 3_700_000)
WAGE_REGION: dict[str, int] = {
    **{code: 0 for code in ("01", "79", "31", "74", "75", "77")},
    **{code: 1 for code in ("48", "92", "27", "26", "30", "22", "33", "56", "80", "24", "19")},
    **{code: 3 for code in ("02", "04", "06", "11", "12", "14", "15", "62", "67", "45")},
}
"""Province → wage region index (0 = region I); unlisted provinces are region III."""

BASE_SALARY = 2_340_000
"""Lương cơ sở from 1 July 2024 (Decree 73/2024/NĐ-CP): civil servants' wage unit."""

STREETS: tuple[str, ...] = (
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Quang Trung",
    "Nguyễn Trãi",
    "Lê Duẩn",
    "Phan Chu Trinh",
    "Điện Biên Phủ",
    "Hùng Vương",
    "Nguyễn Văn Cừ",
    "Võ Thị Sáu",
    "Trần Phú",
    "Lê Lai",
    "Bà Triệu",
    "Nguyễn Du",
    "Hoàng Diệu",
    "Lạc Long Quân",
    "Âu Cơ",
    "Phạm Văn Đồng",
    "Nguyễn Thị Minh Khai",
    "Cách Mạng Tháng Tám",
    "30 Tháng 4",
    "Lê Thánh Tông",
    "Ngô Quyền",
    "Đinh Tiên Hoàng",
    "Tôn Đức Thắng",
    "Hoàng Văn Thụ",
    "Nguyễn Trung Trực",
    "Phan Đình Phùng",
    "Lê Hồng Phong",
    "Trường Chinh",
    "Võ Văn Kiệt",
    "Nguyễn Chí Thanh",
    "Xô Viết Nghệ Tĩnh",
    "Trần Quang Khải",
    "Lý Tự Trọng",
    "Lê Văn Sỹ",
    "Nguyễn Đình Chiểu",
    "Phan Bội Châu",
    "Hàm Nghi",
    "Yersinia",
    "Kim Mã",
    "Giải Phóng",
    "Tây Sơn",
    "Chu Văn An",
    "Trần Nhân Tông",
    "Nguyễn Văn Linh",
    "Huỳnh Tấn Phát",
)

VILLAGES: tuple[str, ...] = (
    "thôn Đông",
    "thôn Trung",
    "thôn Hạ",
    "thôn Thượng",
    "thôn Nam",
    "thôn Bắc",
    "thôn Mới",
    "thôn 1",
    "thôn 2",
    "thôn 3",
    "thôn 4",
    "thôn 5",
    "thôn 6",
    "thôn 7",
    "xóm Mới",
    "xóm Chùa",
    "xóm Đình",
    "xóm 3",
    "ấp Tân Hòa",
    "ấp Phú Lợi",
    "ấp Bình Thạnh",
    "ấp Long Hưng",
    "ấp 1",
    "ấp 2",
    "ấp 3",
    "ấp Mỹ Phước",
    "bản Nà",
    "bản Pác",
    "bản Mường",
    "tổ dân phố 4",
    "khu phố 2",
    "khu phố 5",
    "thôn Yên Thái",
    "thôn Phú Mỹ",
    "thôn An Lạc",
)

COMMUNES: tuple[str, ...] = (
    "An Bình",
    "An Hòa",
    "An Phú",
    "Bình Minh",
    "Đông Hưng",
    "Hòa Bình",
    "Hưng Đạo",
    "Minh Khai",
    "Nghĩa Đô",
    "Phú Lâm",
    "Phú Mỹ",
    "Quang Trung",
    "Tân An",
    "Tân Bình",
    "Tân Phú",
    "Tân Thành",
    "Thạnh Mỹ",
    "Thanh Xuân",
    "Thuận An",
    "Trung Hòa",
    "Vĩnh Phúc",
    "Yên Hòa",
    "Xuân Phương",
    "Đồng Tâm",
    "Hợp Thành",
    "Kim Liên",
    "Long Thạnh",
    "Mỹ Hòa",
    "Nhơn Hưng",
    "Phước Long",
    "Tân Định",
    "Bến Thành",
    "Hòa Khánh",
    "Cẩm Lệ",
    "Yên Sơn",
    "Đại Đồng",
    "Quỳnh Lưu",
    "Tiên Du",
    "Hiệp Hòa",
    "Định Công",
    "Hòa Thuận",
    "Thủy Xuân",
    "Vĩnh Thủy",
    "Đức Hòa",
    "Tân Thủy",
    "Khánh Hòa",
    "Ngọc Thụy",
    "Phúc Xá",
    "Cát Linh",
    "Tây Hồ",
    "Bình Thủy",
    "An Khánh",
    "Lộc Thọ",
    "Hải Châu",
    "Thới An",
    "Long Bình",
)

COMPANY_FORMS: tuple[tuple[str, float], ...] = (
    ("Công ty TNHH", 0.55),
    ("Công ty Cổ phần", 0.30),
    ("Công ty TNHH MTV", 0.10),
    ("Doanh nghiệp tư nhân", 0.05),
)

BUSINESS_LINES: tuple[tuple[str, str], ...] = (
    ("1410", "May trang phục"),
    ("4100", "Xây dựng nhà các loại"),
    ("4659", "Bán buôn máy móc, thiết bị"),
    ("4711", "Bán lẻ trong siêu thị"),
    ("2610", "Sản xuất linh kiện điện tử"),
    ("1079", "Sản xuất thực phẩm"),
    ("4933", "Vận tải hàng hóa bằng đường bộ"),
    ("6201", "Lập trình máy vi tính"),
    ("5610", "Nhà hàng và dịch vụ ăn uống"),
    ("1520", "Sản xuất giày dép"),
    ("2100", "Sản xuất thuốc"),
    ("6810", "Kinh doanh bất động sản"),
    ("4390", "Hoạt động xây dựng chuyên dụng"),
    ("8299", "Dịch vụ hỗ trợ kinh doanh"),
    ("1622", "Sản xuất đồ gỗ xây dựng"),
    ("0322", "Nuôi trồng thủy sản nội địa"),
)

SECTOR_WORDS: tuple[str, ...] = (
    "Thương mại và Dịch vụ",
    "Xây dựng",
    "May mặc",
    "Thực phẩm",
    "Công nghệ",
    "Vận tải",
    "Điện tử",
    "Dược phẩm",
    "Đầu tư",
    "Sản xuất và Thương mại",
    "Cơ khí",
    "Nội thất",
    "Xuất nhập khẩu",
    "Giày da",
    "Logistics",
    "Bất động sản",
    "Thủy sản",
    "Nhựa",
)

BRAND_WORDS: tuple[str, ...] = (
    "Thành Công",
    "Hòa Phát",
    "Minh Long",
    "Sao Việt",
    "Phú Thịnh",
    "Đại Dương",
    "An Khang",
    "Hưng Thịnh",
    "Tân Tiến",
    "Việt Nhật",
    "Kim Long",
    "Phương Nam",
    "Bình Minh",
    "Trường Sơn",
    "Hoàng Gia",
    "Đông Á",
    "Thiên Phú",
    "Nam Việt",
    "Hải Âu",
    "Quang Minh",
    "Toàn Thắng",
    "Thủy Tiên",
    "Vạn Phúc",
    "Sông Hồng",
    "Mekong",
    "Ánh Dương",
    "Hồng Hà",
    "Phúc Lộc",
    "Tuấn Anh",
    "Hoàng Long",
    "Bảo Ngọc",
    "Nhật Quang",
    "Tân Hoàng Minh",
    "Đức Thành",
)

STATE_UNIT_FORMS: tuple[str, ...] = (
    "Trường Trung học phổ thông",
    "Trường Tiểu học",
    "Trường Trung học cơ sở",
    "Ủy ban nhân dân xã",
    "Ủy ban nhân dân phường",
    "Trung tâm Y tế huyện",
    "Bệnh viện Đa khoa",
    "Chi cục Thuế khu vực",
    "Kho bạc Nhà nước",
)


@dataclass(frozen=True)
class ProvinceTable:
    """The 63 provinces as arrays: code (int), name, population weight, migration weight."""

    codes: npt.NDArray[np.int16]
    names: tuple[str, ...]
    """Names in the 63-province list, as older records and employer files write them."""
    current_names: tuple[str, ...]
    """Names of the units the provinces belong to on the generator's today (34 after the
    2025 merger): the population registry writes addresses with these."""
    weights: npt.NDArray[np.float64]
    migration: npt.NDArray[np.float64]
    urban: npt.NDArray[np.float64]
    wage_region: npt.NDArray[np.int8]

    def index_of(self, code: int) -> int:
        """Row of a 2-digit province code given as an int."""
        return int(np.flatnonzero(self.codes == code)[0])


def build_provinces(today: date) -> ProvinceTable:
    """Join the domain's 63-province list with the generator's weights."""
    codes = sorted(PROVINCES_63)
    missing = sorted(set(codes) ^ set(POPULATION_2019))
    if missing:
        raise RuntimeError(f"province weights and PROVINCES_63 disagree on {missing}")
    weights = np.array([POPULATION_2019[c] for c in codes], dtype=np.float64)
    migration = np.array([MIGRATION_TARGETS.get(c, 0.0) for c in codes], dtype=np.float64)
    return ProvinceTable(
        codes=np.array([int(c) for c in codes], dtype=np.int16),
        names=tuple(PROVINCES_63[c].name for c in codes),
        current_names=tuple(
            PROVINCES_34[successor(c)].name if today >= MERGER_DATE else PROVINCES_63[c].name
            for c in codes
        ),
        weights=weights / weights.sum(),
        migration=migration / migration.sum(),
        urban=np.array([URBAN_SHARE.get(c, DEFAULT_URBAN_SHARE) for c in codes]),
        wage_region=np.array([WAGE_REGION.get(c, 2) for c in codes], dtype=np.int8),
    )
