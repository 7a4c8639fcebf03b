"""Time for the fake Fly API: a virtual clock that tests move by hand, or scaled real time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

EPOCH = 1778155200.0
"""Where a virtual clock starts: 2026-05-07T12:00:00Z, the date of the spec snapshot."""


class FakeClock:
    """The fake's notion of now, in Unix seconds.

    A virtual clock (the default) stands still until :meth:`advance` is called, and
    sleeping on it advances it at once, so nothing ever really waits. A real clock
    (:meth:`real`) follows the wall clock sped up by ``scale``: at ``scale=10`` one real
    second is ten fake seconds, so rate limits and transitions run ten times faster.

    Args:
        start: the fake time to start at (Unix seconds).
    """

    def __init__(self, start: float = EPOCH) -> None:
        self._base = start
        self._scale = 0.0
        self._timer: Callable[[], float] = time.monotonic
        self._origin = 0.0
        self._lock = threading.Lock()

    @classmethod
    def real(
        cls,
        scale: float = 1.0,
        start: float | None = None,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> FakeClock:
        """A clock that runs with the wall clock, ``scale`` times as fast.

        Args:
            scale: fake seconds per real second (> 0).
            start: fake time at creation; the current wall-clock time by default.
            timer: the real monotonic clock (injectable for tests).
        """
        if scale <= 0:
            raise ValueError("scale must be > 0")
        clock = cls(time.time() if start is None else start)
        clock._scale, clock._timer, clock._origin = scale, timer, timer()
        return clock

    @property
    def virtual(self) -> bool:
        """True when time moves only by :meth:`advance` (and sleeps)."""
        return self._scale == 0

    @property
    def scale(self) -> float:
        """Fake seconds per real second; 0 for a virtual clock."""
        return self._scale

    def now(self) -> float:
        """The current fake time, in Unix seconds."""
        if self.virtual:
            return self._base
        return self._base + (self._timer() - self._origin) * self._scale

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (on a real clock, on top of real time)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._base += seconds

    def real_seconds(self, seconds: float) -> float:
        """How long ``seconds`` of fake time take in real time (0 on a virtual clock)."""
        return 0.0 if self.virtual else seconds / self._scale

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of fake time pass: instantly on a virtual clock."""
        if seconds <= 0:
            return
        if self.virtual:
            self.advance(seconds)
        else:
            time.sleep(self.real_seconds(seconds))

    async def asleep(self, seconds: float) -> None:
        """The async form of :meth:`sleep`."""
        if seconds <= 0:
            return
        if self.virtual:
            self.advance(seconds)
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(self.real_seconds(seconds))

    def __repr__(self) -> str:
        kind = "virtual" if self.virtual else f"real x{self._scale:g}"
        return f"FakeClock({kind}, now={iso(self.now())})"


def iso(at: float) -> str:
    """Fly's timestamp text for a Unix time: ``2026-05-07T12:00:00Z``."""
    return datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
