"""Rate limiters: Fly's per-action limits in this process (the default) or shared through Redis.

    Limiter (protocol)   acquire / aacquire -> Pace(wait, granted)
    ├── RateLimiter      token buckets in this process            limiters.memory
    └── RedisLimiter     GCRA in Redis (throttled-py), shared      limiters.redis

:func:`resolve_limiter` turns ``"memory"``, a ``redis://`` URL, a limiter object or
``FLY_TOOLS_LIMITER_URL`` into one; :func:`pace` / :func:`apace` wait on it.
"""

from fly_tools.client.limiters.base import MARGIN, Limiter, Pace, apace, pace
from fly_tools.client.limiters.memory import RateLimiter
from fly_tools.client.limiters.redis import LimiterUnavailableError, RedisLimiter
from fly_tools.client.limiters.resolve import LIMITER_ENV_VAR, resolve_limiter

__all__ = [
    "LIMITER_ENV_VAR",
    "MARGIN",
    "Limiter",
    "LimiterUnavailableError",
    "Pace",
    "RateLimiter",
    "RedisLimiter",
    "apace",
    "pace",
    "resolve_limiter",
]
