"""The fake's endpoint handlers, one per catalogue endpoint, registered on import."""

from fly_tools.catalogue import ENDPOINTS
from fly_tools.testing.calls import ROUTES
from fly_tools.testing.handlers import (
    addresses,
    apps,
    certificates,
    control,
    machines,
    maintenance,
    platform,
    secretkeys,
    tokens,
    volumes,
)

_missing = set(ENDPOINTS) - set(ROUTES)
if _missing:
    raise RuntimeError(f"catalogue endpoints without a handler: {sorted(_missing)}")

__all__ = [
    "ROUTES",
    "addresses",
    "apps",
    "certificates",
    "control",
    "machines",
    "maintenance",
    "platform",
    "secretkeys",
    "tokens",
    "volumes",
]
