"""A server that echoes a call's secret values or the token into its error body: the
exception ``FlyClient.call`` / ``AsyncFlyClient.call`` raises carries none of them, in
any form (raw, JSON-escaped, URL-encoded, base64), in its text, repr or attributes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from fly_tools.client import AsyncFlyClient, FlyAPIError, FlyClient
from fly_tools.testing.world import WEB_1

SECRET = 'sk_live "quoted" \\ back/slash\nnext-line é-1234567890'
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("fly_set_secret", {"app_name": "web", "secret_name": "STRIPE_KEY", "value": SECRET}),
    (
        "fly_exec_machine",
        {"app_name": "web", "machine_id": WEB_1, "command": ["cat"], "stdin": SECRET},
    ),
]


def _forms(value: str) -> list[str]:
    data = value.encode()
    return [
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(data, safe=""),
        base64.b64encode(data).decode(),
        base64.urlsafe_b64encode(data).decode().rstrip("="),
    ]


def _echo(status: int) -> Callable[[httpx.Request], httpx.Response]:
    """A misbehaving server: its error repeats the request (body, token) in every form."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent = body.get("value") or body.get("stdin") or ""
        token = request.headers["authorization"].partition(" ")[2]
        echoed = " | ".join([*_forms(sent), *_forms(token), request.content.decode()])
        payload = {"error": f"cannot accept {echoed}", "status": f"bad {sent[:20]}"}
        return httpx.Response(
            status,
            json=payload,
            headers={"fly-request-id": f"req-{token[:30]}"},
        )

    return handler


def _outputs(err: FlyAPIError) -> str:
    parts = [str(err), repr(err), repr(err.args), repr(vars(err))]
    parts += [str(getattr(err, name, "")) for name in ("message", "advice", "fly_status")]
    return "\n".join(parts)


def _leaks(text: str, token: str) -> list[str]:
    values = [SECRET, token, *SECRET.splitlines()]
    return [form for value in values for form in _forms(value) if len(form) >= 8 and form in text]


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize(("name", "args"), CALLS, ids=[n for n, _ in CALLS])
def test_sync_errors_carry_no_echoed_secret(
    make_client: Callable[..., FlyClient],
    fake_fly: Callable[..., Any],
    token: str,
    status: int,
    name: str,
    args: dict[str, Any],
) -> None:
    fly = fake_fly(_echo(status))
    with pytest.raises(FlyAPIError) as caught:
        make_client(fly, max_retries=0).call(name, args)
    assert fly.requests, "the request reached the server"
    text = _outputs(caught.value)
    assert "cannot accept" in text  # the server's message is still there, scrubbed
    assert _leaks(text, token) == []


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize(("name", "args"), CALLS, ids=[n for n, _ in CALLS])
async def test_async_errors_carry_no_echoed_secret(
    make_async_client: Callable[..., AsyncFlyClient],
    fake_fly: Callable[..., Any],
    token: str,
    status: int,
    name: str,
    args: dict[str, Any],
) -> None:
    fly = fake_fly(_echo(status))
    with pytest.raises(FlyAPIError) as caught:
        await make_async_client(fly, max_retries=0).call(name, args)
    assert fly.requests
    text = _outputs(caught.value)
    assert "cannot accept" in text
    assert _leaks(text, token) == []


def test_the_client_does_not_import_the_guards() -> None:
    from tests.unit.test_import_layers import _modules_under, imported_by

    offenders = {
        module: sorted(n for n in imported_by(module) if n.startswith("fly_tools.guards"))
        for module in _modules_under("fly_tools.client")
    }
    assert {m: names for m, names in offenders.items() if names} == {}
