"""Every reason code has one Vietnamese label (and its English), used by portal, console and CLI."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nidb.identity.reasons import REASON_LABELS, Reason


def test_the_portal_and_the_staff_texts_share_one_vietnamese_label() -> None:
    assert Reason.NAME_DIACRITICS.label == "họ tên khác dấu"
    assert REASON_LABELS["NAME_DIACRITICS"] == "họ tên khác dấu (diacritics differ)"


@given(st.sampled_from(Reason))
def test_every_reason_has_a_label_and_a_bilingual_form(reason: Reason) -> None:
    assert reason.label and reason.label_en
    assert REASON_LABELS[reason.value] == f"{reason.label} ({reason.label_en})"
    assert reason.label not in [r.label for r in Reason if r is not reason]
