"""ICD-10 chapters (chương ICD-10): which of the 22 chapters a diagnosis code belongs to.

The Ministry of Health uses WHO's ICD-10 (Decision 4469/QĐ-BYT); a chapter is a range of
three-character categories, e.g. chapter X "Diseases of the respiratory system" is J00–J99.
Cost comparisons group visits by chapter: finer than "all visits", coarse enough that every
chapter has many visits at a large facility.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Chapter:
    """One ICD-10 chapter: its number, roman numeral, category range and titles."""

    number: int
    roman: str
    first: str
    last: str
    title_vi: str
    title_en: str


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        1,
        "I",
        "A00",
        "B99",
        "Bệnh nhiễm trùng và ký sinh trùng",
        "Certain infectious and parasitic diseases",
    ),
    Chapter(2, "II", "C00", "D48", "Khối u", "Neoplasms"),
    Chapter(
        3,
        "III",
        "D50",
        "D89",
        "Bệnh của máu, cơ quan tạo máu và cơ chế miễn dịch",
        "Diseases of the blood and immune mechanism",
    ),
    Chapter(
        4,
        "IV",
        "E00",
        "E90",
        "Bệnh nội tiết, dinh dưỡng và chuyển hóa",
        "Endocrine, nutritional and metabolic diseases",
    ),
    Chapter(
        5, "V", "F00", "F99", "Rối loạn tâm thần và hành vi", "Mental and behavioural disorders"
    ),
    Chapter(6, "VI", "G00", "G99", "Bệnh của hệ thần kinh", "Diseases of the nervous system"),
    Chapter(7, "VII", "H00", "H59", "Bệnh mắt và phần phụ", "Diseases of the eye and adnexa"),
    Chapter(
        8, "VIII", "H60", "H95", "Bệnh tai và xương chũm", "Diseases of the ear and mastoid process"
    ),
    Chapter(9, "IX", "I00", "I99", "Bệnh hệ tuần hoàn", "Diseases of the circulatory system"),
    Chapter(10, "X", "J00", "J99", "Bệnh hệ hô hấp", "Diseases of the respiratory system"),
    Chapter(11, "XI", "K00", "K93", "Bệnh hệ tiêu hóa", "Diseases of the digestive system"),
    Chapter(
        12,
        "XII",
        "L00",
        "L99",
        "Bệnh da và mô dưới da",
        "Diseases of the skin and subcutaneous tissue",
    ),
    Chapter(
        13,
        "XIII",
        "M00",
        "M99",
        "Bệnh hệ cơ xương khớp và mô liên kết",
        "Diseases of the musculoskeletal system and connective tissue",
    ),
    Chapter(
        14,
        "XIV",
        "N00",
        "N99",
        "Bệnh hệ tiết niệu sinh dục",
        "Diseases of the genitourinary system",
    ),
    Chapter(
        15,
        "XV",
        "O00",
        "O99",
        "Thai nghén, sinh đẻ và hậu sản",
        "Pregnancy, childbirth and the puerperium",
    ),
    Chapter(
        16,
        "XVI",
        "P00",
        "P96",
        "Một số bệnh lý xuất phát trong thời kỳ chu sinh",
        "Certain conditions originating in the perinatal period",
    ),
    Chapter(
        17,
        "XVII",
        "Q00",
        "Q99",
        "Dị tật bẩm sinh, biến dạng và bất thường nhiễm sắc thể",
        "Congenital malformations and chromosomal abnormalities",
    ),
    Chapter(
        18,
        "XVIII",
        "R00",
        "R99",
        "Triệu chứng, dấu hiệu và phát hiện bất thường",
        "Symptoms, signs and abnormal findings",
    ),
    Chapter(
        19,
        "XIX",
        "S00",
        "T98",
        "Vết thương, ngộ độc và hậu quả của nguyên nhân bên ngoài",
        "Injury, poisoning and other consequences of external causes",
    ),
    Chapter(
        20,
        "XX",
        "V01",
        "Y98",
        "Nguyên nhân bên ngoài của bệnh tật và tử vong",
        "External causes of morbidity and mortality",
    ),
    Chapter(
        21,
        "XXI",
        "Z00",
        "Z99",
        "Các yếu tố ảnh hưởng đến tình trạng sức khỏe",
        "Factors influencing health status and contact with health services",
    ),
    Chapter(
        22,
        "XXII",
        "U00",
        "U99",
        "Mã dành cho những mục đích đặc biệt",
        "Codes for special purposes",
    ),
)
"""The 22 chapters of ICD-10 (WHO 2019 edition), in order."""

_CATEGORY = re.compile(r"^([A-Z])(\d{2})")


class UnknownIcd10Chapter(ValueError):
    """A code that is not an ICD-10 category or falls in no chapter."""

    def __init__(self, code: str) -> None:
        super().__init__(f"mã ICD-10 không thuộc chương nào (no ICD-10 chapter): {code!r}")
        self.code = code


def chapter_of(code: str) -> Chapter:
    """The chapter of an ICD-10 code (``J18.9``, ``J189`` or ``J18``)."""
    match = _CATEGORY.match(code.strip().upper())
    if not match:
        raise UnknownIcd10Chapter(code)
    category = match.group(1) + match.group(2)
    for chapter in CHAPTERS:
        if chapter.first <= category <= chapter.last:
            return chapter
    raise UnknownIcd10Chapter(code)


def chapter_case_sql(column: str) -> str:
    """A SQL ``CASE`` giving the chapter number of ``column`` (0 when none), for any engine.

    Compares the first three characters as text, which orders ICD-10 categories correctly
    (one letter then two digits); works in DuckDB, Spark SQL, SQLite and PostgreSQL.
    """
    category = f"upper(substr({column}, 1, 3))"
    arms = " ".join(
        f"WHEN {category} BETWEEN '{c.first}' AND '{c.last}' THEN {c.number}" for c in CHAPTERS
    )
    return f"CASE {arms} ELSE 0 END"
