"""Failures a new user meets going live, named in the error's first words; the timeout
settings and the total deadline of a request that gets no answer. No sockets: httpx's
MockTransport raises what a real connection would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fly_tools.client import (
    AsyncFlyClient,
    ConfigurationError,
    FlyClient,
    FlyConnectionError,
    FlyTimeoutError,
    UnauthorizedError,
)
from fly_tools.client.settings import CONNECT_TIMEOUT, DEFAULT_TIMEOUT, TIMEOUT_ENV
from tests.unit.conftest import TOKEN, ManualClock, ScriptedFly, Sleeps

LIST_APPS = ("fly_list_apps", {"org_slug": "acme"})
BASE = "http://fly-api.invalid:4280"


def _raising(exc_type: type[httpx.TransportError], text: str) -> Callable[[httpx.Request], Any]:
    def reply(request: httpx.Request) -> httpx.Response:
        raise exc_type(text, request=request)

    return reply


def _client(fly: ScriptedFly, clock: ManualClock, sleeps: Sleeps, **options: Any) -> FlyClient:
    return FlyClient(
        TOKEN,
        base_url=BASE,
        transport=fly.transport,
        sleep=sleeps,
        clock=clock,
        rate_limit=False,
        **options,
    )


@pytest.mark.parametrize(
    ("raised", "text", "first_words"),
    [
        (
            httpx.ConnectError,
            "[Errno -2] Name or service not known",
            "Host not found: fly-api.invalid:4280 does not resolve (DNS lookup failed)",
        ),
        (
            httpx.ConnectError,
            "[Errno 111] Connection refused",
            "Connection refused: nothing accepts connections at fly-api.invalid:4280",
        ),
        (httpx.ReadTimeout, "timed out", "No answer in 30 s"),
        (
            httpx.ConnectTimeout,
            "timed out",
            f"No connection to fly-api.invalid:4280 in {CONNECT_TIMEOUT:g} s",
        ),
    ],
)
def test_the_first_words_name_the_cause(
    clean_env: pytest.MonkeyPatch,
    clock: ManualClock,
    sleeps: Sleeps,
    raised: type[httpx.TransportError],
    text: str,
    first_words: str,
) -> None:
    fly = ScriptedFly([_raising(raised, text)])
    with pytest.raises(FlyConnectionError) as caught:
        _client(fly, clock, sleeps, max_retries=0).call(*LIST_APPS)
    assert str(caught.value).startswith(first_words), str(caught.value)
    assert "GET /apps" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_refused_token_says_so_first(
    clean_env: pytest.MonkeyPatch, clock: ManualClock, sleeps: Sleeps
) -> None:
    fly = ScriptedFly([httpx.Response(401, json={"error": "unauthorized"})])
    with pytest.raises(UnauthorizedError) as caught:
        _client(fly, clock, sleeps).call(*LIST_APPS)
    assert str(caught.value).startswith("Token refused: Fly answered 401 to GET /apps")


def _slow(clock: ManualClock, seconds: float) -> Callable[[httpx.Request], httpx.Response]:
    """A server that takes ``seconds`` (of the fake clock) and then times the read out."""

    def reply(request: httpx.Request) -> httpx.Response:
        clock.advance(seconds)
        raise httpx.ReadTimeout("timed out", request=request)

    return reply


def test_a_request_with_no_answer_stops_at_its_deadline_whatever_max_retries_says(
    clean_env: pytest.MonkeyPatch, clock: ManualClock, sleeps: Sleeps
) -> None:
    fly = ScriptedFly([_slow(clock, 2.0)])
    started = clock()
    with pytest.raises(FlyTimeoutError) as caught:
        _client(fly, clock, sleeps, timeout=2.0, max_retries=50).call(*LIST_APPS)
    assert len(fly.requests) == 2
    assert clock() - started <= 3 * 2.0
    assert str(caught.value).startswith("No answer in 2 s after 2 tries; GET /apps timed out")
    assert caught.value.tries == 2


def test_the_async_client_keeps_the_same_deadline(
    clean_env: pytest.MonkeyPatch, clock: ManualClock, sleeps: Sleeps
) -> None:
    fly = ScriptedFly([_slow(clock, 2.0)])
    client = AsyncFlyClient(
        TOKEN,
        base_url=BASE,
        transport=fly.transport,
        sleep=sleeps.asleep,
        clock=clock,
        rate_limit=False,
        timeout=2.0,
        max_retries=50,
    )
    with pytest.raises(FlyTimeoutError) as caught:
        asyncio.run(client.call(*LIST_APPS))
    assert len(fly.requests) == 2
    assert "No answer in 2 s after 2 tries" in str(caught.value)


def test_a_quick_failure_still_gets_its_retries(
    clean_env: pytest.MonkeyPatch, clock: ManualClock, sleeps: Sleeps
) -> None:
    # The deadline only cuts waiting on silence: refusals are retried as before.
    fly = ScriptedFly([_raising(httpx.ConnectError, "[Errno 111] Connection refused")])
    with pytest.raises(FlyConnectionError) as caught:
        _client(fly, clock, sleeps, timeout=2.0, max_retries=3).call(*LIST_APPS)
    assert len(fly.requests) == 4
    assert (
        "Connection refused: nothing accepts connections at fly-api.invalid:4280 after 4 tries"
        in str(caught.value)
    )


# ---------------------------------------------------------------- the timeout settings


def test_the_timeout_comes_from_the_argument_then_the_environment_then_30(
    clean_env: pytest.MonkeyPatch,
) -> None:
    assert FlyClient(TOKEN)._config.timeout == DEFAULT_TIMEOUT == 30.0
    clean_env.setenv(TIMEOUT_ENV, "2.5")
    assert FlyClient(TOKEN)._config.timeout == 2.5
    assert FlyClient(TOKEN, timeout=7)._config.timeout == 7.0


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_a_timeout_that_is_not_positive_seconds_is_refused(
    clean_env: pytest.MonkeyPatch, value: str
) -> None:
    clean_env.setenv(TIMEOUT_ENV, value)
    with pytest.raises(ConfigurationError, match=TIMEOUT_ENV):
        FlyClient(TOKEN)
    with pytest.raises(ConfigurationError, match="timeout"):
        FlyClient(TOKEN, timeout=0)


@pytest.mark.parametrize(("timeout", "connect"), [(30.0, CONNECT_TIMEOUT), (2.0, 2.0)])
def test_connecting_takes_at_most_a_few_seconds(
    clean_env: pytest.MonkeyPatch, timeout: float, connect: float
) -> None:
    fly = ScriptedFly()
    seen: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"apps": []})

    fly.replies = [record]
    FlyClient(TOKEN, transport=fly.transport, rate_limit=False, timeout=timeout).call(*LIST_APPS)
    assert seen[0] == {"connect": connect, "read": timeout, "write": timeout, "pool": timeout}
