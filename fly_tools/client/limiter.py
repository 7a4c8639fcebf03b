"""Where :class:`RateLimiter` has always been imported from; the limiters live in ``limiters/``."""

from fly_tools.client.limiters.memory import RateLimiter

__all__ = ["RateLimiter"]
