"""The server over real transports, with the SDK's own client: stdio subprocess and HTTP on loopback."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS

from fly_tools.catalogue import ENDPOINTS
from fly_tools.mcp.http import http_app
from fly_tools.risk import RiskTier
from fly_tools.testing.server import base_url, bind
from fly_tools.testing.world import VOL_DATA_OLD, WEB_1
from fly_tools.untrusted import unfenced
from tests.mcp.conftest import Served, answering, approve

TOKEN = "mcp-endpoint-token-for-tests-0123456789"
COMMAND = [sys.executable, "-m", "fly_tools.mcp", "--scope", "deploy", "--app", "web"]
# What a deploy toolkit offers when it names no groups: the default tools a deploy token may call.
DEPLOY = {e.name for e in ENDPOINTS.records if e.default and "deploy" in e.scopes}
# What a client without forms is shown of them: none it could never get approved.
UNGATED = {n for n in DEPLOY if ENDPOINTS[n].risk < RiskTier.DESTRUCTIVE}


async def tour(client: Client) -> dict[str, Any]:
    """List, read machines, and try to delete a volume: what a stock client sees."""
    tools = (await client.list_tools()).tools
    machines = await client.call_tool("fly_list_machines", {})
    delete = await client.call_tool("fly_delete_volume", {"volume_id": VOL_DATA_OLD})
    after = await client.call_tool("fly_list_volumes", {})
    try:
        await client.call_tool("no_such_tool", {})
        unknown: int | None = None
    except MCPError as exc:
        unknown = exc.code
    capabilities = client.server_capabilities
    return {
        "tools": tools,
        "machines": machines,
        "delete": delete,
        "after": after,
        "unknown": unknown,
        "advertised": capabilities.model_dump(exclude_none=True),
    }


def conforms(seen: dict[str, Any]) -> None:
    """An unknown tool is JSON-RPC -32602; only the tools capability is advertised."""
    assert seen["unknown"] == INVALID_PARAMS
    assert "tools" in seen["advertised"]
    assert "prompts" not in seen["advertised"]
    assert "resources" not in seen["advertised"]


@pytest.mark.slow
async def test_stdio_offline_hides_what_it_cannot_ask_about_and_cannot_delete_unasked() -> None:
    server = StdioServerParameters(command=COMMAND[0], args=COMMAND[1:], env={"PATH": ""})
    async with Client(server) as client:  # a stock client: no form support
        seen = await tour(client)
    names = {t.name for t in seen["tools"]}
    assert names == UNGATED  # the destructive tools are not shown to it
    assert "fly_delete_volume" not in names
    conforms(seen)
    assert not seen["machines"].is_error
    assert unfenced(seen["machines"].content[0].text).startswith("3 machines")
    assert seen["delete"].is_error
    assert "form input" in seen["delete"].content[0].text
    assert seen["after"].content[0].text.startswith("2 volumes.")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "deleted"), [(answering(action="decline"), False), (approve(VOL_DATA_OLD), True)]
)
async def test_stdio_deletes_only_on_a_human_answer(answer: Any, deleted: bool) -> None:
    server = StdioServerParameters(command=COMMAND[0], args=COMMAND[1:], env={"PATH": ""})
    async with Client(server, elicitation_callback=answer) as client:
        seen = await tour(client)
    assert seen["delete"].is_error is not deleted
    assert seen["after"].content[0].text.startswith("1 volume." if deleted else "2 volumes.")


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """uvicorn on a loopback port in a thread, lifespan on (the MCP app needs it)."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def http_client(url: str, **headers: str) -> Client:
    auth = {"Authorization": f"Bearer {TOKEN}"} | headers
    return Client(streamable_http_client(url, http_client=create_mcp_http_client(headers=auth)))


@pytest.mark.enable_socket
@pytest.mark.loopback
async def test_http_on_loopback_with_the_bearer_token(web: Served) -> None:
    with serve_in_thread(http_app(web.server, token=TOKEN)) as base:
        async with http_client(f"{base}/mcp") as client:
            seen = await tour(client)
    assert {t.name for t in seen["tools"]} == UNGATED
    conforms(seen)
    assert not seen["machines"].is_error
    assert seen["delete"].is_error
    assert ("DELETE", f"/v1/apps/web/volumes/{VOL_DATA_OLD}") not in web.sent()
    assert ("GET", "/v1/apps/web/machines") in web.sent()


@pytest.mark.enable_socket
@pytest.mark.loopback
def test_http_refuses_missing_tokens_foreign_origins_and_hosts(web: Served) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with (
        serve_in_thread(http_app(web.server, token=TOKEN)) as base,
        httpx.Client(base_url=base) as http,
    ):
        good = {"Authorization": f"Bearer {TOKEN}", **accept}
        assert http.post("/mcp", json=body, headers=accept).status_code == 401
        assert (
            http.post(
                "/mcp", json=body, headers={**accept, "Authorization": "Bearer wrong"}
            ).status_code
            == 401
        )
        assert (
            http.post(
                "/mcp", json=body, headers={**good, "Origin": "https://evil.example"}
            ).status_code
            == 403
        )
        assert (
            http.post("/mcp", json=body, headers={**good, "Host": "evil.example"}).status_code
            == 421
        )
        past_the_gates = http.post("/mcp", json=body, headers=good)  # MCP itself answers
        assert past_the_gates.status_code not in (401, 403, 421), past_the_gates.text
        assert "jsonrpc" in past_the_gates.text
    assert web.sent() == []


def test_http_app_refuses_a_short_token(web: Served) -> None:
    with pytest.raises(ValueError, match="at least 16"):
        http_app(web.server, token="short")


async def test_in_memory_client_reads_machines(web: Served) -> None:
    async with Client(web.server) as client:
        result = await client.call_tool("fly_get_machine", {"machine_id": WEB_1})
    assert not result.is_error
    assert result.structured_content["id"] == WEB_1
    assert web.sent() == [("GET", f"/v1/apps/web/machines/{WEB_1}")]
