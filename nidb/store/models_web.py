"""Models of the web front ends: sessions, consents, correction requests.

Tables here join ``nidb.store.models.Base.metadata`` (imported at the end of models.py).
"""

from __future__ import annotations
