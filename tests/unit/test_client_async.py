"""The async client: the same flows, driven with await; sharing with the sync client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fly_tools.client import (
    AsyncFlyClient,
    ConfigurationError,
    FlyClient,
    FlyTimeoutError,
    InvalidArgumentsError,
    NotFoundError,
    RateLimiter,
    WaitTimeoutError,
    async_twin,
    sync_twin,
)

M1 = {"app_name": "web", "machine_id": "m1"}
CREATE_MACHINE = ("fly_create_machine", {"app_name": "web", "image": "nginx:1.27"})


async def test_call_sends_auth_path_and_nonce(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any], token: str
) -> None:
    fly = fake_fly(httpx.Response(200, json={"previous_state": "stopped"}))
    async with make_async_client(fly) as client:
        got = await client.call("fly_start_machine", {**M1, "lease_nonce": "n0nce"})
    assert got == {"previous_state": "stopped"}
    request = fly.requests[0]
    assert fly.paths == ["POST /v1/apps/web/machines/m1/start"]
    assert request.headers["authorization"] == f"Bearer {token}"
    assert request.headers["fly-machine-lease-nonce"] == "n0nce"


async def test_429_retry_after_is_slept_with_the_async_sleep(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    limited = httpx.Response(429, json={"error": "slow"}, headers={"retry-after": "3"})
    fly = fake_fly(limited, httpx.Response(200, json={"ok": True}))
    client = make_async_client(fly)
    assert await client.call("fly_get_app", {"app_name": "web"}) == {"ok": True}
    assert sleeps.calls == [3.0]
    await client.aclose()


async def test_a_create_is_not_resent_after_a_read_timeout(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.ReadTimeout("slow"), httpx.Response(200, json={}))
    with pytest.raises(FlyTimeoutError, match="may have happened"):
        await make_async_client(fly).call(*CREATE_MACHINE)
    assert len(fly.requests) == 1


async def test_a_create_is_resent_after_a_connect_error(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.ConnectError("refused"), httpx.Response(200, json={"id": "m9"}))
    assert await make_async_client(fly).call(*CREATE_MACHINE) == {"id": "m9"}
    assert len(fly.requests) == 2


async def test_gateway_error_retried_for_a_read(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(503), httpx.Response(200, json=[]))
    assert await make_async_client(fly).call("fly_list_volumes", {"app_name": "web"}) == []
    assert len(fly.requests) == 2


async def test_update_reads_then_posts(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any]
) -> None:
    current = {"id": "m1", "instance_id": "01V", "config": {"image": "nginx:1.26"}}
    fly = fake_fly(httpx.Response(200, json=current), httpx.Response(200, json={"id": "m1"}))
    await make_async_client(fly).call("fly_update_machine", {**M1, "image": "nginx:1.27"})
    assert fly.paths == ["GET /v1/apps/web/machines/m1", "POST /v1/apps/web/machines/m1"]
    body = json.loads(fly.requests[1].content)
    assert body == {"config": {"image": "nginx:1.27"}, "current_version": "01V"}


async def test_wait_loops_until_done_and_until_the_deadline(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any], clock: Any
) -> None:
    def hold_then(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
        def reply(request: httpx.Request) -> httpx.Response:
            clock.advance(int(request.url.params["timeout"]))
            return response

        return reply

    timeout_408 = hold_then(httpx.Response(408, json={"error": "timeout"}))
    done = httpx.Response(200, json={"ok": True, "state": "started"})
    fly = fake_fly(timeout_408, done)
    assert await make_async_client(fly).wait("web", "m1", timeout=100) == done.json()
    assert [r.url.params["timeout"] for r in fly.requests] == ["60", "40"]

    fly = fake_fly(timeout_408)
    with pytest.raises(WaitTimeoutError, match="fly_wait_machine again"):
        await make_async_client(fly).wait("web", "m1", timeout=100)
    assert len(fly.requests) == 2


async def test_hostile_identifiers_send_nothing(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly()
    with pytest.raises(InvalidArgumentsError):
        await make_async_client(fly).call(
            "fly_get_machine", {"app_name": "../x", "machine_id": "a"}
        )
    assert fly.requests == []


async def test_errors_map_the_same_way(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(404, json={"error": "app not found"}))
    with pytest.raises(NotFoundError, match="app not found"):
        await make_async_client(fly).call("fly_get_app", {"app_name": "web"})


async def test_oidc_text(
    make_async_client: Callable[..., AsyncFlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(200, text="eyJ.a.b", headers={"content-type": "text/plain"}))
    assert await make_async_client(fly).call("fly_request_oidc_token", {}) == "eyJ.a.b"


async def test_twins_share_settings_transport_and_limiter(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    sleeps: Any,
    clock: Any,
    token: str,
) -> None:
    fly = fake_fly()
    sync_client = make_client(fly, rate_limit=RateLimiter(clock=clock), base_url="https://x.test")
    async_client = async_twin(sync_client, sleep=sleeps.asleep)
    assert async_client.base_url == "https://x.test/v1"
    for _ in range(2):
        sync_client.call("fly_start_machine", M1)
        await async_client.call("fly_start_machine", M1)
    assert sleeps.calls == [pytest.approx(1.01)]  # the fourth call waited: one bucket for both
    assert [r.url.host for r in fly.requests] == ["x.test"] * 4
    assert {r.headers["authorization"] for r in fly.requests} == {f"Bearer {token}"}
    back = sync_twin(async_client, sleep=sleeps)
    back.call("fly_start_machine", M1)
    assert sleeps.calls == pytest.approx([1.01, 1.0], abs=0.011)
    await async_client.aclose()


async def test_async_twin_refuses_a_sync_only_transport(clean_env: pytest.MonkeyPatch) -> None:
    client = FlyClient("t0ken-abc", transport=httpx.HTTPTransport())
    with pytest.raises(ConfigurationError, match="async"):
        async_twin(client)
    client.close()


async def test_a_client_from_another_clients_settings_has_the_same_settings(
    clean_env: pytest.MonkeyPatch, clock: Any
) -> None:
    clean_env.setenv("FLY_TOOLS_TIMEOUT", "7")
    first = FlyClient(
        "t0ken-abc", base_url="https://x.test", rate_limit=False, max_retries=5, clock=clock
    )
    clean_env.setenv("FLY_TOOLS_TIMEOUT", "9")  # settings are resolved once, not read again
    clean_env.setenv("FLY_API_HOSTNAME", "https://elsewhere.test")
    for kind in (FlyClient, AsyncFlyClient):
        assert kind.from_config(first.config).config == first.config
    paced = FlyClient("t0ken-abc", rate_limit=RateLimiter(clock=clock))
    assert AsyncFlyClient.from_config(paced.config).config.limiter is paced.config.limiter


async def test_async_from_env(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FLY_API_TOKEN", "env-token-1")
    clean_env.setenv("FLY_FLAPS_BASE_URL", "http://flaps.test")
    client = AsyncFlyClient.from_env()
    assert client.base_url == "http://flaps.test/v1"
    assert "env-token-1" not in repr(client)
    await client.aclose()
