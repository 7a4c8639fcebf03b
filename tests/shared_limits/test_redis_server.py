"""The shared limiter against a real redis-server on loopback, and agents in several processes."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest
import redis

from benchmarks import redis_server
from benchmarks.bench_shared_limits import run_once
from fly_tools.client import LimiterUnavailableError, Pace, RedisLimiter
from fly_tools.client.limiters import MARGIN
from tests.redis_loopback import PASSWORD, REDIS_MARKS

pytestmark = REDIS_MARKS

KEY = ("fly_start_machine", "m1")


def test_processes_share_one_bucket_on_the_servers_clock(loopback_redis_url: str) -> None:
    first, second = RedisLimiter(loopback_redis_url), RedisLimiter(loopback_redis_url)
    started = time.monotonic()
    answers = [
        first.acquire(KEY, "standard"),
        second.acquire(KEY, "standard"),
        first.acquire(KEY, "standard"),
        second.acquire(KEY, "standard"),
    ]
    took = time.monotonic() - started
    assert [a.granted for a in answers] == [True, True, True, False]
    assert 1 + MARGIN - took - 0.01 <= answers[3].wait <= 1 + MARGIN


def test_keys_live_in_redis_under_the_prefix(
    loopback_redis_url: str, loopback_redis: redis_server.RedisServer
) -> None:
    RedisLimiter(loopback_redis_url).acquire(KEY, "standard")
    keys = redis.Redis.from_url(loopback_redis.url).keys("*")
    assert isinstance(keys, list)
    prefix = loopback_redis_url.rpartition("prefix=")[2]
    assert [k.decode() for k in keys if prefix.encode() in k] == [
        f"{prefix}:v1:gcra:standard:fly_start_machine:m1"
    ]


def test_wrong_password_refuses_without_showing_either(
    loopback_redis: redis_server.RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisLimiter(
        loopback_redis.url.replace(PASSWORD, "not-the-password") + "?fallback=refuse"
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(LimiterUnavailableError) as caught:
        limiter.acquire(KEY, "standard")
    shown = " ".join([repr(limiter), str(caught.value), caplog.text])
    assert f"127.0.0.1:{loopback_redis.port}" in shown
    assert "not-the-password" not in shown
    assert PASSWORD not in shown


def test_outage_falls_back_then_returns_to_redis(caplog: pytest.LogCaptureFixture) -> None:
    with redis_server.RedisServer() as own:
        limiter = RedisLimiter(own.url, timeout=0.5, recheck_after=0.2)
        assert limiter.acquire(KEY, "standard").granted
        own.stop()
        with caplog.at_level(logging.WARNING, logger="fly_tools.client.limiter"):
            local = [limiter.acquire(KEY, "standard") for _ in range(4)]
        # Local buckets while Redis is down: three at once, then one per second.
        assert [p.wait for p in local] == pytest.approx([0, 0, 0, 1 + MARGIN], abs=0.01)
        assert sum("unreachable" in r.getMessage() for r in caplog.records) == 1
        own.start()
        time.sleep(0.25)
        with caplog.at_level(logging.WARNING, logger="fly_tools.client.limiter"):
            assert limiter.acquire(KEY, "standard").granted  # a fresh Redis: a full bucket
        assert any("reachable again" in r.getMessage() for r in caplog.records)
        assert redis.Redis.from_url(own.url).keys("*")


async def test_a_silent_redis_does_not_stall_the_event_loop() -> None:
    # Accepts connections, never answers: every Redis call waits for the timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        limiter = RedisLimiter(f"redis://127.0.0.1:{port}/0", timeout=0.3)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        answer = await limiter.aacquire(KEY, "standard")
        waited = time.monotonic() - started
        ticker.cancel()
    assert answer == Pace(0.0)  # the local fallback's first slot
    assert waited >= 0.25
    assert ticks >= 10  # the loop ran other tasks all the while


@pytest.mark.slow
def test_four_agent_processes_meet_no_429(loopback_redis: redis_server.RedisServer) -> None:
    run = run_once(loopback_redis.url, 1, scale=2.0, processes=4, calls=3)
    # Fly's limit allows 3 at once, then one per second: 9 intervals for 12 calls.
    assert (run.server_429s, run.agent_429s, run.failed) == (0, 0, 0)
    assert 9 <= run.seconds <= 9 * 1.2
