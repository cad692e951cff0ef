"""Just enough PDF reading to get the text out of the reports nidb writes (no pypdf here).

ReportLab embeds DejaVu Sans as subsets whose codes are not Unicode; each subset carries a
``/ToUnicode`` map, which is what a PDF reader uses to copy text. This reads the objects,
inflates the streams, builds those maps and decodes every ``Tj`` string of every page.
"""

from __future__ import annotations

import base64
import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n")


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number → (dictionary text, inflated stream or None)."""
    objects: dict[int, tuple[bytes, bytes | None]] = {}
    for match in _OBJECT.finditer(data):
        body = match.group(2)
        stream: bytes | None = None
        found = _STREAM.search(body)
        if found and b"/Length" in body[: found.start()]:
            head = body[: found.start()]
            length = int(re.search(rb"/Length (\d+)", head).group(1))  # type: ignore[union-attr]
            raw = body[found.end() : found.end() + length]
            if b"ASCII85Decode" in head:
                raw = raw.strip().removeprefix(b"<~").removesuffix(b"~>")
                raw = base64.a85decode(raw)
            stream = zlib.decompress(raw) if b"FlateDecode" in head else raw
            body = head
        objects[int(match.group(1))] = (body, stream)
    return objects


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(literal):
        c = literal[i]
        if c == 0x5C:  # backslash
            nxt = literal[i + 1 : i + 4]
            octal = re.match(rb"[0-7]{1,3}", nxt)
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
                continue
            out.append(
                {ord("n"): 10, ord("r"): 13, ord("t"): 9}.get(literal[i + 1], literal[i + 1])
            )
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def page_texts(data: bytes) -> list[str]:
    """The text of each page, in drawing order, one string per page."""
    objects = _objects(data)
    maps: dict[bytes, dict[int, str]] = {}
    for body, _ in objects.values():
        names = re.findall(rb"/(F\d+\+\d+) (\d+) 0 R", body)
        for name, number in names:
            font = objects[int(number)][0]
            unicode_ref = re.search(rb"/ToUnicode (\d+) 0 R", font)
            if not unicode_ref:
                continue
            cmap = objects[int(unicode_ref.group(1))][1] or b""
            mapping: dict[int, str] = {}
            for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
                for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
            for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
                for lo, hi, start in re.findall(
                    rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
                ):
                    first = ord(bytes.fromhex(start.decode()).decode("utf-16-be"))
                    for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                        mapping[code] = chr(first + offset)
            maps[name] = mapping
    pages = []
    for body, _ in objects.values():
        if not re.search(rb"/Type /Page\b", body):
            continue
        contents = re.search(rb"/Contents (\d+) 0 R", body)
        stream = objects[int(contents.group(1))][1] or b""  # type: ignore[union-attr]
        font: dict[int, str] = {}
        words = []
        for token in re.finditer(rb"/(F\d+(?:\+\d+)?) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", stream):
            if token.group(1) is not None:
                font = maps.get(token.group(1), {})
            else:
                raw = _unescape(token.group(2))
                words.append("".join(font.get(b, chr(b)) for b in raw))
        pages.append(" ".join(words))
    return pages
