"""HTTP routes of ``nidb.services``, mounted on the FastAPI app by ``nidb.api.app``."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add this package's routes to ``app``."""
