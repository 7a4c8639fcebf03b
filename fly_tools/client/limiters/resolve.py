"""Which limiter a client uses: ``"memory"``, a Redis URL, a limiter object, or the environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from fly_tools.client.errors import ConfigurationError
from fly_tools.client.limiters.base import Limiter
from fly_tools.client.limiters.memory import RateLimiter
from fly_tools.client.limiters.redis import SCHEMES, RedisLimiter

LIMITER_ENV_VAR = "FLY_TOOLS_LIMITER_URL"
"""Read when no ``limiter=`` is passed: ``memory`` or a Redis URL."""
MEMORY = "memory"


def resolve_limiter(
    limiter: Limiter | str | None,
    *,
    rate_limit: bool | Limiter,
    clock: Callable[[], float],
    env: Mapping[str, str],
) -> Limiter | None:
    """The limiter a client paces with, or ``None`` when pacing is off.

    Order: ``rate_limit=False`` turns pacing off; a limiter object passed as
    ``rate_limit`` (the older spelling) or ``limiter``; ``limiter`` as ``"memory"`` or a
    Redis URL; :data:`LIMITER_ENV_VAR`; the in-process default.

    Raises:
        ConfigurationError: both spellings given, pacing off but a limiter given, or a
            value that is neither ``"memory"``, a Redis URL nor a limiter.
    """
    if rate_limit is not True:
        if limiter is not None:
            raise ConfigurationError(
                "Both rate_limit=... and limiter=... were given.",
                advice="Pass limiter= alone (rate_limit=False turns pacing off).",
            )
        return None if rate_limit is False else _checked(rate_limit, "rate_limit=")
    if limiter is None:
        limiter = env.get(LIMITER_ENV_VAR, "").strip() or MEMORY
        source = LIMITER_ENV_VAR
    else:
        source = "limiter="
    if isinstance(limiter, str):
        return _from_text(limiter, source, clock)
    return _checked(limiter, source)


def _checked(limiter: object, source: str) -> Limiter:
    if isinstance(limiter, Limiter):
        return limiter
    raise ConfigurationError(
        f"{source} got a {type(limiter).__name__}, which has no acquire/aacquire methods.",
        advice="Pass 'memory', a redis:// URL, or a limiter such as RateLimiter().",
    )


def _from_text(text: str, source: str, clock: Callable[[], float]) -> Limiter:
    if text.strip().lower() == MEMORY:
        return RateLimiter(clock=clock)
    if urlsplit(text.strip()).scheme in SCHEMES:
        return RedisLimiter(text, clock=clock)
    # The value is not echoed: a mistyped URL may still carry a password.
    raise ConfigurationError(
        f"The rate limiter from {source} is neither 'memory' nor a Redis URL.",
        advice="Use 'memory' (this process only) or redis://host:6379/0 (shared by processes).",
    )
