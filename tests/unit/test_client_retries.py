"""Retries: only what is safe to send again, with Fly's Retry-After or bounded backoff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fly_tools.client import (
    BadRequestError,
    FlyClient,
    FlyConnectionError,
    FlyTimeoutError,
    RateLimitedError,
    ServerError,
)
from fly_tools.client.core import RETRY_AFTER_CAP

OK = httpx.Response(200, json={"ok": True})
GET_APP = ("fly_get_app", {"app_name": "web"})
CREATE_MACHINE = ("fly_create_machine", {"app_name": "web", "image": "nginx:1.27"})


def too_many(retry_after: str | None = None) -> httpx.Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return httpx.Response(429, json={"error": "rate limited"}, headers=headers)


def test_429_honours_retry_after(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(too_many("2"), OK)
    assert make_client(fly).call(*GET_APP) == {"ok": True}
    assert len(fly.requests) == 2
    assert sleeps.calls == [2.0]


def test_429_retry_after_at_the_cap_is_slept_through(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(too_many(f"{RETRY_AFTER_CAP:g}"), OK)
    assert make_client(fly).call(*GET_APP) == {"ok": True}
    assert sleeps.calls == [RETRY_AFTER_CAP]


def test_429_retry_after_beyond_the_cap_is_raised_naming_the_wait(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(too_many("3600"), OK)
    with pytest.raises(RateLimitedError) as caught:
        make_client(fly).call(*GET_APP)
    assert len(fly.requests) == 1  # no sleep-and-retry that Fly would refuse again
    assert sleeps.calls == []
    assert caught.value.retry_after == 3600
    text = str(caught.value)
    assert "3600 s (about 1.0 h)" in text
    assert "do not retry before then" in text


def test_429_without_retry_after_waits_at_least_a_second(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(too_many(), too_many("soon"), OK)
    make_client(fly).call(*GET_APP)
    assert len(sleeps.calls) == 2
    assert all(1.0 <= s <= 4.25 for s in sleeps.calls)


def test_429_is_retried_even_for_a_create(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(too_many("1"), OK)
    make_client(fly).call(*CREATE_MACHINE)
    assert fly.paths == ["POST /v1/apps/web/machines"] * 2


def test_429_gives_up_after_max_retries(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(too_many("1"))
    with pytest.raises(RateLimitedError):
        make_client(fly, max_retries=2).call(*GET_APP)
    assert len(fly.requests) == 3
    assert sleeps.calls == [1.0, 1.0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_for_reads(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any, status: int
) -> None:
    fly = fake_fly(httpx.Response(status), httpx.Response(status), OK)
    assert make_client(fly).call(*GET_APP) == {"ok": True}
    assert len(fly.requests) == 3
    assert len(sleeps.calls) == 2


def test_backoff_grows_and_stays_bounded(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(httpx.Response(503))
    with pytest.raises(ServerError):
        make_client(fly, max_retries=7).call(*GET_APP)
    assert len(fly.requests) == 8
    assert all(0.25 <= s <= 4.25 for s in sleeps.calls)
    assert sleeps.calls[-1] >= 4.0 > sleeps.calls[0]


def test_500_and_4xx_are_not_retried(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(httpx.Response(500))
    with pytest.raises(ServerError):
        make_client(fly).call(*GET_APP)
    fly = fake_fly(httpx.Response(400, json={"error": "bad"}))
    with pytest.raises(BadRequestError):
        make_client(fly).call(*GET_APP)
    assert len(fly.requests) == 1
    assert sleeps.calls == []


def test_max_retries_zero_disables_retries(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(httpx.Response(503), OK)
    with pytest.raises(ServerError):
        make_client(fly, max_retries=0).call(*GET_APP)
    assert len(fly.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_create_is_never_resent_after_a_server_error(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], status: int
) -> None:
    fly = fake_fly(httpx.Response(status), OK)
    with pytest.raises(ServerError) as caught:
        make_client(fly).call(*CREATE_MACHINE)
    assert len(fly.requests) == 1
    assert "may have happened" in str(caught.value)


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ReadTimeout("read timed out"), FlyTimeoutError),
        (httpx.WriteTimeout("write timed out"), FlyTimeoutError),
        (httpx.ReadError("connection reset"), FlyConnectionError),
        (httpx.RemoteProtocolError("server disconnected"), FlyConnectionError),
    ],
)
def test_a_create_is_never_resent_after_the_request_may_have_arrived(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    exc: Exception,
    cls: type[FlyConnectionError],
) -> None:
    fly = fake_fly(exc, OK)
    with pytest.raises(FlyConnectionError) as caught:
        make_client(fly).call(*CREATE_MACHINE)
    err = caught.value
    assert type(err) is cls
    assert len(fly.requests) == 1
    assert err.request_sent is True
    assert "may have happened" in str(err)
    assert "list or get" in str(err)
    assert err.__cause__ is exc


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow dns"), httpx.PoolTimeout("busy")],
)
def test_failures_before_sending_are_retried_even_for_a_create(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], exc: Exception
) -> None:
    fly = fake_fly(exc, OK)
    assert make_client(fly).call(*CREATE_MACHINE) == {"ok": True}
    assert len(fly.requests) == 2


def test_connect_error_that_persists_says_nothing_was_sent(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.ConnectError("refused"))
    with pytest.raises(FlyConnectionError) as caught:
        make_client(fly, max_retries=2).call(*CREATE_MACHINE)
    assert len(fly.requests) == 3
    assert caught.value.request_sent is False
    assert "Nothing reached Fly" in str(caught.value)


def test_read_timeout_is_retried_for_idempotent_calls(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.ReadTimeout("slow"), OK)
    call = ("fly_stop_machine", {"app_name": "web", "machine_id": "m1"})
    assert make_client(fly).call(*call) == {"ok": True}
    assert len(fly.requests) == 2
