"""Models of data-quality measures (đúng, đủ, sạch, sống).

Tables here join ``nidb.store.models.Base.metadata`` (imported at the end of models.py).
"""

from __future__ import annotations
