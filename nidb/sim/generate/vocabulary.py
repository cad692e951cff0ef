"""Vietnamese name parts with frequency weights, and the token table names are built from.

Family-name shares follow the commonly cited survey figures (Nguyễn ≈ 38%, Trần ≈ 11%,
Lê ≈ 9.5%...). Middle and given names carry hand-set weights: relative frequencies, not
statistics. Registry names use the traditional tone placement (Hòa, Thủy); the modern placement
(Hoà, Thuỷ) only appears as an injected error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.0),
    ("Trần", 11.0),
    ("Lê", 9.5),
    ("Phạm", 7.0),
    ("Hoàng", 5.0),
    ("Phan", 4.5),
    ("Huỳnh", 2.0),
    ("Vũ", 2.3),
    ("Võ", 2.0),
    ("Đặng", 2.1),
    ("Bùi", 2.0),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1.0),
    ("Lý", 0.5),
    # the long tail
    ("Trương", 0.9),
    ("Đinh", 0.8),
    ("Lâm", 0.6),
    ("Mai", 0.5),
    ("Trịnh", 0.5),
    ("Đoàn", 0.5),
    ("Lương", 0.4),
    ("Cao", 0.4),
    ("Hà", 0.4),
    ("Tô", 0.3),
    ("Chu", 0.25),
    ("Tạ", 0.25),
    ("Đào", 0.3),
    ("Lưu", 0.25),
    ("Vương", 0.2),
    ("Thái", 0.2),
    ("Quách", 0.15),
    ("Phùng", 0.15),
    ("Kiều", 0.12),
    ("La", 0.1),
    ("Hứa", 0.1),
    ("Tăng", 0.1),
    ("Mạc", 0.08),
    ("Từ", 0.08),
    ("Diệp", 0.06),
    ("Thân", 0.08),
    ("Khổng", 0.05),
    ("Lục", 0.05),
    ("Triệu", 0.1),
    ("Âu", 0.05),
    ("Châu", 0.12),
    ("Giang", 0.06),
    ("Doãn", 0.05),
    ("Kim", 0.05),
    ("Tôn", 0.05),
    ("Nông", 0.15),
    ("Ninh", 0.05),
    ("Lò", 0.08),
    ("Hầu", 0.04),
)

# (name, weight for people born before 1990, weight for those born from 1990)
MALE_MIDDLE_NAMES: tuple[tuple[str, float, float], ...] = (
    ("Văn", 40, 12),
    ("Minh", 8, 14),
    ("Đức", 7, 10),
    ("Hữu", 6, 4),
    ("Quốc", 5, 6),
    ("Công", 5, 3),
    ("Thành", 4, 4),
    ("Xuân", 4, 2),
    ("Quang", 4, 5),
    ("Đình", 4, 2),
    ("Thanh", 3, 3),
    ("Ngọc", 3, 2),
    ("Anh", 2, 5),
    ("Tuấn", 2, 3),
    ("Trung", 2, 2),
    ("Hoàng", 2, 5),
    ("Gia", 1, 7),
    ("Duy", 2, 3),
    ("Trọng", 2, 2),
    ("Bá", 2, 1),
    ("Tiến", 2, 2),
    ("Mạnh", 1, 2),
    ("Khánh", 1, 2),
    ("Nhật", 1, 4),
    ("Bảo", 1, 5),
    ("Tấn", 2, 2),
    ("Thế", 2, 2),
    ("Phúc", 1, 2),
    ("Hoài", 1, 1),
    ("Trí", 1, 2),
)

FEMALE_MIDDLE_NAMES: tuple[tuple[str, float, float], ...] = (
    ("Thị", 45, 12),
    ("Ngọc", 7, 9),
    ("Thu", 5, 4),
    ("Thanh", 5, 5),
    ("Kim", 4, 3),
    ("Mai", 2, 3),
    ("Minh", 2, 6),
    ("Hồng", 4, 3),
    ("Bích", 2, 1),
    ("Thùy", 3, 4),
    ("Thúy", 2, 1),
    ("Phương", 2, 4),
    ("Hải", 1, 2),
    ("Diệu", 1, 2),
    ("Khánh", 1, 4),
    ("Bảo", 1, 5),
    ("Lan", 1, 1),
    ("Như", 1, 3),
    ("Quỳnh", 1, 3),
    ("Hoài", 1, 2),
    ("Thảo", 1, 2),
    ("Cẩm", 1, 1),
    ("Mỹ", 2, 2),
    ("Ánh", 1, 2),
    ("Tuyết", 1, 1),
    ("Hà", 1, 2),
    ("Gia", 0.5, 4),
    ("Hoàng", 1, 3),
    ("Xuân", 2, 1),
    ("Thủy", 1, 1),
)

# Ordered roughly by popularity; the weight is Zipf-like by rank, see `_zipf`.
MALE_GIVEN_NAMES: tuple[str, ...] = (
    "Hùng",
    "Dũng",
    "Tuấn",
    "Minh",
    "Nam",
    "Hải",
    "Sơn",
    "Long",
    "Thắng",
    "Hoàng",
    "Cường",
    "Hưng",
    "Huy",
    "Quang",
    "Trung",
    "Phong",
    "Đức",
    "Thành",
    "Tùng",
    "Hiếu",
    "Anh",
    "Bình",
    "Tâm",
    "Vinh",
    "Khoa",
    "Hòa",
    "Toàn",
    "Phúc",
    "Tài",
    "Quân",
    "Nghĩa",
    "Đạt",
    "Khánh",
    "Lâm",
    "Thanh",
    "Tú",
    "Việt",
    "Duy",
    "Kiên",
    "Hậu",
    "Lộc",
    "Thịnh",
    "Trí",
    "Phát",
    "Khang",
    "Khôi",
    "Bảo",
    "An",
    "Nhân",
    "Tiến",
    "Trọng",
    "Thái",
    "Tân",
    "Sang",
    "Quý",
    "Chiến",
    "Công",
    "Dương",
    "Định",
    "Đông",
    "Giang",
    "Hào",
    "Hiệp",
    "Hiển",
    "Khải",
    "Lợi",
    "Luân",
    "Mạnh",
    "Nhật",
    "Ninh",
    "Phú",
    "Phước",
    "Phương",
    "Quyết",
    "Thiện",
    "Thông",
    "Tín",
    "Trường",
    "Vũ",
    "Thuận",
    "Thụy",
    "Tường",
    "Hoan",
    "Lực",
    "Tuệ",
    "Thủy",
    "Hạnh",
    "Thạch",
    "Triều",
    "Đăng",
)

FEMALE_GIVEN_NAMES: tuple[str, ...] = (
    "Linh",
    "Hương",
    "Trang",
    "Hà",
    "Lan",
    "Hằng",
    "Thảo",
    "Ngọc",
    "Anh",
    "Phương",
    "Huyền",
    "Mai",
    "Thủy",
    "Hoa",
    "Nhung",
    "Hạnh",
    "Yến",
    "Thu",
    "Loan",
    "Dung",
    "Hiền",
    "Nga",
    "Thúy",
    "Trinh",
    "Vân",
    "Oanh",
    "Uyên",
    "Nhi",
    "Vy",
    "Tuyết",
    "Hòa",
    "Thùy",
    "My",
    "Ngân",
    "Quỳnh",
    "Hồng",
    "Duyên",
    "Giang",
    "Châu",
    "Chi",
    "Diệp",
    "Hân",
    "Huệ",
    "Hường",
    "Khánh",
    "Liên",
    "Ly",
    "Như",
    "Phượng",
    "Quyên",
    "Tâm",
    "Thanh",
    "Thơ",
    "Thư",
    "Thương",
    "Tiên",
    "Trâm",
    "Xuân",
    "Ánh",
    "Bích",
    "Diễm",
    "Diệu",
    "Đào",
    "Gấm",
    "Hảo",
    "Hoài",
    "Kiều",
    "Khuê",
    "Lệ",
    "Liễu",
    "Lụa",
    "Mến",
    "Nguyệt",
    "Nhàn",
    "Ngà",
    "Quế",
    "Sen",
    "Thắm",
    "Thoa",
    "Trúc",
    "Tú",
    "An",
    "Cúc",
    "Đông",
    "Hậu",
    "Lài",
    "Nhạn",
    "Thục",
    "Thụy",
    "Vi",
)

TWO_MIDDLE_NAMES_SHARE = 0.12
NO_MIDDLE_NAME_SHARE = 0.02
MODERN_NAMING_FROM_YEAR = 1990
"""From about this birth year Văn and Thị fall out of fashion as middle names."""


def _zipf(count: int, exponent: float = 0.9, offset: float = 3.0) -> npt.NDArray[np.float64]:
    ranks = np.arange(count, dtype=np.float64)
    weights = 1.0 / (ranks + offset) ** exponent
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def _normalise(weights: list[float]) -> npt.NDArray[np.float64]:
    array = np.asarray(weights, dtype=np.float64)
    return np.asarray(array / array.sum(), dtype=np.float64)


@dataclass(frozen=True)
class NamePart:
    """One list of name parts: indices into `NameVocabulary.tokens` and their probabilities."""

    tokens: npt.NDArray[np.int16]
    weights: npt.NDArray[np.float64]


@dataclass(frozen=True)
class NameVocabulary:
    """Every name token once, and each name list as indices into it."""

    tokens: tuple[str, ...]
    family: NamePart
    middle_male_old: NamePart
    middle_male_new: NamePart
    middle_female_old: NamePart
    middle_female_new: NamePart
    given_male: NamePart
    given_female: NamePart
    common_middles: frozenset[int]
    """Văn and Thị: never the second of two middle names."""


def build_vocabulary() -> NameVocabulary:
    """Collect all name parts into one token table (stable order: first appearance)."""
    tokens: list[str] = []
    index: dict[str, int] = {}

    def ids(names: list[str]) -> npt.NDArray[np.int16]:
        for name in names:
            if name not in index:
                index[name] = len(tokens)
                tokens.append(name)
        return np.array([index[name] for name in names], dtype=np.int16)

    family = NamePart(ids([n for n, _ in FAMILY_NAMES]), _normalise([w for _, w in FAMILY_NAMES]))
    male_ids = ids([n for n, _, _ in MALE_MIDDLE_NAMES])
    female_ids = ids([n for n, _, _ in FEMALE_MIDDLE_NAMES])
    given_male = NamePart(ids(list(MALE_GIVEN_NAMES)), _zipf(len(MALE_GIVEN_NAMES)))
    given_female = NamePart(ids(list(FEMALE_GIVEN_NAMES)), _zipf(len(FEMALE_GIVEN_NAMES)))
    return NameVocabulary(
        tokens=tuple(tokens),
        family=family,
        middle_male_old=NamePart(male_ids, _normalise([w for _, w, _ in MALE_MIDDLE_NAMES])),
        middle_male_new=NamePart(male_ids, _normalise([w for _, _, w in MALE_MIDDLE_NAMES])),
        middle_female_old=NamePart(female_ids, _normalise([w for _, w, _ in FEMALE_MIDDLE_NAMES])),
        middle_female_new=NamePart(female_ids, _normalise([w for _, _, w in FEMALE_MIDDLE_NAMES])),
        given_male=given_male,
        given_female=given_female,
        common_middles=frozenset({index["Văn"], index["Thị"]}),
    )
