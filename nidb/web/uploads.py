"""Evidence files for correction requests: PDF, JPEG or PNG only, recognised by their first
bytes (``nidb.domain.evidence``), at most 5 MB, with a safe display name and their SHA-256."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from nidb.domain.evidence import MAX_EVIDENCE_BYTES, SIGNATURES, sniff

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "SIGNATURES",
    "Evidence",
    "EvidenceRefused",
    "accept_evidence",
    "safe_filename",
    "sniff",
]

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


class EvidenceRefused(ValueError):
    """Why an uploaded file was not accepted (Vietnamese first)."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True)
class Evidence:
    """An accepted file."""

    filename: str
    content_type: str
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def safe_filename(raw: str, content_type: str) -> str:
    """A display name without path, control characters or markup, ending in the real type."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    # no control or format characters (a right-to-left override could show "exe.pdf" reversed)
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    name = re.sub(r"[<>\"'`&;]", "", name).strip(". ")[:150] or "minh-chung"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'minh-chung'}.{EXTENSIONS[content_type]}"


def accept_evidence(filename: str | None, content: bytes) -> Evidence:
    """Check an upload (``content`` read up to one byte past the limit) and describe it."""
    if not filename and not content:
        raise EvidenceRefused("Vui lòng chọn tệp minh chứng (PDF, JPG hoặc PNG).", "no file")
    if not content:
        raise EvidenceRefused("Tệp minh chứng rỗng.", "empty file")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise EvidenceRefused(
            "Tệp minh chứng vượt quá 5 MB. Vui lòng chọn tệp nhỏ hơn.", "file larger than 5 MB"
        )
    content_type = sniff(content)
    if content_type is None:
        raise EvidenceRefused(
            "Chỉ nhận tệp PDF, JPG hoặc PNG (nội dung tệp không phải các định dạng này).",
            "only PDF, JPEG or PNG content is accepted",
        )
    return Evidence(
        safe_filename(filename or "", content_type),
        content_type,
        content,
        hashlib.sha256(content).hexdigest(),
    )
