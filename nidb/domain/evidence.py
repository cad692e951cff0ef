"""Evidence files citizens may attach: PDF, JPEG or PNG, recognised by their first bytes.

The extension and the browser's Content-Type are not trusted: a renamed executable or an HTML
file called ``scan.pdf`` is refused because its bytes do not start like a PDF. One table for
every upload nidb takes (correction evidence, dossier attachments).
"""

from __future__ import annotations

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
"""The largest file accepted: 5 MB."""

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
"""First bytes → the content type they prove."""


def sniff(content: bytes) -> str | None:
    """The content type the bytes really have (of the accepted ones), or None."""
    for magic, content_type in SIGNATURES:
        if content.startswith(magic):
            return content_type
    return None
