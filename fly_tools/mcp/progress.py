"""Progress while a call runs: a heartbeat every few seconds, so hosts keep waiting for it.

A wait or an exec may hold one request for a minute, a new app is read back until Fly
serves it, and a rate-limit pause sleeps in the client: from the host's side all of
these are silence, and hosts on a 60 s request timeout give up. While a call runs, this
sends ``notifications/progress`` every :data:`PROGRESS_EVERY` seconds to a client that
sent a progress token (the SDK drops them for one that did not). Cancelling the call
(``notifications/cancelled``) cancels the awaited work at its next await, whether that
is a poll, a pause or a request in flight: nothing more is sent to Fly after it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0
"""Seconds between progress notifications (hosts' timeouts reset on each; at most 5 s)."""

Report = Callable[[float, float | None, str | None], Awaitable[None]]
"""``report(progress, total, message)``, as ``Context.report_progress`` takes it."""
_T = TypeVar("_T")


async def with_heartbeat(
    work: Callable[[], Awaitable[_T]],
    report: Report,
    *,
    what: str,
    total: float | None = None,
    every: float = PROGRESS_EVERY,
) -> _T:
    """Await ``work()``, reporting progress every ``every`` seconds until it ends.

    Args:
        work: the call to run.
        report: sends one progress notification.
        what: what is running, for the notification's message.
        total: the call's own limit in seconds (a wait's timeout), when it has one.
        every: seconds between notifications.
    """
    result: list[_T] = []
    failure: list[Exception] = []

    async def run(scope: anyio.CancelScope) -> None:
        try:
            result.append(await work())
        except Exception as exc:  # raised as itself below, not wrapped in a group
            failure.append(exc)
        finally:
            scope.cancel()  # done: stop the heartbeat

    async with anyio.create_task_group() as group:
        group.start_soon(run, group.cancel_scope)
        await _beat(report, what, total, every)
    if failure:
        raise failure[0]
    return result[0]


async def _beat(report: Report, what: str, total: float | None, every: float) -> None:
    started = time.monotonic()
    while True:
        await anyio.sleep(every)
        elapsed = round(time.monotonic() - started, 1)
        try:
            await report(elapsed, total, f"{what}: still running after {elapsed:g} s")
        except Exception:  # a lost notification must not end the call
            logger.debug("progress notification for %s not sent", what, exc_info=True)


def timeout_of(args: dict[str, Any]) -> float | None:
    """A call's ``timeout`` argument in seconds, when it is a plain positive number."""
    value = args.get("timeout")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)
