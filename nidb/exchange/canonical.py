"""Canonical JSON: the exact bytes that are signed and hashed.

Keys sorted, no insignificant whitespace, UTF-8 without escapes, no NaN or infinity. For the
values our messages carry (strings, integers, booleans, null, objects, arrays) this is the JSON
Canonicalization Scheme of RFC 8785; floats are refused so that two implementations can never
disagree about the digits of a number.
"""

from __future__ import annotations

import json
from typing import Any


class NotCanonical(ValueError):
    """A value that has no canonical JSON form here (a float, a non-string key...)."""


def _check(value: Any) -> None:
    if isinstance(value, float):
        raise NotCanonical(f"floats are not allowed in signed messages: {value!r}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical(f"object keys must be strings: {key!r}")
            _check(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 bytes of ``value``; raises NotCanonical for floats and odd keys."""
    _check(value)
    try:
        text = json.dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError) as error:
        raise NotCanonical(str(error)) from None
    return text.encode("utf-8")
