"""Twin clients: the async client of a blocking one and back, sharing one set of settings.

The twins live here, apart from both clients, so that neither client module imports the
other: :mod:`~fly_tools.client.sync` and :mod:`~fly_tools.client.aio` only do I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from fly_tools.client.aio import AsyncFlyClient, AsyncSleep
from fly_tools.client.sync import FlyClient


def async_twin(client: FlyClient, *, sleep: AsyncSleep | None = None) -> AsyncFlyClient:
    """An async client sharing ``client``'s token, base URL, transport and rate limiter.

    Args:
        client: the blocking client.
        sleep: async sleep for the new client (default: the async twin of the client's
            sleep when it has one, as a fake clock's ``sleep`` has ``asleep``; else
            :func:`asyncio.sleep`).

    Raises:
        ConfigurationError: the client's transport cannot serve async requests.
    """
    sleep = sleep or getattr(getattr(client.sleep, "__self__", None), "asleep", None)
    return AsyncFlyClient.from_config(client.config, transport=client.transport, sleep=sleep)


def sync_twin(client: AsyncFlyClient, *, sleep: Callable[[float], None] | None = None) -> FlyClient:
    """A blocking client sharing ``client``'s token, base URL, transport and rate limiter.

    Args:
        client: the async client.
        sleep: sleep for the new client (default: the blocking twin of the client's sleep
            when it has one, as a fake clock's ``asleep`` has ``sleep``; else
            :func:`time.sleep`).

    Raises:
        ConfigurationError: the client's transport cannot serve blocking requests.
    """
    sleep = sleep or getattr(getattr(client.sleep, "__self__", None), "sleep", None)
    return FlyClient.from_config(client.config, transport=client.transport, sleep=sleep)
