"""Hypothesis strategies for Vietnamese names, shared by the domain tests."""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

from nidb.domain.names import ToneStyle, to_tone_style

# Syllables of Vietnamese personal names in traditional tone placement, lower case, NFC.
# Chosen to cover every case the tone styles treat differently (open oa, oe, uy) and the ones
# they must leave alone (closed syllables, qu-, uyê, uya, oai, oay).
_SYLLABLE_TEXT = """
    nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh trương lâm
    quách khúc tạ mai cao thái lưu triệu kiều doãn khổng văn thị đức minh thanh ngọc hữu công
    quang xuân thu kim bảo gia hoài quốc thế như diệu phương an anh bình châu cường dũng duy
    giang hà hạ hả hạnh hải hiếu hòa hóa họa hỏa hoàn hoàng hòe khỏe xòe hùng huy huyền hương
    khoa khóa khoái khuê khuyến khuya lan linh loan long my nga nhung oanh phúc quân quý quỳnh
    quyên sơn tâm thảo thoa thoại thúy thủy thụy thùy tùy lũy ủy tuấn tuyết uyên việt vy xoan
    xoáy yến đoàn toàn tuệ thuận nghĩa trí đạt khải phú lộc thọ tài hậu hiền thư nguyệt
"""
SYLLABLES: tuple[str, ...] = tuple(_SYLLABLE_TEXT.split())

syllables = st.sampled_from(SYLLABLES)


@st.composite
def traditional_names(draw: st.DrawFn) -> str:
    """A canonical full name: 2 to 5 title-cased syllables, traditional tones, NFC."""
    words = draw(st.lists(syllables, min_size=2, max_size=5))
    return " ".join(word.capitalize() for word in words)


@st.composite
def typed_variants(draw: st.DrawFn, name: str) -> str:
    """The same name as it might be typed: NFD, modern tones, capitals, stray spaces."""
    if draw(st.booleans()):
        name = to_tone_style(name, ToneStyle.MODERN)
    if draw(st.booleans()):
        name = name.upper()
    elif draw(st.booleans()):
        name = name.lower()
    if draw(st.booleans()):
        name = unicodedata.normalize("NFD", name)
    if draw(st.booleans()):
        name = "  " + name.replace(" ", " \t ") + " "
    return name
