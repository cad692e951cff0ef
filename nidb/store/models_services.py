"""Models of the online public services (dịch vụ công trực tuyến): dossiers and payments.

Tables here join ``nidb.store.models.Base.metadata`` (imported at the end of models.py).
"""

from __future__ import annotations
