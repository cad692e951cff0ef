"""The chapters of ICD-10 (WHO 2019 edition, used by the Ministry of Health's Decision 4469/QĐ-BYT).

Open-data visit counts are published by chapter, not by code: a code is too fine for counts
that must not single anyone out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Chapter:
    """An ICD-10 chapter: its roman numeral, first and last three-character categories."""

    number: str
    first: str
    last: str
    title_vi: str
    title_en: str


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("I", "A00", "B99", "Bệnh nhiễm trùng và ký sinh trùng", "Infectious and parasitic diseases"),
    Chapter("II", "C00", "D48", "Bướu tân sinh", "Neoplasms"),
    Chapter("III", "D50", "D89", "Bệnh của máu, cơ quan tạo máu và rối loạn miễn dịch", "Diseases of the blood and immune mechanism"),
    Chapter("IV", "E00", "E90", "Bệnh nội tiết, dinh dưỡng và chuyển hóa", "Endocrine, nutritional and metabolic diseases"),
    Chapter("V", "F00", "F99", "Rối loạn tâm thần và hành vi", "Mental and behavioural disorders"),
    Chapter("VI", "G00", "G99", "Bệnh của hệ thần kinh", "Diseases of the nervous system"),
    Chapter("VII", "H00", "H59", "Bệnh của mắt và phần phụ", "Diseases of the eye and adnexa"),
    Chapter("VIII", "H60", "H95", "Bệnh của tai và xương chũm", "Diseases of the ear and mastoid process"),
    Chapter("IX", "I00", "I99", "Bệnh của hệ tuần hoàn", "Diseases of the circulatory system"),
    Chapter("X", "J00", "J99", "Bệnh của hệ hô hấp", "Diseases of the respiratory system"),
    Chapter("XI", "K00", "K93", "Bệnh của hệ tiêu hóa", "Diseases of the digestive system"),
    Chapter("XII", "L00", "L99", "Bệnh da và mô dưới da", "Diseases of the skin and subcutaneous tissue"),
    Chapter("XIII", "M00", "M99", "Bệnh của hệ cơ, xương khớp và mô liên kết", "Diseases of the musculoskeletal system"),
    Chapter("XIV", "N00", "N99", "Bệnh của hệ sinh dục, tiết niệu", "Diseases of the genitourinary system"),
    Chapter("XV", "O00", "O99", "Chửa, đẻ và sau đẻ", "Pregnancy, childbirth and the puerperium"),
    Chapter("XVI", "P00", "P96", "Bệnh lý xuất phát trong thời kỳ chu sinh", "Conditions of the perinatal period"),
    Chapter("XVII", "Q00", "Q99", "Dị tật bẩm sinh và bất thường nhiễm sắc thể", "Congenital malformations"),
    Chapter("XVIII", "R00", "R99", "Triệu chứng, dấu hiệu và phát hiện bất thường", "Symptoms, signs and abnormal findings"),
    Chapter("XIX", "S00", "T98", "Vết thương, ngộ độc và hậu quả của nguyên nhân bên ngoài", "Injury, poisoning and external causes"),
    Chapter("XX", "V01", "Y98", "Nguyên nhân bên ngoài của bệnh tật và tử vong", "External causes of morbidity and mortality"),
    Chapter("XXI", "Z00", "Z99", "Yếu tố ảnh hưởng đến tình trạng sức khỏe", "Factors influencing health status"),
    Chapter("XXII", "U00", "U99", "Mã dành cho mục đích đặc biệt", "Codes for special purposes"),
)  # fmt: skip

UNKNOWN_CHAPTER = "?"


def chapter_of(code: str) -> str:
    """The chapter (roman numeral) of an ICD-10 code such as ``J18.9``; ``?`` if none."""
    category = code.strip().upper()[:3]
    if len(category) != 3:
        return UNKNOWN_CHAPTER
    for chapter in CHAPTERS:
        if chapter.first <= category <= chapter.last:
            return chapter.number
    return UNKNOWN_CHAPTER
