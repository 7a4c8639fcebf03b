"""Rate limiting: Fly's per-action, per-target token buckets, paced on a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from fly_tools.client import FLY_LIMITS, FlyClient, Limit, RateLimiter


def paced(expected: object) -> object:
    """Expected waits: the limiter adds a 1% safety margin to every wait."""
    return pytest.approx(expected, rel=0.011, abs=1e-9)


def reserve_many(limiter: RateLimiter, n: int, key: object, rate_class: str) -> list[float]:
    return [limiter.reserve(key, rate_class) for _ in range(n)]


def test_standard_burst_of_three_then_one_per_second(clock: Any) -> None:
    limiter = RateLimiter(clock=clock)
    assert reserve_many(limiter, 5, ("fly_start_machine", "m1"), "standard") == paced(
        [0, 0, 0, 1, 2]
    )


def test_waiting_as_told_paces_one_second_apart(clock: Any) -> None:
    limiter = RateLimiter(clock=clock)
    waits = []
    for _ in range(5):
        wait = limiter.reserve(("fly_start_machine", "m1"), "standard")
        waits.append(wait)
        clock.advance(wait)
    assert waits == paced([0, 0, 0, 1, 1])


def test_targets_and_actions_are_independent(clock: Any) -> None:
    limiter = RateLimiter(clock=clock)
    reserve_many(limiter, 3, ("fly_start_machine", "m1"), "standard")
    assert limiter.reserve(("fly_start_machine", "m2"), "standard") == paced(0)
    assert limiter.reserve(("fly_stop_machine", "m1"), "standard") == paced(0)
    assert limiter.reserve(("fly_start_machine", "m1"), "standard") == paced(1)


def test_get_machine_bursts_ten_then_five_per_second(clock: Any) -> None:
    limiter = RateLimiter(clock=clock)
    waits = reserve_many(limiter, 12, ("fly_get_machine", "m1"), "get_machine")
    assert waits[:10] == [0] * 10
    assert waits[10:] == paced([0.2, 0.4])


def test_app_deletes_allow_a_hundred_per_minute(clock: Any) -> None:
    limiter = RateLimiter(clock=clock)
    waits = reserve_many(limiter, 101, ("fly_delete_app", "org"), "app_delete")
    assert waits[:100] == [0] * 100
    assert waits[100] == paced(0.6)


def test_bucket_refills_after_a_quiet_spell(clock: Any) -> None:
    limiter = RateLimiter(clock=clock)
    reserve_many(limiter, 3, "k", "standard")
    clock.advance(1.5)
    assert limiter.reserve("k", "standard") == paced(0)
    assert limiter.reserve("k", "standard") == paced(0.5)
    clock.advance(60)
    assert reserve_many(limiter, 3, "k", "standard") == paced([0, 0, 0])


def test_limits_are_configurable(clock: Any) -> None:
    limiter = RateLimiter({"standard": Limit(rate=2.0, burst=1)}, clock=clock)
    assert reserve_many(limiter, 3, "k", "standard") == paced([0, 0.5, 1.0])
    assert limiter.limits["get_machine"] == FLY_LIMITS["get_machine"]
    assert limiter.reserve("k", "unheard_of") == paced(0)  # falls back to standard, own bucket


def test_limit_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="rate"):
        Limit(rate=0, burst=3)


def test_reservations_are_thread_safe(clock: Any) -> None:
    limiter = RateLimiter(clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        got = reserve_many(limiter, 50, "shared", "standard")
        with lock:
            waits.extend(got)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every slot handed out exactly once: 3 free, then one per second.
    assert sorted(waits) == paced([0, 0, 0, *range(1, 398)])


# ---------------------------------------------------------------- through the client


def test_client_paces_calls_on_one_machine(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    client = make_client(fake_fly(), rate_limit=True)
    for _ in range(5):
        client.call("fly_start_machine", {"app_name": "web", "machine_id": "m1"})
    assert sleeps.calls == paced([1, 1])
    client.call("fly_start_machine", {"app_name": "web", "machine_id": "m2"})
    assert sleeps.calls == paced([1, 1])


def test_client_gives_get_machine_its_own_allowance(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    client = make_client(fake_fly(), rate_limit=True)
    for _ in range(10):
        client.call("fly_get_machine", {"app_name": "web", "machine_id": "m1"})
    assert sleeps.calls == paced([])
    client.call("fly_get_machine", {"app_name": "web", "machine_id": "m1"})
    assert sleeps.calls == paced([0.2])


def test_client_keys_app_calls_by_app(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    client = make_client(fake_fly(), rate_limit=True)
    for app in ("a1", "a2", "a3", "a4"):
        client.call("fly_list_machines", {"app_name": app})
        client.call("fly_list_machines", {"app_name": app})
    assert sleeps.calls == paced([])


def test_client_without_rate_limit_never_sleeps(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    client = make_client(fake_fly(), rate_limit=False)
    for _ in range(10):
        client.call("fly_start_machine", {"app_name": "web", "machine_id": "m1"})
    assert sleeps.calls == paced([])


def test_clients_can_share_a_limiter(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any, clock: Any
) -> None:
    shared = RateLimiter(clock=clock)
    first = make_client(fake_fly(), rate_limit=shared)
    second = make_client(fake_fly(), rate_limit=shared)
    for client in (first, second, first, second):
        client.call("fly_suspend_machine", {"app_name": "web", "machine_id": "m1"})
    assert sleeps.calls == paced([1])


def test_paced_waits_carry_a_one_percent_margin() -> None:
    # Arriving a hair late costs 1%; arriving a hair early would cost a 429.
    limiter = RateLimiter(clock=lambda: 0.0)
    assert reserve_many(limiter, 4, "k", "standard")[3] == pytest.approx(1.01)
