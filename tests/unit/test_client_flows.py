"""Flows that outlast Fly's quirks: waits through transient errors, a new app not yet
served, replies lost after the work was done, and the token endpoints that are not tools."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fly_tools.client import (
    BadRequestError,
    FlyAPIError,
    FlyClient,
    NotFoundError,
    UnauthorizedError,
    WaitTimeoutError,
)
from fly_tools.client.core import NOTE_KEY
from fly_tools.client.flows import APP_READY_TIMEOUT
from fly_tools.client.tokens import scope_from_current_token

M1 = {"app_name": "web", "machine_id": "m1"}
DONE = httpx.Response(200, json={"ok": True, "state": "started"})
CREATED = httpx.Response(201, json={"id": "app_1", "created_at": 1})
APP = httpx.Response(200, json={"name": "fresh"})


def status(code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(code, json={"error": f"status {code}"}, headers=headers or {})


# ---------------------------------------------------------------- wait


@pytest.mark.parametrize(
    "transient",
    [status(500), status(503), status(429, {"retry-after": "2"}), httpx.ConnectError("down")],
)
def test_wait_keeps_waiting_through_transient_failures(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], transient: Any
) -> None:
    # max_retries=0: the flow itself, not the per-request retry, outlasts the failures.
    fly = fake_fly(transient, transient, transient, DONE)
    got = make_client(fly, max_retries=0).call("fly_wait_machine", {**M1, "timeout": 60})
    assert got == {"ok": True, "state": "started"}
    assert fly.paths == ["GET /v1/apps/web/machines/m1/wait"] * 4


def test_wait_honours_retry_after_between_attempts(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(status(429, {"retry-after": "7"}), DONE)
    make_client(fly, max_retries=0).call("fly_wait_machine", {**M1, "timeout": 60})
    assert sleeps.calls == [7.0]


@pytest.mark.parametrize("code", [400, 401, 403, 404])
def test_wait_stops_on_errors_that_will_not_improve(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], code: int
) -> None:
    fly = fake_fly(status(code), DONE)
    with pytest.raises(FlyAPIError) as caught:
        make_client(fly, max_retries=0).call("fly_wait_machine", {**M1, "timeout": 60})
    assert caught.value.status == code
    assert len(fly.requests) == 1


def test_wait_gives_up_at_the_deadline_naming_the_last_failure(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], clock: Any
) -> None:
    fly = fake_fly(status(503))
    start = clock()
    with pytest.raises(WaitTimeoutError) as caught:
        make_client(fly, max_retries=0).call("fly_wait_machine", {**M1, "timeout": 10})
    assert clock() - start == 10
    assert "did not reach started within 10 s (last attempt: status 503)" in str(caught.value)
    assert len(fly.requests) >= 5  # paused 0.5, 1, 2, 2, ... s between attempts


# ---------------------------------------------------------------- create app


def test_create_app_returns_once_fly_serves_the_app(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], sleeps: Any
) -> None:
    fly = fake_fly(CREATED, status(404), status(401), APP)
    got = make_client(fly).call("fly_create_app", {"app_name": "fresh", "org_slug": "acme"})
    assert got == {"id": "app_1", "created_at": 1}
    assert fly.paths == ["POST /v1/apps"] + ["GET /v1/apps/fresh"] * 3
    assert sleeps.calls == [0.5, 1.0]


def test_create_app_gives_up_waiting_but_reports_the_app_created(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], clock: Any
) -> None:
    fly = fake_fly(CREATED, status(404))
    start = clock()
    got = make_client(fly).call("fly_create_app", {"app_name": "fresh", "org_slug": "acme"})
    assert got["id"] == "app_1"
    assert "did not serve app fresh within 60 s" in got[NOTE_KEY]
    assert clock() - start <= APP_READY_TIMEOUT
    assert [r.method for r in fly.requests].count("POST") == 1  # never created twice


# ---------------------------------------------------------------- lost replies


def lost_then(reply: httpx.Response) -> list[Any]:
    return [httpx.RemoteProtocolError("server disconnected"), reply]


@pytest.mark.parametrize(
    ("tool", "args", "verb"),
    [
        ("fly_delete_volume", {"app_name": "web", "volume_id": "vol_abc"}, "deleted"),
        ("fly_delete_app", {"app_name": "web"}, "deleted"),
        ("fly_delete_machine", M1, "deleted"),
        ("fly_delete_secret", {"app_name": "web", "secret_name": "DB_URL"}, "deleted"),
        ("fly_release_lease", {**M1, "lease_nonce": "a" * 32}, "released"),
    ],
)
def test_a_retried_delete_that_meets_404_reports_the_first_attempts_success(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    tool: str,
    args: dict[str, Any],
    verb: str,
) -> None:
    fly = fake_fly(*lost_then(status(404)))
    got = make_client(fly).call(tool, args)
    assert got["ok"] is True
    assert got[NOTE_KEY].startswith(f"{verb}: the first attempt succeeded but its reply was lost")
    assert len(fly.requests) == 2


def test_a_404_without_a_lost_reply_is_still_a_failure(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    fly = fake_fly(status(404))
    with pytest.raises(NotFoundError):
        make_client(fly).call("fly_delete_volume", {"app_name": "web", "volume_id": "vol_abc"})


def test_a_retried_extend_already_at_the_size_reports_success(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    refusal = httpx.Response(
        400, json={"error": "size_gb must be greater than the volume's current 20 GB"}
    )
    fly = fake_fly(*lost_then(refusal))
    args = {"app_name": "web", "volume_id": "vol_abc", "size_gb": 20}
    got = make_client(fly).call("fly_extend_volume", args)
    assert got[NOTE_KEY].startswith("extended to 20 GB: the first attempt succeeded")


def test_a_retried_extend_refused_for_another_reason_is_a_failure(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any]
) -> None:
    refusal = httpx.Response(
        400, json={"error": "size_gb must be greater than the volume's current 30 GB"}
    )
    fly = fake_fly(*lost_then(refusal))
    with pytest.raises(BadRequestError, match="current 30 GB"):
        make_client(fly).call(
            "fly_extend_volume", {"app_name": "web", "volume_id": "vol_abc", "size_gb": 20}
        )


# ---------------------------------------------------------------- token endpoints


def test_current_token_and_authorize_send_fly_s_forms(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], token: str
) -> None:
    fly = fake_fly(httpx.Response(200, json={"tokens": [{"org_slug": "acme", "apps": []}]}))
    client = make_client(fly)
    assert client.current_token() == {"tokens": [{"org_slug": "acme", "apps": []}]}
    client.authorize({"action": 0})
    client.authorize({"action": 3, "app_name": "web"})
    assert fly.paths == ["GET /v1/tokens/current"] + ["POST /v1/tokens/authorize"] * 2
    body = fly.requests[1].read()
    assert b'"access":{}' in body.replace(b" ", b"")  # no action: only verify the token
    assert json.loads(fly.requests[2].read())["access"] == {"action": "rw", "app_name": "web"}
    assert token.encode() in body  # the header Fly is asked to check is the client's own


def test_current_token_failure_is_the_usual_error(
    make_client: Callable[..., FlyClient], fake_fly: Callable[..., Any], token: str
) -> None:
    fly = fake_fly(status(401))
    with pytest.raises(UnauthorizedError) as caught:
        make_client(fly).current_token()
    assert token not in str(caught.value)


@pytest.mark.parametrize(
    ("caveats", "apps", "scope"),
    [
        ([], [], "org"),
        ([], ["web"], "deploy"),
        ([{"type": "Organization", "body": {"id": 1, "mask": "r"}}], [], "readonly"),
        ([{"type": "Commands", "body": [{"args": [], "exact": False}]}], [], "machine-exec"),
        ([{"type": "Organization", "body": {"id": 1, "mask": "rwcdC"}}], ["web"], "deploy"),
    ],
)
def test_scope_from_current_token(caveats: list[Any], apps: list[str], scope: str) -> None:
    answer = {"tokens": [{"org_slug": "acme", "apps": apps}]}
    authorized = {"verified_token": {"caveats": {"caveats": caveats}}}
    assert scope_from_current_token(answer, authorized) == (scope, tuple(apps))
