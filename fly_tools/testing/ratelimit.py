"""Fly's per-action rate limits, enforced by the fake on its own clock when switched on.

Each (action, target) pair has a token bucket: the target is the machine for machine
calls, the app for other app calls, and the org for org-wide calls (list and create
apps, app deletion, OIDC). A request that finds the bucket empty is refused with 429
and a ``Retry-After`` saying when the next one would pass; refused requests take no
slot.
"""

from __future__ import annotations

from collections.abc import Mapping

from fly_tools.catalogue import FLY_LIMITS, Endpoint, Limit
from fly_tools.testing.clock import FakeClock
from fly_tools.testing.errors import FakeTooManyRequestsError


class ServerRateLimiter:
    """Token buckets per (action, target), on the fake's clock."""

    def __init__(self, clock: FakeClock, limits: Mapping[str, Limit] = FLY_LIMITS) -> None:
        self._clock = clock
        self._limits = limits
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def admit(self, endpoint: Endpoint, target: str) -> None:
        """Take a slot for this call, or raise :class:`FakeTooManyRequestsError`."""
        limit = self._limits[endpoint.rate_class]
        key, now = (endpoint.name, target), self._clock.now()
        tokens, updated = self._buckets.get(key, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - updated) * limit.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise FakeTooManyRequestsError((1 - tokens) / limit.rate)
        self._buckets[key] = (tokens - 1, now)

    def clear(self) -> None:
        """Forget all buckets."""
        self._buckets.clear()


def rate_target(endpoint: Endpoint, path: Mapping[str, str], org: str) -> str:
    """What the limit of this call counts against: machine, app, or org."""
    if endpoint.rate_class == "app_delete":
        return f"org:{org}"
    if "machine_id" in path:
        return f"machine:{path['machine_id']}"
    if "app_name" in path:
        return f"app:{path['app_name']}"
    return f"org:{org}"
