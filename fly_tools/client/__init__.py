"""The Fly Machines API client: sync and async, paced to Fly's limits, retrying only what is safe."""

from fly_tools.catalogue import FLY_LIMITS, Limit
from fly_tools.client.aio import AsyncFlyClient
from fly_tools.client.errors import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    FlyAPIError,
    FlyConnectionError,
    FlyError,
    FlyTimeoutError,
    ForbiddenError,
    InvalidArgumentsError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnprocessableError,
    WaitTimeoutError,
)
from fly_tools.client.limiters import (
    Limiter,
    LimiterUnavailableError,
    Pace,
    RateLimiter,
    RedisLimiter,
)
from fly_tools.client.sync import FlyClient
from fly_tools.client.twins import async_twin, sync_twin

__all__ = [
    "FLY_LIMITS",
    "AsyncFlyClient",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "FlyAPIError",
    "FlyClient",
    "FlyConnectionError",
    "FlyError",
    "FlyTimeoutError",
    "ForbiddenError",
    "InvalidArgumentsError",
    "Limit",
    "Limiter",
    "LimiterUnavailableError",
    "NotFoundError",
    "Pace",
    "RateLimitedError",
    "RateLimiter",
    "RedisLimiter",
    "ServerError",
    "UnauthorizedError",
    "UnprocessableError",
    "WaitTimeoutError",
    "async_twin",
    "sync_twin",
]
