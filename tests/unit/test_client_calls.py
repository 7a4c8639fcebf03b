"""Calls: the request each endpoint sends, the result each response becomes, update and wait."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.client import (
    FlyClient,
    FlyError,
    InvalidArgumentsError,
    NotFoundError,
    WaitTimeoutError,
)
from fly_tools.models.args import MachineArgs

M1 = {"app_name": "web", "machine_id": "m1"}


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


# ---------------------------------------------------------------- requests


def test_query_parameters_in_wire_form(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(200, json=[]))
    client = make_client(fly)
    client.call("fly_list_machines", {"app_name": "web", "state": ["started", "stopped"]})
    client.call("fly_delete_machine", {**M1, "force": True})
    client.call("fly_restart_machine", {**M1, "signal": "SIGTERM", "timeout": "30s"})
    assert [str(r.url) for r in fly.requests] == [
        "https://api.machines.dev/v1/apps/web/machines?state=started%2Cstopped",
        "https://api.machines.dev/v1/apps/web/machines/m1?force=true",
        "https://api.machines.dev/v1/apps/web/machines/m1/restart?signal=SIGTERM&timeout=30s",
    ]
    assert [r.content for r in fly.requests] == [b"", b"", b""]


def test_json_bodies(make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]) -> None:
    fly = fake_fly()
    client = make_client(fly)
    client.call("fly_stop_machine", {**M1, "signal": "SIGTERM", "timeout": "30s"})
    client.call("fly_create_app", {"app_name": "web", "org_slug": "personal"})
    client.call("fly_set_secret", {"app_name": "web", "secret_name": "DB_URL", "value": "pg://x"})
    assert [body_of(r) for r in fly.requests if r.method == "POST"] == [
        {"signal": "SIGTERM", "timeout": "30s"},
        {"name": "web", "org_slug": "personal"},
        {"value": "pg://x"},
    ]
    assert fly.requests[0].headers["content-type"] == "application/json"


def test_endpoint_record_and_model_instance_are_accepted(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly()
    client = make_client(fly)
    client.call(ENDPOINTS["fly_get_machine"], MachineArgs(app_name="web", machine_id="m1"))
    assert fly.paths == ["GET /v1/apps/web/machines/m1"]


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("fly_start_machine", {}),
        ("fly_stop_machine", {}),
        ("fly_suspend_machine", {}),
        ("fly_restart_machine", {}),
        ("fly_delete_machine", {}),
        ("fly_acquire_lease", {}),
        ("fly_release_lease", {}),
    ],
)
def test_lease_nonce_travels_in_its_header(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    name: str,
    extra: dict[str, Any],
) -> None:
    fly = fake_fly()
    make_client(fly).call(name, {**M1, "lease_nonce": "n0nce", **extra})
    request = fly.requests[0]
    assert request.headers["fly-machine-lease-nonce"] == "n0nce"
    assert b"n0nce" not in request.content
    assert "n0nce" not in str(request.url)


def test_no_nonce_header_without_a_nonce(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly()
    make_client(fly).call("fly_start_machine", M1)
    assert "fly-machine-lease-nonce" not in fly.requests[0].headers


# ---------------------------------------------------------------- responses


@pytest.mark.parametrize("name", ["fly_acquire_lease", "fly_get_lease", "fly_release_lease"])
def test_lease_envelope_is_unwrapped(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], name: str
) -> None:
    envelope = {"status": "success", "data": {"nonce": "abc", "expires_at": 1700000000}}
    fly = fake_fly(httpx.Response(201, json=envelope))
    args = {**M1, "lease_nonce": "abc"} if name == "fly_release_lease" else M1
    assert make_client(fly).call(name, args) == {"nonce": "abc", "expires_at": 1700000000}


def test_flat_lease_and_other_data_fields_pass_through(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    flat = {"nonce": "abc", "expires_at": 1}
    fly = fake_fly(httpx.Response(200, json=flat))
    assert make_client(fly).call("fly_get_lease", M1) == flat
    app = {"name": "web", "data": {"x": 1}, "status": "deployed"}
    fly = fake_fly(httpx.Response(200, json=app))
    assert make_client(fly).call("fly_get_app", {"app_name": "web"}) == app


@pytest.mark.parametrize(
    ("response", "result"),
    [
        (httpx.Response(200), None),
        (httpx.Response(200, text="  \n"), None),
        (httpx.Response(200, json={"previous_state": "stopped"}), {"previous_state": "stopped"}),
        (httpx.Response(200, text="started", headers={"content-type": "text/plain"}), "started"),
        (httpx.Response(200, text="not json {"), "not json {"),
    ],
)
def test_start_tolerates_empty_or_varying_bodies(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    response: httpx.Response,
    result: Any,
) -> None:
    fly = fake_fly(response)
    assert make_client(fly).call("fly_start_machine", M1) == result


def test_oidc_token_is_returned_as_text(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    jwt = "eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl"
    fly = fake_fly(httpx.Response(200, text=jwt + "\n", headers={"content-type": "text/plain"}))
    assert make_client(fly).call("fly_request_oidc_token", {"aud": "sts.amazonaws.com"}) == jwt
    assert body_of(fly.requests[0]) == {"aud": "sts.amazonaws.com"}


@pytest.mark.parametrize(
    ("content", "result"),
    [
        (b'{"exit_code": 0, "stdout": "hi\\n"}', {"exit_code": 0, "stdout": "hi\n"}),
        (b"raw output\n", "raw output\n"),
    ],
)
def test_exec_octet_stream_is_json_or_text(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    content: bytes,
    result: Any,
) -> None:
    headers = {"content-type": "application/octet-stream"}
    fly = fake_fly(httpx.Response(200, content=content, headers=headers))
    got = make_client(fly).call("fly_exec_machine", {**M1, "command": ["echo", "hi"]})
    assert got == result
    assert body_of(fly.requests[0]) == {"command": ["echo", "hi"]}


# ---------------------------------------------------------------- update


CURRENT = {
    "id": "m1",
    "instance_id": "01VERSION",
    "state": "started",
    "config": {"image": "nginx:1.26", "env": {"KEEP": "1"}, "guest": {"cpus": 1, "memory_mb": 256}},
}


def test_update_reads_the_machine_then_posts_the_whole_config(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(200, json=CURRENT), httpx.Response(200, json={"id": "m1"}))
    changes = {**M1, "image": "nginx:1.27", "env": {"NEW": "2"}, "lease_nonce": "n0nce"}
    assert make_client(fly).call("fly_update_machine", changes) == {"id": "m1"}
    assert fly.paths == ["GET /v1/apps/web/machines/m1", "POST /v1/apps/web/machines/m1"]
    assert body_of(fly.requests[1]) == {
        "config": {
            "image": "nginx:1.27",
            "env": {"KEEP": "1", "NEW": "2"},
            "guest": {"cpus": 1, "memory_mb": 256},
        },
        "current_version": "01VERSION",
    }
    assert fly.requests[1].headers["fly-machine-lease-nonce"] == "n0nce"
    assert "fly-machine-lease-nonce" not in fly.requests[0].headers


def test_update_keeps_a_given_current_version(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(200, json=CURRENT), httpx.Response(200, json={}))
    changes = {**M1, "memory_mb": 512, "current_version": "01MINE"}
    make_client(fly).call("fly_update_machine", changes)
    body = body_of(fly.requests[1])
    assert body["current_version"] == "01MINE"
    assert body["config"]["guest"] == {"cpus": 1, "memory_mb": 512}


def test_update_of_a_missing_machine_sends_no_post(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(404, json={"error": "machine not found"}))
    with pytest.raises(NotFoundError):
        make_client(fly).call("fly_update_machine", {**M1, "image": "nginx:1.27"})
    assert fly.paths == ["GET /v1/apps/web/machines/m1"]


def test_update_refuses_without_the_current_config(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(200, json={"id": "m1"}))
    with pytest.raises(FlyError, match="no config"):
        make_client(fly).call("fly_update_machine", {**M1, "image": "nginx:1.27"})
    assert len(fly.requests) == 1


def test_update_reports_a_merged_config_fly_would_reject(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    current = {**CURRENT, "config": {"image": "nginx", "guest": {"cpus": 1, "memory_mb": 256}}}
    fly = fake_fly(httpx.Response(200, json=current))
    with pytest.raises(InvalidArgumentsError, match="memory_mb"):
        make_client(fly).call("fly_update_machine", {**M1, "cpus": 4})
    assert len(fly.requests) == 1


# ---------------------------------------------------------------- wait


def timeout_408() -> httpx.Response:
    return httpx.Response(408, json={"error": "deadline exceeded"})


def held_for(clock: Any, response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """A reply that, like Fly, holds the request for the timeout it was asked for."""

    def reply(request: httpx.Request) -> httpx.Response:
        clock.advance(int(request.url.params["timeout"]))
        return response

    return reply


def test_wait_loops_across_408s_until_done(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], clock: Any
) -> None:
    done = httpx.Response(200, json={"ok": True, "state": "started"})
    fly = fake_fly(held_for(clock, timeout_408()), held_for(clock, timeout_408()), done)
    result = make_client(fly).call("fly_wait_machine", {**M1, "timeout": 150})
    assert result == {"ok": True, "state": "started"}
    asked = [r.url.params["timeout"] for r in fly.requests]
    assert asked == ["60", "60", "30"]
    reads = [r.extensions["timeout"]["read"] for r in fly.requests]
    assert reads == [70, 70, 40]


def test_wait_gives_up_at_the_deadline(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], clock: Any
) -> None:
    fly = fake_fly(held_for(clock, timeout_408()))
    start = clock()
    with pytest.raises(WaitTimeoutError) as caught:
        make_client(fly).call("fly_wait_machine", {**M1, "state": "stopped", "timeout": 90})
    assert [r.url.params["timeout"] for r in fly.requests] == ["60", "30"]
    assert clock() - start == 90
    text = str(caught.value)
    assert "did not reach stopped within 90 s" in text
    assert "fly_wait_machine again" in text
    assert "fly_get_machine" in text


def test_wait_does_not_spin_on_early_408s(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    clock: Any,
    sleeps: Any,
) -> None:
    fly = fake_fly(timeout_408())
    with pytest.raises(WaitTimeoutError):
        make_client(fly).call("fly_wait_machine", {**M1, "timeout": 3})
    assert sleeps.calls == [1.0, 1.0, 1.0]
    assert len(fly.requests) == 3


def test_wait_shortcut_sends_states_and_version(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(200, json={"ok": True, "state": "stopped"}))
    got = make_client(fly).wait(
        "web", "m1", state=["stopped", "suspended"], timeout=20, version="01V"
    )
    assert got == {"ok": True, "state": "stopped"}
    params = fly.requests[0].url.params
    assert params.get_list("state") == ["stopped", "suspended"]
    assert (params["timeout"], params["version"]) == ("20", "01V")


def test_wait_passes_other_errors_through(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(httpx.Response(404, json={"error": "machine not found"}))
    with pytest.raises(NotFoundError):
        make_client(fly).wait("web", "m1", timeout=300)
    assert len(fly.requests) == 1


# ---------------------------------------------------------------- lifecycle


def test_context_manager_closes_the_client(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    with make_client(fake_fly()) as client:
        client.call("fly_get_app", {"app_name": "web"})
    with pytest.raises(RuntimeError):
        client.call("fly_get_app", {"app_name": "web"})
