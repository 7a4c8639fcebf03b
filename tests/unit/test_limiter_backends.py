"""Limiter backends: the shared Redis limiter on fakeredis, choosing a limiter, outages."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import fakeredis
import httpx
import pytest
import redis

from fly_tools.client import (
    AsyncFlyClient,
    ConfigurationError,
    FlyClient,
    Limit,
    LimiterUnavailableError,
    Pace,
    RateLimiter,
    RedisLimiter,
    sync_twin,
)
from fly_tools.client.limiters import LIMITER_ENV_VAR, MARGIN
from tests.unit.conftest import TOKEN, ManualClock

PASSWORD = "s3cret-redis-pass"
_hosts = itertools.count()


class FlakyConnection(fakeredis.FakeRedisConnection):
    """A fakeredis connection that refuses to connect while ``down`` is set."""

    down = False

    def connect(self) -> None:
        if FlakyConnection.down:
            raise redis.ConnectionError("Error 111 connecting. Connection refused.")
        super().connect()


class FakeRedisLimiter(RedisLimiter):
    """The Redis limiter, talking to fakeredis (its Lua runs through lupa)."""

    def _store_options(self, *, asynchronous: bool) -> dict[str, Any]:
        options = super()._store_options(asynchronous=asynchronous)
        connection = fakeredis.FakeAsyncRedisConnection if asynchronous else FlakyConnection
        return options | {"CONNECTION_POOL_KWARGS": {"connection_class": connection}}


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A URL naming a fresh fake Redis (fakeredis keeps one server per host:port)."""
    FlakyConnection.down = False
    yield f"redis://fake-{next(_hosts)}:6379/0"
    FlakyConnection.down = False


@pytest.fixture
def no_limiter_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(LIMITER_ENV_VAR, raising=False)
    return monkeypatch


def acquire_many(limiter: Any, n: int, key: object, rate_class: str = "standard") -> list[Pace]:
    return [limiter.acquire(key, rate_class) for _ in range(n)]


def timed_paces(
    limiter: Any, n: int, key: object, rate_class: str = "standard"
) -> tuple[list[Pace], float]:
    """The answers, and how long asking took (Redis's clock runs on meanwhile)."""
    started = time.monotonic()
    paces = acquire_many(limiter, n, key, rate_class)
    return paces, time.monotonic() - started


def spaced(interval: float, took: float) -> Any:
    """A wait of one interval (1% wider), less what asking already took."""
    high = interval * (1 + MARGIN)
    return pytest.approx(high - took / 2, abs=took / 2 + 0.005)


def refused_after(paces: list[Pace]) -> int:
    """How many requests were granted before the first refusal."""
    return next((i for i, p in enumerate(paces) if not p.granted), len(paces))


# ---------------------------------------------------------------- GCRA in Redis


def test_standard_limit_grants_a_burst_of_three_then_says_how_long_to_wait(redis_url: str) -> None:
    paces, took = timed_paces(FakeRedisLimiter(redis_url), 4, ("fly_start_machine", "m1"))
    assert [p.granted for p in paces] == [True, True, True, False]
    assert [p.wait for p in paces[:3]] == [0, 0, 0]
    assert paces[3].wait == spaced(1.0, took)


def test_get_machine_bursts_ten_then_five_per_second(redis_url: str) -> None:
    limiter = FakeRedisLimiter(redis_url)
    paces, took = timed_paces(limiter, 11, ("fly_get_machine", "m1"), "get_machine")
    assert refused_after(paces) == 10
    assert paces[10].wait == spaced(0.2, took)


def test_app_deletions_allow_a_hundred_then_one_every_point_six_seconds(redis_url: str) -> None:
    limiter = FakeRedisLimiter(redis_url)
    paces, took = timed_paces(limiter, 101, ("fly_delete_app", "org"), "app_delete")
    assert refused_after(paces) == 100
    assert paces[100].wait == spaced(0.6, took)


def test_two_processes_sharing_a_url_share_the_buckets(redis_url: str) -> None:
    first, second = FakeRedisLimiter(redis_url), FakeRedisLimiter(redis_url)
    acquire_many(first, 2, ("fly_stop_machine", "m1"))
    assert second.acquire(("fly_stop_machine", "m1"), "standard").granted
    assert not first.acquire(("fly_stop_machine", "m1"), "standard").granted
    assert not second.acquire(("fly_stop_machine", "m1"), "standard").granted


def test_actions_targets_and_prefixes_are_separate_buckets(redis_url: str) -> None:
    limiter = FakeRedisLimiter(redis_url)
    acquire_many(limiter, 3, ("fly_stop_machine", "m1"))
    assert limiter.acquire(("fly_stop_machine", "m2"), "standard").granted
    assert limiter.acquire(("fly_start_machine", "m1"), "standard").granted
    assert (
        FakeRedisLimiter(redis_url + "?prefix=other-org")
        .acquire(("fly_stop_machine", "m1"), "standard")
        .granted
    )
    assert not limiter.acquire(("fly_stop_machine", "m1"), "standard").granted


def test_limits_are_configurable_and_unknown_classes_use_standard(redis_url: str) -> None:
    limiter = FakeRedisLimiter(redis_url, limits={"standard": Limit(rate=2.0, burst=1)})
    paces, took = timed_paces(limiter, 2, "k", "unheard_of")
    assert [p.granted for p in paces] == [True, False]
    assert paces[1].wait == spaced(0.5, took)


async def test_async_acquire_uses_the_same_buckets(redis_url: str) -> None:
    limiter = FakeRedisLimiter(redis_url)
    acquire_many(limiter, 2, ("fly_stop_machine", "m1"))
    first = await limiter.aacquire(("fly_stop_machine", "m1"), "standard")
    second = await limiter.aacquire(("fly_stop_machine", "m1"), "standard")
    assert (first.granted, second.granted) == (True, False)


# ---------------------------------------------------------------- through the clients


class ArrivalLog:
    """A MockTransport handler noting when each request arrived."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.times.append(time.monotonic())
        self.paths.append(request.url.path)
        return httpx.Response(200, json={"ok": True})

    def assert_spaced(self, interval: float) -> None:
        """Requests arrived one interval apart: Redis's schedule, give or take the jitter
        between a grant and its arrival (a few ms of a busy machine)."""
        gaps = [b - a for a, b in itertools.pairwise(self.times)]
        assert min(gaps) >= interval * 0.8
        assert self.times[-1] - self.times[0] >= interval * len(gaps) - 0.01


FAST = {"standard": Limit(rate=20.0, burst=1)}
"""One request per 50 ms: real sleeps, kept short."""


def test_two_clients_on_one_redis_reach_fly_one_interval_apart(
    redis_url: str, no_limiter_env: pytest.MonkeyPatch
) -> None:
    log = ArrivalLog()
    clients = [
        FlyClient(
            TOKEN,
            transport=httpx.MockTransport(log),
            limiter=FakeRedisLimiter(redis_url, limits=FAST),
        )
        for _ in range(2)
    ]
    for client in clients * 3:
        client.call("fly_start_machine", {"app_name": "web", "machine_id": "m1"})
    assert len(log.times) == 6
    log.assert_spaced(0.05)


async def test_async_client_paces_through_redis_asyncio(
    redis_url: str, no_limiter_env: pytest.MonkeyPatch
) -> None:
    limiter = FakeRedisLimiter(redis_url, limits=FAST)

    def blocking(key: Hashable, rate_class: str) -> Pace:
        raise AssertionError("the async client asked Redis through the blocking client")

    limiter.acquire = blocking  # type: ignore[method-assign]
    log = ArrivalLog()
    client = AsyncFlyClient(TOKEN, transport=httpx.MockTransport(log), limiter=limiter)
    for _ in range(3):
        await client.call("fly_start_machine", {"app_name": "web", "machine_id": "m1"})
    assert len(log.times) == 3
    log.assert_spaced(0.05)


def test_app_deletions_are_keyed_org_wide(
    redis_url: str, no_limiter_env: pytest.MonkeyPatch
) -> None:
    log = ArrivalLog()
    limiter = FakeRedisLimiter(redis_url, limits={"app_delete": Limit(rate=20.0, burst=1)})
    client = FlyClient(TOKEN, transport=httpx.MockTransport(log), limiter=limiter)
    for app in ("a1", "a2", "a3"):
        client.call("fly_delete_app", {"app_name": app})
    assert log.paths == ["/v1/apps/a1", "/v1/apps/a2", "/v1/apps/a3"]
    log.assert_spaced(0.05)


# ---------------------------------------------------------------- Redis unreachable


def test_local_fallback_paces_alone_and_warns_once(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    limiter = FakeRedisLimiter(redis_url, clock=clock, recheck_after=5)
    FlakyConnection.down = True
    with caplog.at_level(logging.WARNING, logger="fly_tools.client.limiter"):
        paces = acquire_many(limiter, 5, ("fly_start_machine", "m1"))
    # The in-process buckets: reserved slots, each told how long to wait.
    assert [p.granted for p in paces] == [True] * 5
    assert [p.wait for p in paces] == pytest.approx([0, 0, 0, 1 + MARGIN, 2 * (1 + MARGIN)])
    assert [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()] == [
        f"Shared rate limiter {redis_url} is unreachable (ConnectionError): pacing this "
        "process on its own; trying it again in 5 s."
    ]
    FlakyConnection.down = False
    assert limiter.acquire(("fly_start_machine", "m2"), "standard").wait == 0
    assert not any("reachable again" in r.getMessage() for r in caplog.records)  # not asked yet
    clock.advance(5)
    with caplog.at_level(logging.WARNING, logger="fly_tools.client.limiter"):
        acquire_many(limiter, 3, ("fly_start_machine", "m1"))
        assert not limiter.acquire(("fly_start_machine", "m1"), "standard").granted  # Redis again
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_refuse_fallback_sends_nothing(
    redis_url: str, fake_fly: Callable[..., Any], no_limiter_env: pytest.MonkeyPatch
) -> None:
    fly = fake_fly()
    client = FlyClient(
        TOKEN, transport=fly.transport, limiter=FakeRedisLimiter(redis_url + "?fallback=refuse")
    )
    FlakyConnection.down = True
    for _ in range(2):  # the second one refuses without waiting on Redis again
        with pytest.raises(LimiterUnavailableError, match="not sent") as caught:
            client.call("fly_start_machine", {"app_name": "web", "machine_id": "m1"})
    assert fly.requests == []
    assert "fallback=local" in str(caught.value)


def test_unreachable_socket_falls_back(no_limiter_env: pytest.MonkeyPatch) -> None:
    # A real redis-py ConnectionError: nothing listens on this unix socket.
    limiter = RedisLimiter("unix:///nonexistent/redis.sock?fallback=refuse", timeout=0.2)
    with pytest.raises(LimiterUnavailableError):
        limiter.acquire(("fly_start_machine", "m1"), "standard")


def test_password_never_shows(redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    # fakeredis has no password set, so AUTH fails: the limiter counts Redis as down.
    url = redis_url.replace("//", f"//:{PASSWORD}@") + "?fallback=refuse"
    limiter = FakeRedisLimiter(url)
    client = FlyClient(TOKEN, transport=httpx.MockTransport(ArrivalLog()), limiter=limiter)
    with caplog.at_level(logging.DEBUG), pytest.raises(LimiterUnavailableError) as caught:
        client.call("fly_start_machine", {"app_name": "web", "machine_id": "m1"})
    shown = [repr(limiter), str(limiter), repr(client), str(caught.value), caplog.text]
    assert limiter.address == redis_url
    assert not [text for text in shown if PASSWORD in text]


# ---------------------------------------------------------------- choosing a limiter


def test_memory_url_object_and_environment(
    redis_url: str, no_limiter_env: pytest.MonkeyPatch
) -> None:
    assert isinstance(FlyClient(TOKEN)._config.limiter, RateLimiter)
    assert isinstance(FlyClient(TOKEN, limiter="memory")._config.limiter, RateLimiter)
    chosen = FlyClient(
        TOKEN, limiter="redis://:pw@localhost:6379/0?fallback=refuse"
    )._config.limiter
    assert isinstance(chosen, RedisLimiter)
    assert (chosen.address, chosen.fallback) == ("redis://localhost:6379/0", "refuse")
    shared = FakeRedisLimiter(redis_url)
    client = AsyncFlyClient(TOKEN, limiter=shared)
    assert client._config.limiter is shared
    assert sync_twin(client)._config.limiter is shared
    no_limiter_env.setenv(LIMITER_ENV_VAR, "redis://localhost:6380/1")
    assert (
        repr(FlyClient(TOKEN)._config.limiter)
        == "RedisLimiter('redis://localhost:6380/1', fallback='local')"
    )
    assert isinstance(FlyClient(TOKEN, limiter="memory")._config.limiter, RateLimiter)
    assert FlyClient(TOKEN, rate_limit=False)._config.limiter is None


def test_the_older_rate_limit_spelling_still_works(no_limiter_env: pytest.MonkeyPatch) -> None:
    shared = RateLimiter()
    assert FlyClient(TOKEN, rate_limit=shared)._config.limiter is shared
    with pytest.raises(ConfigurationError, match="Both"):
        FlyClient(TOKEN, rate_limit=shared, limiter="memory")
    with pytest.raises(ConfigurationError, match="Both"):
        FlyClient(TOKEN, rate_limit=False, limiter="memory")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("mysql://root:hunter2@db/0", "neither 'memory' nor a Redis URL"),
        ("redis://:hunter2@localhost/0?fallback=maybe", "Unknown limiter fallback"),
        ("redis://:hunter2@/0", "must look like redis://host:6379/0"),
        ("redis://:hunter2@localhost:port/0", "must look like redis://host:6379/0"),
        (object(), "no acquire/aacquire"),
    ],
)
def test_bad_limiters_are_refused_before_any_request(
    value: object, problem: str, no_limiter_env: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match=problem) as caught:
        FlyClient(TOKEN, limiter=value)  # type: ignore[arg-type]
    assert "hunter2" not in str(caught.value)


def test_bad_environment_value_names_the_variable(no_limiter_env: pytest.MonkeyPatch) -> None:
    no_limiter_env.setenv(LIMITER_ENV_VAR, "memcached://cache:11211")
    with pytest.raises(ConfigurationError, match=LIMITER_ENV_VAR):
        FlyClient(TOKEN)


def test_missing_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "throttled", None)
    with pytest.raises(ConfigurationError, match=r"fly-tools\[redis\]"):
        RedisLimiter("redis://localhost:6379/0")


def test_each_event_loop_gets_its_own_connections(redis_url: str) -> None:
    limiter = FakeRedisLimiter(redis_url)

    async def both() -> tuple[Pace, Pace]:
        first, second = await asyncio.gather(
            limiter.aacquire(("a", "m1"), "standard"), limiter.aacquire(("a", "m2"), "standard")
        )
        return first, second

    assert all(p.granted for p in asyncio.run(both()))
    # A second event loop gets its own connections (redis.asyncio binds them to a loop).
    assert all(p.granted for p in asyncio.run(both()))
