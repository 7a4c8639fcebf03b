"""An asyncio event loop on virtual time, and a fake-Fly clock that follows it.

When no callback is ready the loop jumps its clock straight to the next timer instead
of waiting, so ``asyncio.sleep(17)`` costs nothing and every sleeper wakes in the order
real time would wake it. When nothing is ready and no timer is set, nothing can ever
run again: the loop raises :class:`DeadlockError` instead of hanging.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any

from fly_tools.testing import FakeClock

REAL_GRACE = 2.0
"""Real seconds to wait for another thread before calling it a deadlock."""


class DeadlockError(RuntimeError):
    """Every task is waiting and nothing will wake any of them."""


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[Any]:
        ready: list[Any] = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # Only another thread could still wake the loop; give it a moment.
            ready = super().select(REAL_GRACE)
            if not ready:
                raise DeadlockError("no task can run and no timer is set")
            return ready
        self.now += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is virtual and jumps to the next timer when idle."""

    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)

    def time(self) -> float:
        """Virtual seconds since the loop was made."""
        return self._jumping.now


class LoopClock(FakeClock):
    """The fake Fly API's clock, reading the virtual loop's time.

    It starts at Unix time 0, not at :data:`~fly_tools.testing.clock.EPOCH`: near 1.7e9 a
    float resolves only 0.24 µs, so a request paced exactly to a bucket's refill could
    land a rounding error early. Timestamps read as 1970; nothing here depends on them.
    """

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__(0.0)
        self._loop = loop

    def now(self) -> float:
        """The loop's virtual seconds."""
        return self._loop.time()

    def sleep(self, seconds: float) -> None:
        """Blocking sleep would stop the loop's clock: refused."""
        raise RuntimeError("a blocking sleep on the virtual loop's clock")

    async def asleep(self, seconds: float) -> None:
        """Sleep in virtual time."""
        await asyncio.sleep(max(0.0, seconds))
