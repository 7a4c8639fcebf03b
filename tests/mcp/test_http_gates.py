"""HTTP gates: Host names (``--allow-host``), browser origins with CORS, the bearer scheme."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from fly_tools.mcp.http import allowed_hosts, host_name, http_app
from tests.mcp.conftest import Served
from tests.mcp.test_transports import TOKEN, serve_in_thread

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
GOOD = {"Authorization": f"Bearer {TOKEN}", **ACCEPT}
ORIGIN = "https://console.example"


def post(http: httpx.Client, **headers: str) -> httpx.Response:
    return http.post("/mcp", json=LIST, headers={**GOOD, **headers})


def passed(response: httpx.Response) -> bool:
    """Past the gates: MCP itself answered (without a session, with a JSON-RPC error)."""
    return response.status_code not in (401, 403, 421) and "jsonrpc" in response.text


@pytest.mark.enable_socket
@pytest.mark.loopback
def test_a_wildcard_bind_answers_only_loopback_names_and_the_allowed_ones(web: Served) -> None:
    app = http_app(web.server, token=TOKEN, host="0.0.0.0", allow_hosts=["mcp.internal"])  # noqa: S104
    with serve_in_thread(app) as base, httpx.Client(base_url=base) as http:
        for name in ("mcp.internal:8000", "MCP.Internal", "localhost:1", "127.0.0.1:8000"):
            assert passed(post(http, Host=name)), name
        refused = post(http, Host="other.internal:8000")
        assert refused.status_code == 421
        said = refused.json()["error_description"]
        assert "other.internal" in said
        assert "--allow-host other.internal" in said
        assert post(http, Host="0.0.0.0:8000").status_code == 421
    assert web.sent() == []


@pytest.mark.enable_socket
@pytest.mark.loopback
async def test_the_sdk_client_works_through_an_allowed_host_name(web: Served) -> None:
    app = http_app(web.server, token=TOKEN, host="0.0.0.0", allow_hosts=["mcp.internal"])  # noqa: S104
    headers = {"Authorization": f"Bearer {TOKEN}", "Host": "mcp.internal"}
    with serve_in_thread(app) as base:
        transport = streamable_http_client(
            f"{base}/mcp", http_client=create_mcp_http_client(headers=headers)
        )
        async with Client(transport) as client:
            machines = await client.call_tool("fly_list_machines", {})
    assert not machines.is_error
    assert ("GET", "/v1/apps/web/machines") in web.sent()


@pytest.mark.enable_socket
@pytest.mark.loopback
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(web: Served, scheme: str) -> None:
    with (
        serve_in_thread(http_app(web.server, token=TOKEN)) as base,
        httpx.Client(base_url=base) as http,
    ):
        assert passed(post(http, Authorization=f"{scheme} {TOKEN}"))
        assert post(http, Authorization=f"{scheme} {TOKEN.upper()}").status_code == 401
        assert post(http, Authorization=f"Basic {TOKEN}").status_code == 401
        assert post(http, Authorization=TOKEN).status_code == 401


@pytest.mark.enable_socket
@pytest.mark.loopback
def test_cors_preflight_is_answered_before_the_token_gate(web: Served) -> None:
    app = http_app(web.server, token=TOKEN, origins=[ORIGIN])
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, mcp-session-id",
    }
    with serve_in_thread(app) as base, httpx.Client(base_url=base) as http:
        allowed = http.options("/mcp", headers=preflight)
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in allowed.headers["access-control-allow-methods"]
        assert "authorization" in allowed.headers["access-control-allow-headers"]
        foreign = http.options("/mcp", headers={**preflight, "Origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert "access-control-allow-origin" not in foreign.headers
        # Only a preflight skips the token: a bare OPTIONS, or a POST, still needs it.
        assert http.options("/mcp", headers={"Origin": ORIGIN}).status_code == 401
        no_token = http.post("/mcp", json=LIST, headers={**ACCEPT, "Origin": ORIGIN})
        assert no_token.status_code == 401
        assert no_token.headers["access-control-allow-origin"] == ORIGIN  # readable in a page
        called = post(http, Origin=ORIGIN)
        assert passed(called)
        assert called.headers["access-control-allow-origin"] == ORIGIN
        assert "mcp-session-id" in called.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-origin" not in post(http).headers  # no Origin, no CORS
    assert web.sent() == []


def test_allowed_hosts_are_names_without_ports() -> None:
    assert allowed_hosts("127.0.0.1") == ["localhost", "127.0.0.1", "[::1]"]
    assert allowed_hosts("0.0.0.0") == ["localhost", "127.0.0.1", "[::1]"]  # noqa: S104
    assert "10.0.0.5" in allowed_hosts("10.0.0.5")
    assert "[fd00::1]" in allowed_hosts("fd00::1")
    assert "box" in allowed_hosts("::", ["Box"])
    with pytest.raises(ValueError, match="--allow-host"):
        allowed_hosts("127.0.0.1", ["http://box/"])
    cases: dict[str, Any] = {"a.b:80": "a.b", "[::1]:9": "[::1]", "A.B": "a.b", "": ""}
    assert {given: host_name(given) for given in cases} == cases


@pytest.mark.slow
@pytest.mark.enable_socket
@pytest.mark.loopback
def test_the_command_serves_a_wildcard_bind_by_the_allowed_name_only() -> None:
    from tests.mcp.test_stopping import TOKEN as SERVED_TOKEN
    from tests.mcp.test_stopping import free_port, running, wait_for, wait_for_port

    port = free_port()
    argv = ["--http", "--host", "0.0.0.0", "--port", str(port), "--allow-host", "mcp.internal"]  # noqa: S104
    with running(*argv) as process, httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        printed = wait_for(process, "stdout", b"Host names answered")
        wait_for_port(port)
        auth = {**ACCEPT, "Authorization": f"Bearer {SERVED_TOKEN}"}
        by_name = http.post("/mcp", json=LIST, headers={**auth, "Host": f"mcp.internal:{port}"})
        refused = http.post("/mcp", json=LIST, headers={**auth, "Host": "vm-7:8000"})
        process.terminate()
        process.wait(timeout=20)
    assert b"localhost, 127.0.0.1, [::1], mcp.internal (add one with --allow-host" in printed
    assert passed(by_name)
    assert refused.status_code == 421
    assert "--allow-host vm-7" in refused.json()["error_description"]
