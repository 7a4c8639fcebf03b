"""The shared limiter: Fly's limits kept in Redis, so every process of an org paces together.

The algorithm and its storage are throttled-py's: GCRA (a token bucket kept as one
timestamp per key) evaluated in one Lua script on the Redis server's clock, so hosts
whose clocks disagree still share one schedule. Buckets are keyed exactly as the
in-process limiter keys them (``core.rate_key`` and the endpoint's rate class), with
the limits of :data:`~fly_tools.catalogue.FLY_LIMITS`. A refused request is told how
long to wait and asks again: the slot goes to whichever process asks first after it
frees up. ``docs/rate-limits.md`` compares the libraries and explains the choice.

When Redis cannot be reached the ``fallback`` decides: ``"local"`` paces each process
on its own (the default limiter's buckets) and logs one warning per outage;
``"refuse"`` raises :class:`LimiterUnavailableError` before anything is sent.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Mapping
from datetime import timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, NoReturn, get_args
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from fly_tools.catalogue import FLY_LIMITS, Limit
from fly_tools.client.errors import ConfigurationError, FlyError
from fly_tools.client.limiters.base import GO, MARGIN, Pace
from fly_tools.client.limiters.memory import RateLimiter

if TYPE_CHECKING:
    from throttled.asyncio import Throttled as AsyncThrottled
    from throttled.rate_limiter import Quota

logger = logging.getLogger("fly_tools.client.limiter")

Fallback = Literal["local", "refuse"]
SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster")
"""URL schemes the Redis limiter accepts (those redis-py and throttled-py connect to)."""
DEFAULT_PREFIX = "fly_tools"
_SHORTEST_RETRY = 0.001  # a refusal never makes a caller spin on Redis


class LimiterUnavailableError(FlyError):
    """The shared rate limiter is unreachable and its fallback is to refuse: nothing was sent."""


class RedisLimiter:
    """Fly's per-action limits shared through Redis by every process that uses the same URL.

    Args:
        url: ``redis://[:password@]host:port/db`` (also ``rediss://``, ``unix://``,
            ``redis+sentinel://``, ``redis+cluster://``). Query parameters ``fallback``
            and ``prefix`` set the options of the same names; the rest go to redis-py.
        limits: overrides of :data:`FLY_LIMITS` by rate class (every process sharing
            the buckets must use the same ones).
        fallback: what to do while Redis is unreachable: ``"local"`` paces this
            process on its own and logs a warning; ``"refuse"`` raises
            :class:`LimiterUnavailableError` and sends nothing.
        prefix: namespace of the keys in Redis (one per org if orgs share a Redis).
        timeout: seconds to connect to or hear from Redis before it counts as down.
        recheck_after: seconds the fallback is used before Redis is tried again.
        clock: monotonic clock for the fallback's buckets and the recheck.

    Raises:
        ConfigurationError: a malformed URL or option, or the ``redis`` extra missing.
    """

    def __init__(
        self,
        url: str,
        *,
        limits: Mapping[str, Limit] | None = None,
        fallback: Fallback | None = None,
        prefix: str | None = None,
        timeout: float = 1.0,
        recheck_after: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._server, self.address, options = _split_url(url)
        self.fallback: Fallback = _fallback(fallback or options.get("fallback", "local"))
        self.prefix = prefix or options.get("prefix") or DEFAULT_PREFIX
        if timeout <= 0 or recheck_after < 0:
            raise ConfigurationError(
                "The Redis limiter needs timeout > 0 and recheck_after >= 0.",
                advice="Pass e.g. timeout=1.0, recheck_after=2.0.",
            )
        self.limits: dict[str, Limit] = {**FLY_LIMITS, **(limits or {})}
        self._timeout, self._recheck_after, self._clock = timeout, recheck_after, clock
        self._local = RateLimiter(self.limits, clock=clock)
        try:
            # Both need throttled-py: without the extra, the error says which to install.
            self._quotas = {name: _quota(limit) for name, limit in self.limits.items()}
            self._sync = self._throttles(asynchronous=False)
        except ImportError:
            raise ConfigurationError(
                "The Redis rate limiter needs the redis extra.",
                advice="Install it: pip install 'fly-tools[redis]'.",
            ) from None
        self._async: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, AsyncThrottled]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._down_until: float | None = None

    # ------------------------------------------------------------ the Limiter protocol

    def acquire(self, key: Hashable, rate_class: str) -> Pace:
        """Ask Redis for a slot; see :class:`~fly_tools.client.limiters.base.Limiter`."""
        if self._in_outage():
            return self._fall_back(key, rate_class, None)
        from throttled.exceptions import StoreUnavailableError

        throttle = self._sync.get(rate_class, self._sync["standard"])
        try:
            result = throttle.limit(self._key(key, rate_class))
        except StoreUnavailableError as exc:
            return self._fall_back(key, rate_class, exc)
        self._reachable()
        return _pace(result.limited, result.state.retry_after)

    async def aacquire(self, key: Hashable, rate_class: str) -> Pace:
        """:meth:`acquire` through redis.asyncio: the event loop never waits on Redis."""
        if self._in_outage():
            return self._fall_back(key, rate_class, None)
        from throttled.exceptions import StoreUnavailableError

        throttles = self._async_throttles()
        throttle = throttles.get(rate_class, throttles["standard"])
        try:
            result = await throttle.limit(self._key(key, rate_class))
        except StoreUnavailableError as exc:
            return self._fall_back(key, rate_class, exc)
        self._reachable()
        return _pace(result.limited, result.state.retry_after)

    # ------------------------------------------------------------ Redis, via throttled-py

    def _store_options(self, *, asynchronous: bool) -> dict[str, Any]:
        """throttled-py store options (tests swap the connection class for fakeredis here)."""
        return {
            "SOCKET_TIMEOUT": self._timeout,
            "SOCKET_CONNECT_TIMEOUT": self._timeout,
            # Pools belong to this limiter: throttled-py's process-wide cache would
            # hand one event loop's connections to another.
            "REUSE_CONNECTION": False,
        }

    def _throttles(self, *, asynchronous: bool) -> dict[str, Any]:
        if asynchronous:
            from throttled.asyncio import RedisStore as AsyncStore
            from throttled.asyncio import Throttled as AsyncThrottled

            store: Any = AsyncStore(self._server, self._store_options(asynchronous=True))
            made: type[Any] = AsyncThrottled
        else:
            from throttled import RedisStore, Throttled

            store, made = (
                RedisStore(self._server, self._store_options(asynchronous=False)),
                Throttled,
            )
        return {
            name: made(using="gcra", quota=quota, store=store, key_prefix=self.prefix)
            for name, quota in self._quotas.items()
        }

    def _async_throttles(self) -> dict[str, AsyncThrottled]:
        # redis.asyncio connections belong to the loop that opened them.
        loop = asyncio.get_running_loop()
        with self._lock:
            throttles = self._async.get(loop)
            if throttles is None:
                throttles = self._async[loop] = self._throttles(asynchronous=True)
        return throttles

    @staticmethod
    def _key(key: Hashable, rate_class: str) -> str:
        parts = key if isinstance(key, tuple) else (key,)
        return ":".join([rate_class, *map(str, parts)])

    # ------------------------------------------------------------ outages

    def _in_outage(self) -> bool:
        down_until = self._down_until
        return down_until is not None and self._clock() < down_until

    def _reachable(self) -> None:
        if self._down_until is not None:
            self._down_until = None
            logger.warning("Shared rate limiter %s is reachable again.", self.address)

    def _fall_back(self, key: Hashable, rate_class: str, exc: Exception | None) -> Pace:
        if exc is not None:
            cause = type(exc.__cause__ or exc).__name__
            if self._down_until is None:
                logger.warning(
                    "Shared rate limiter %s is unreachable (%s): %s; trying it again in %g s.",
                    self.address,
                    cause,
                    "pacing this process on its own"
                    if self.fallback == "local"
                    else "refusing requests",
                    self._recheck_after,
                )
            self._down_until = self._clock() + self._recheck_after
        if self.fallback == "refuse":
            self._refuse(exc)
        return self._local.acquire(key, rate_class)

    def _refuse(self, exc: Exception | None) -> NoReturn:
        raise LimiterUnavailableError(
            f"The shared rate limiter at {self.address} is unreachable, so the request "
            "was not sent.",
            advice="Wait and try again, or ask an operator to check Redis "
            "(FLY_TOOLS_LIMITER_URL); fallback=local paces each process on its own instead.",
        ) from exc

    def __repr__(self) -> str:
        return f"RedisLimiter({self.address!r}, fallback={self.fallback!r})"


def _pace(limited: bool, retry_after: float) -> Pace:
    return Pace(max(retry_after, _SHORTEST_RETRY), granted=False) if limited else GO


def _quota(limit: Limit) -> Quota:
    """throttled-py's quota for a limit, spaced :data:`MARGIN` wider, as the local pacing is."""
    from throttled.rate_limiter import Quota, Rate

    rate = Fraction(limit.rate).limit_denominator(3600)
    quota = Quota(Rate(timedelta(seconds=rate.denominator), rate.numerator), burst=limit.burst)
    # GCRA reads only these two: widen the spacing, keep the burst.
    quota.emission_interval = (1 + MARGIN) / limit.rate
    quota.fill_rate = limit.rate / (1 + MARGIN)
    return quota


def _fallback(value: str) -> Fallback:
    if value not in get_args(Fallback):
        raise ConfigurationError(
            f"Unknown limiter fallback {value!r}.",
            advice="Use fallback=local (pace each process on its own) or fallback=refuse.",
        )
    return value  # type: ignore[return-value]  # checked just above


def _split_url(url: str) -> tuple[str, str, dict[str, str]]:
    """The URL for redis-py, one without credentials for messages, and this module's options."""
    parts = urlsplit(url.strip())
    where = parts.path.strip("/") if parts.scheme == "unix" else parts.netloc.rpartition("@")[2]
    if parts.scheme not in SCHEMES or not where or not _valid_port(parts):
        # The URL itself is not echoed: it may carry a password.
        raise ConfigurationError(
            "The rate limiter URL must look like redis://host:6379/0.",
            advice=f"Use one of the schemes {', '.join(s + '://' for s in SCHEMES)}.",
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {name: value for name, value in query if name in ("fallback", "prefix")}
    rest = urlencode([(name, value) for name, value in query if name not in ours])
    # Rebuilt by hand: urlunsplit would turn unix:///path into unix:/path.
    base = url.strip().partition("?")[0].partition("#")[0]
    server = f"{base}?{rest}" if rest else base
    address = base.replace(parts.netloc, parts.netloc.rpartition("@")[2], 1)
    return server, address, ours


def _valid_port(parts: SplitResult) -> bool:
    if parts.scheme not in ("redis", "rediss"):
        return True  # Sentinel and Cluster URLs list several host:port pairs
    try:
        return parts.port is None or parts.port > 0
    except ValueError:
        return False
