"""The default limiter: token buckets in this process, paced to Fly's per-action limits.

Fly limits each action per machine or app (:data:`~fly_tools.catalogue.FLY_LIMITS`).
One token bucket per (action, target) pair paces calls to match. It sees only this
process's calls: agents in several processes share the limits through
:class:`~fly_tools.client.limiters.redis.RedisLimiter` instead.

This is a small token bucket rather than a library because it needs two things the
usual ones do not offer together: an injectable clock (so tests pace calls without
sleeping) and reservations (:meth:`RateLimiter.reserve` takes a slot and says how long
to wait, so concurrent callers queue one interval apart and each sleeps its own way).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from fly_tools.catalogue import FLY_LIMITS, Limit
from fly_tools.client.limiters.base import MARGIN, Pace

_PRUNE_ABOVE = 4096  # buckets kept before idle (full) ones are forgotten


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by (action, target), shared safely across threads and clients.

    Args:
        limits: overrides of :data:`FLY_LIMITS` by rate class; unknown classes use ``standard``.
        clock: monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        limits: Mapping[str, Limit] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits: dict[str, Limit] = {**FLY_LIMITS, **(limits or {})}
        self._clock = clock
        self._buckets: dict[tuple[Hashable, str], _Bucket] = {}
        self._lock = threading.Lock()

    def reserve(self, key: Hashable, rate_class: str) -> float:
        """Take one request slot for ``key`` now; return the seconds to wait before sending.

        The slot is taken even when the answer is positive, so concurrent callers queue
        up one interval apart instead of all retrying at once.
        """
        limit = self.limits.get(rate_class, self.limits["standard"])
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get((key, rate_class))
            if bucket is None:
                if len(self._buckets) >= _PRUNE_ABOVE:
                    self._forget_idle(now)
                bucket = self._buckets[(key, rate_class)] = _Bucket(limit.burst, now)
            bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.rate)
            bucket.updated = now
            bucket.tokens -= 1
            return 0.0 if bucket.tokens >= 0 else -bucket.tokens / limit.rate * (1 + MARGIN)

    def acquire(self, key: Hashable, rate_class: str) -> Pace:
        """A reserved slot: wait as told, then send (see :meth:`reserve`)."""
        return Pace(self.reserve(key, rate_class))

    async def aacquire(self, key: Hashable, rate_class: str) -> Pace:
        """:meth:`acquire`; nothing here blocks, so it runs inline."""
        return self.acquire(key, rate_class)

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely behaves exactly like a new one.
        for (key, rate_class), bucket in list(self._buckets.items()):
            limit = self.limits.get(rate_class, self.limits["standard"])
            if bucket.tokens + (now - bucket.updated) * limit.rate >= limit.burst:
                del self._buckets[(key, rate_class)]

    def __repr__(self) -> str:
        return f"RateLimiter({len(self._buckets)} buckets)"
