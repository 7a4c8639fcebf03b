"""The fake's clocks: virtual time moves only when told; real time is scaled."""

from __future__ import annotations

import pytest

from fly_tools.testing import FakeClock
from fly_tools.testing.clock import EPOCH, iso


def test_a_virtual_clock_stands_still_until_advanced() -> None:
    clock = FakeClock()
    assert clock.virtual
    assert clock.now() == EPOCH == clock.now()
    clock.advance(2.5)
    clock.sleep(0.5)
    assert clock.now() == EPOCH + 3
    assert iso(clock.now()) == "2026-05-07T12:00:03Z"
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


async def test_async_sleep_on_a_virtual_clock_advances_it() -> None:
    clock = FakeClock(start=100.0)
    await clock.asleep(60)
    assert clock.now() == 160.0


def test_a_real_clock_runs_scale_times_faster() -> None:
    ticks = [50.0]
    clock = FakeClock.real(scale=10.0, start=1000.0, timer=lambda: ticks[0])
    assert not clock.virtual
    assert clock.now() == 1000.0
    ticks[0] += 0.5
    assert clock.now() == 1005.0
    clock.advance(1)
    assert clock.now() == 1006.0
    assert clock.real_seconds(10) == 1.0
    with pytest.raises(ValueError, match="scale"):
        FakeClock.real(scale=0)
