"""Stopping a server on SIGTERM or SIGINT so that every call in flight is recorded first."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""What an MCP host sends to stop a stdio server (the spec: close stdin, then SIGTERM)."""


async def serve_until_stopped(serve: Callable[[], Awaitable[None]]) -> int | None:
    """Run ``serve()`` until it returns or a stop signal arrives; the signal, or ``None``.

    Left to its default, SIGTERM ends the process at once: a call whose request was out
    would leave no audit record. Here the signal cancels the server's task instead, so
    each call in flight unwinds through its pipeline, which records it (``unknown`` when
    its request may have reached Fly) before the process exits.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def stop(signum: int) -> None:
        if not received:
            received.append(signum)
            task.cancel()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        await serve()
    except asyncio.CancelledError:
        if not received:
            raise
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    return received[0] if received else None
