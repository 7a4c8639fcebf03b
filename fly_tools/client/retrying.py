"""The retry loop (tenacity), built only once a first attempt failed and a retry is due.

Most calls succeed at once, so the clients import this module, and tenacity with it,
when they first retry: a process that never retries never loads either. Whether a
failure is worth retrying at all is :func:`fly_tools.client.core.should_retry`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import tenacity

from fly_tools.client.core import is_retryable, logger
from fly_tools.client.errors import FlyConnectionError, RateLimitedError
from fly_tools.client.failures import Attempts

BACKOFF = tenacity.wait_exponential(multiplier=0.25, max=4.0) + tenacity.wait_random(0, 0.25)
"""Exponential from 0.25 s, capped at 4 s, plus up to 0.25 s of jitter."""


def retry_sync(
    attempt: Callable[[], Any],
    attempts: Attempts,
    max_retries: int,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Any:
    """``attempt()`` until it succeeds or :func:`retry_options` says stop."""
    return tenacity.Retrying(sleep=sleep, **retry_options(attempts, max_retries, clock))(attempt)


async def retry_async(
    attempt: Callable[[], Awaitable[Any]],
    attempts: Attempts,
    max_retries: int,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> Any:
    """Async twin of :func:`retry_sync`."""
    options = retry_options(attempts, max_retries, clock)
    return await tenacity.AsyncRetrying(sleep=sleep, **options)(attempt)


def retry_wait(state: tenacity.RetryCallState) -> float:
    """Seconds before the next attempt: Fly's ``Retry-After`` if given, else backoff."""
    exc = state.outcome.exception() if state.outcome else None
    backoff = BACKOFF(state)
    if isinstance(exc, RateLimitedError):
        if exc.retry_after is not None:
            return exc.retry_after
        return max(1.0, backoff)  # Fly refills one request per second
    return backoff


def retry_options(
    attempts: Attempts, max_retries: int, clock: Callable[[], float]
) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` (add ``sleep``).

    Retries stop after ``max_retries``, or sooner when the request got no answer and
    another try would end past its total deadline (:class:`Attempts`).
    """
    return {
        "retry": tenacity.retry_if_exception(partial(is_retryable, attempts.plan.endpoint)),
        "wait": retry_wait,
        "stop": tenacity.stop_any(
            tenacity.stop_after_attempt(max_retries + 1), DeadlineStop(attempts, clock)
        ),
        "reraise": True,
        "before_sleep": _log_retry,
    }


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    logger.info("retrying in %.2f s (attempt %d): %s", delay, state.attempt_number + 1, exc)


class DeadlineStop(tenacity.stop.stop_base):
    """A tenacity stop: no further try of an unanswered request once its deadline is near.

    Args:
        attempts: the request's attempts, with its start and deadline.
        clock: the client's clock.
    """

    def __init__(self, attempts: Attempts, clock: Callable[[], float]) -> None:
        self.attempts, self.clock = attempts, clock

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome else None
        return isinstance(exc, FlyConnectionError) and self.attempts.out_of_time(self.clock())
