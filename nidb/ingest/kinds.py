"""The names of the importable kinds, in import order, without loading their layouts.

``nidb import --help`` lists them, and the help must not load the models the layouts convert
into; ``nidb.ingest.layouts.LAYOUTS`` has one layout per name, in this order (a test checks).
"""

from __future__ import annotations

KINDS: tuple[str, ...] = (
    "registry",
    "records",
    "employers",
    "participation",
    "contributions",
    "cards",
    "visits",
    "benefits",
)
