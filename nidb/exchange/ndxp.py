"""nidb's partner services in the national data-sharing platform's catalogue (NDXP / LGSP).

``register`` lists every service of ``catalogue.SERVICES`` under nidb's code there (``BHXH``) with the
URL at which the platform reaches nidb (``base_url``): a consumer then calls
``<platform>/v1/gateway/<nidb's code>/x/<service>`` and the platform relays the consumer's signed
envelope to ``<base_url>/x/<service>``. nidb checks that envelope exactly as if it came
directly (the consumer's key, grant, purpose and rate limit; the access log names the
consumer), so the platform needs no grant of its own and cannot read anything by itself.
"""

from __future__ import annotations

from typing import Any

from nidb.connectors.platforms import NdxpClient
from nidb.exchange.catalogue import INFO_GROUPS, SERVICES
from nidb.protocol.envelope import NIDB_MEMBER

__all__ = ["PROVIDER_CODE", "listing", "register"]

PROVIDER_CODE = "BHXH"
"""nidb's code in the platform's catalogue (a path segment; the protocol's member code has slashes)."""
PROVIDER_NAME = "Bảo hiểm xã hội Việt Nam — CSDL quốc gia về bảo hiểm"


def listing(base_url: str) -> dict[str, Any]:
    """What nidb lists: its name, where the platform reaches it, and its services."""
    return {
        "name": PROVIDER_NAME,
        "member": NIDB_MEMBER,
        "base_url": base_url,
        "services": [
            {
                "code": service.name,
                "title_vi": service.title_vi,
                "groups": [g for g in service.groups if g in INFO_GROUPS],
            }
            for service in SERVICES.values()
        ],
    }


def register(client: NdxpClient, base_url: str) -> dict[str, Any]:
    """List (or re-list) nidb's services at the platform; the platform's answer."""
    return client.list_services(PROVIDER_CODE, listing(base_url))
