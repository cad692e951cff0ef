"""Evidence files: what is accepted is decided by the bytes, and the name shown is harmless."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.web.uploads import (
    MAX_EVIDENCE_BYTES,
    EvidenceRefused,
    accept_evidence,
    safe_filename,
    sniff,
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.4 ...", "application/pdf"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"MZ\x90\x00", None),  # a Windows executable
        (b"<svg onload=alert(1)>", None),
        (b"GIF89a", None),
    ],
)
def test_sniffing_reads_the_first_bytes(content: bytes, expected: str | None) -> None:
    assert sniff(content) == expected


def test_an_executable_named_pdf_is_refused_and_the_size_limit_is_exact() -> None:
    with pytest.raises(EvidenceRefused, match="only PDF"):
        accept_evidence("giay-to.pdf", b"MZ\x90\x00" * 10)
    at_limit = b"%PDF-" + b"x" * (MAX_EVIDENCE_BYTES - 5)
    assert accept_evidence("a.pdf", at_limit).size == MAX_EVIDENCE_BYTES
    with pytest.raises(EvidenceRefused, match="5 MB"):
        accept_evidence("a.pdf", at_limit + b"x")
    with pytest.raises(EvidenceRefused, match="empty"):
        accept_evidence("a.pdf", b"")


def test_the_stored_name_takes_the_real_type_s_extension() -> None:
    assert safe_filename("C:\\Users\\an\\scan.exe", "application/pdf") == "scan.pdf"
    assert safe_filename("../../etc/passwd", "image/png") == "passwd.png"
    assert safe_filename("hoa-don\u202egnp.exe", "image/png") == "hoa-dongnp.png"
    assert safe_filename('<img src=x onerror="a">.jpg', "image/jpeg") == "img src=x onerror=a.jpg"


@given(st.text(max_size=300), st.sampled_from(["application/pdf", "image/jpeg", "image/png"]))
def test_a_stored_name_never_carries_a_path_markup_or_control_characters(
    raw: str, content_type: str
) -> None:
    name = safe_filename(raw, content_type)
    assert not set(name) & set("/\\<>\"'`&;")
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in name)
    assert name.endswith(
        {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[content_type]
    )
    assert 0 < len(name) <= 160
