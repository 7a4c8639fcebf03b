"""What every rate limiter offers the clients, and the one loop that waits on it.

A limiter answers each request with a :class:`Pace`: how long to wait, and whether the
request then holds its slot (send) or must ask again (a shared limiter that refuses
instead of queueing). :func:`pace` and :func:`apace` are that loop, for the sync and
async clients.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

MARGIN = 0.01
"""Paced requests keep 1% further apart than Fly's limit, so network jitter and clock
rounding cannot make one reach Fly a moment early and meet a 429."""


@dataclass(frozen=True)
class Pace:
    """A limiter's answer to one request.

    Attributes:
        wait: seconds to wait first (0 to go on at once).
        granted: ``True``: after waiting, the request holds a slot and is sent.
            ``False``: after waiting, ask the limiter again.
    """

    wait: float
    granted: bool = True


GO = Pace(0.0)
"""Send now."""


@runtime_checkable
class Limiter(Protocol):
    """Paces requests to Fly's per-action limits; keys come from ``core.rate_key``.

    ``key`` is the bucket (action and target); ``rate_class`` names the limit in
    :data:`fly_tools.catalogue.FLY_LIMITS`. Implementations must be safe to share
    between threads and between sync and async clients.
    """

    def acquire(self, key: Hashable, rate_class: str) -> Pace:
        """Ask for one request slot (blocking I/O allowed)."""
        ...

    async def aacquire(self, key: Hashable, rate_class: str) -> Pace:
        """Ask for one request slot without blocking the event loop."""
        ...


def pace(
    limiter: Limiter | None, key: Hashable, rate_class: str, sleep: Callable[[float], None]
) -> None:
    """Return once ``limiter`` lets a request for ``key`` go, sleeping as it says."""
    while limiter is not None:
        step = limiter.acquire(key, rate_class)
        if step.wait > 0:
            sleep(step.wait)
        if step.granted:
            return


async def apace(
    limiter: Limiter | None,
    key: Hashable,
    rate_class: str,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """:func:`pace` for the async client: the limiter is awaited, so Redis never blocks."""
    while limiter is not None:
        step = await limiter.aacquire(key, rate_class)
        if step.wait > 0:
            await sleep(step.wait)
        if step.granted:
            return
