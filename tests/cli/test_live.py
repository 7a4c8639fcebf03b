"""`fly-tools call` and `tools` with --live: the scope read from the token, errors, --limiter."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx
import pytest

from fly_tools import FlyClient
from fly_tools.cli import options
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1
from tests.cli.conftest import Run


def test_live_never_prints_the_token(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "fm2_live-token-that-must-not-show"
    monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.setenv("FLY_API_HOSTNAME", "ftp://api.example")
    status, out, err = run("call", "fly_list_apps", "--live", "--scope", "org")
    assert status == 2
    assert "base URL" in err
    assert token not in out + err


def test_a_connection_failure_names_the_address(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        raise httpx.ConnectError("Connection refused", request=request)

    client = FlyClient(
        "fm2_conn-test",
        base_url="http://fly-api.invalid:4280",
        transport=httpx.MockTransport(refuse),
        max_retries=0,
    )
    monkeypatch.setattr(options, "live_client", lambda **extra: client)
    status, _, err = run(
        "call", "fly_list_apps", "--live", "--scope", "org", "--args", '{"org_slug": "acme"}'
    )
    assert status == 1
    assert "at the Fly API http://fly-api.invalid:4280/v1:" in err
    assert "fm2_conn-test" not in err
    assert attempts
    assert attempts[0].startswith("http://fly-api.invalid:4280/v1/apps")


def test_live_without_scope_reads_it_from_the_token(
    run: Run, fake: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(options, "live_client", lambda **extra: fake.client(scope="readonly"))
    status, _, err = run(
        "call",
        "fly_stop_machine",
        "--live",
        "--args",
        json.dumps({"app_name": "web", "machine_id": WEB_1}),
        "--yes",
    )
    assert status == 1
    assert "not available to a readonly-scoped token" in err
    assert [r.path for r in fake.requests] == ["/v1/tokens/current", "/v1/tokens/authorize"]


def test_live_without_scope_when_the_token_is_refused_says_so_first(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "unauthorized"})

    client = FlyClient(
        "fm2_unknown", base_url="http://fly.invalid", transport=httpx.MockTransport(refuse)
    )
    monkeypatch.setattr(options, "live_client", lambda **extra: client)
    status, out, err = run("tools", "--live")
    assert (status, out) == (2, "")
    # The cause first: giving --scope would not get past a refused token.
    assert err.startswith("fly-tools: Token refused: Fly answered 401 to GET /tokens/current")
    assert "scope could not be read" in err.splitlines()[0]
    assert "fm2_unknown" not in err


def test_limiter_is_passed_only_when_given(run: Run, fake: FakeFly) -> None:
    run("call", "fly_list_machines", "--app", "web")
    run("call", "fly_list_machines", "--app", "web", "--limiter", "memory")
    made: list[dict[str, Any]] = fake.clients_made  # type: ignore[attr-defined]
    assert "limiter" not in made[0]
    assert made[1]["limiter"] == "memory"


def test_limiter_reaches_the_client_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def from_env(**extra: Any) -> Any:
        seen.update(extra)
        return partial(FlyClient, "fm2_x")(**extra)

    monkeypatch.setenv("FLY_API_TOKEN", "fm2_limiter-test")
    monkeypatch.setattr(FlyClient, "from_env", from_env)
    options.live_client(limiter="memory")
    assert seen == {"limiter": "memory"}
