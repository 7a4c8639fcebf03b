"""Calls over MCP run the LangChain tools' pipeline: same requests, same advice, same guards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langchain_core.messages import ToolCall
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import TextContent
from mcp_types.jsonrpc import INVALID_PARAMS

from fly_tools.guards import ActionRequest, Approve, AuditLog, MemorySink
from fly_tools.mcp import build_server
from fly_tools.testing import FakeFly, Fault
from fly_tools.testing.world import VOL_DATA_OLD, WEB_1, WEB_2
from fly_tools.toolkit import FlyToolkit
from fly_tools.untrusted import unfenced
from tests.mcp.conftest import Served, answering, approve, serve
from tests.reliability.strategies import PATH_ALTERING

SECRET = "mcp-leak-check-secret-4d2a77"


class Recorder(httpx.AsyncBaseTransport):
    """Keeps every request's method, URL, headers (but the token) and body bytes."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, list[tuple[str, str]], bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        headers = sorted((k, v) for k, v in request.headers.items() if k != "authorization")
        self.sent.append((request.method, str(request.url), headers, body))
        return await self.inner.handle_async_request(request)


SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("fly_list_machines", {}),
    ("fly_get_machine", {"machine_id": WEB_1}),
    ("fly_stop_machine", {"machine_id": WEB_2, "signal": "SIGTERM", "timeout": "10s"}),
    ("fly_set_secret", {"secret_name": "NEW_KEY", "value": SECRET}),
    ("fly_create_volume", {"name": "scratch", "region": "ord", "size_gb": 1}),
    ("fly_delete_volume", {"volume_id": VOL_DATA_OLD}),
    ("fly_exec_machine", {"machine_id": WEB_1, "command": ["echo", "hi"]}),
]


def recorded_toolkit(**options: Any) -> tuple[FlyToolkit, Recorder]:
    fake = FakeFly.demo()
    recorder = Recorder(fake.transport())
    client = fake.async_client("deploy", "web", transport=recorder)
    return FlyToolkit(client=client, scope="deploy", app="web", **options), recorder


def approve_typing(request: ActionRequest) -> Approve:
    return Approve(by="reviewer")


async def type_back(context: Any, params: Any) -> Any:
    title = params.requested_schema["properties"].get("confirm", {}).get("title", "")
    return await approve(typed=title.removeprefix("Type ").removesuffix(" to confirm"))(
        context, params
    )


async def test_the_same_calls_send_byte_identical_requests() -> None:
    # Over MCP the whole answer reaches the model (structured content), so reading a
    # machine's metadata there puts later changes to the user (tests/untrusted); this
    # test compares the requests themselves, with that escalation off on both sides.
    langchain_kit, over_langchain = recorded_toolkit(confirm=approve_typing, after_untrusted="off")
    tools = {t.name: t for t in langchain_kit.get_tools()}
    for i, (name, args) in enumerate(SCRIPT):
        message = await tools[name].ainvoke(
            ToolCall(name=name, args=args, id=f"c{i}", type="tool_call")
        )
        assert message.status == "success", message.content

    mcp_kit, over_mcp = recorded_toolkit(after_untrusted="off")
    async with Client(build_server(mcp_kit), elicitation_callback=type_back) as client:
        for name, args in SCRIPT:
            result = await client.call_tool(name, args)
            assert not result.is_error, result.content

    def writes(recorder: Recorder) -> list[Any]:
        return [r for r in recorder.sent if r[0] != "GET" and "/tokens/" not in str(r[1])]

    def reads(recorder: Recorder) -> set[Any]:
        # Over MCP a gated call's target is read once per round (the question, the run).
        return {(r[1], tuple(r[2])) for r in recorder.sent if r[0] == "GET"}

    assert writes(over_mcp) == writes(over_langchain)
    assert reads(over_mcp) == reads(over_langchain)
    assert [r[0] for r in writes(over_mcp)] == [
        "POST",
        "POST",
        "POST",
        "DELETE",
        "POST",
    ]


async def test_results_are_text_plus_the_artifact(web: Served) -> None:
    tool = next(t for t in web.toolkit.get_tools() if t.name == "fly_list_machines")
    message = await tool.ainvoke(ToolCall(name=tool.name, args={}, id="x", type="tool_call"))
    async with Client(web.server) as client:
        result = await client.call_tool("fly_list_machines", {})
    assert not result.is_error
    # The same text; over MCP it is fenced, since the structured content beside it
    # carries the machines' metadata and env to the model.
    assert isinstance(result.content[0], TextContent)
    assert unfenced(result.content[0].text) == message.content
    assert result.content[0].text.startswith("The text inside the untrusted-data-")
    assert result.structured_content == {"result": message.artifact}


async def test_failures_are_tool_errors_with_the_same_advice(web: Served) -> None:
    tool = next(t for t in web.toolkit.get_tools() if t.name == "fly_get_machine")
    args = {"machine_id": "nosuchmachine"}
    message = await tool.ainvoke(ToolCall(name=tool.name, args=args, id="x", type="tool_call"))
    async with Client(web.server) as client:
        result = await client.call_tool("fly_get_machine", args)
        invalid = await client.call_tool("fly_get_machine", {"machine_id": 42})
    assert result.is_error
    assert message.status == "error"
    assert isinstance(result.content[0], TextContent)
    assert result.content[0].text == message.content
    assert invalid.is_error
    assert isinstance(invalid.content[0], TextContent)
    assert "machine_id" in invalid.content[0].text
    assert [r.outcome for r in web.records] == ["error", "error", "not_executed"]


HOSTILE: list[tuple[str, dict[str, Any]]] = [
    *[("fly_get_machine", {"machine_id": f"{WEB_1}{piece}x"}) for piece in PATH_ALTERING],
    *[("fly_delete_volume", {"volume_id": f"vol_{piece}"}) for piece in PATH_ALTERING],
    ("fly_list_machines", {"app_name": "worker"}),
    ("fly_delete_app", {"app_name": "worker"}),
    ("fly_delete_machine", {"machine_id": ["3d8d9015b23489"]}),
    ("fly_stop_machine", {"machine_id": WEB_1, "timeout": "forever"}),
    ("fly_set_secret", {"secret_name": "A" * 10_000, "value": SECRET}),
    ("fly_exec_machine", {"machine_id": WEB_1, "command": "rm -rf /"}),
    ("fly_create_volume", {"name": "x", "region": "ord", "size_gb": -1}),
    ("fly_get_machine", {"machine_id": WEB_1, "unexpected": "field"}),
    ("fly_get_machine", {}),
]


@pytest.mark.parametrize(("name", "args"), HOSTILE)
async def test_hostile_arguments_send_nothing(name: str, args: dict[str, Any]) -> None:
    served = serve()
    answer = answering(action="accept", decision="approve", confirm="web")
    async with Client(served.server, elicitation_callback=answer) as client:
        result = await client.call_tool(name, args)
    assert result.is_error, result.content
    assert served.sent() == []
    assert answer.asked == []  # type: ignore[attr-defined]
    assert served.records
    assert served.records[-1].outcome == "not_executed"


async def test_unknown_tools_are_protocol_errors_and_send_nothing(web: Served) -> None:
    async with Client(web.server) as client:
        for name in ("fly_list_apps", "no_such_tool"):  # not in a bound toolkit; not at all
            with pytest.raises(MCPError) as raised:
                await client.call_tool(name, {})
            assert raised.value.code == INVALID_PARAMS  # -32602, as the specification asks
            assert name in raised.value.error.message
    assert web.sent() == []


async def test_no_token_or_secret_value_in_any_response() -> None:
    fake = FakeFly.demo()
    memory = MemorySink()
    toolkit = FlyToolkit(client=fake.async_client("org"), scope="org", audit=AuditLog(memory))
    tokens = set(fake.tokens.values())
    seen: list[str] = []
    calls: list[tuple[str, dict[str, Any]]] = [
        ("fly_set_secret", {"app_name": "web", "secret_name": "K1", "value": SECRET}),
        ("fly_list_secrets", {"app_name": "web"}),
        (
            "fly_create_machine",
            {"app_name": "web", "image": "nginx:1.27", "env": {"TOKEN": SECRET}},
        ),
        ("fly_exec_machine", {"app_name": "web", "machine_id": WEB_1, "command": ["echo", SECRET]}),
        ("fly_set_secret", {"app_name": "web", "secret_name": "K2", "value": SECRET}),
        ("fly_get_app", {"app_name": "nosuch"}),
    ]
    async with Client(build_server(toolkit), elicitation_callback=type_back) as client:
        seen.append((await client.list_tools()).model_dump_json())
        for i, (name, args) in enumerate(calls):
            if i == 4:
                fake.inject(Fault.status(500), count=4, match="fly_set_secret")
            seen.append((await client.call_tool(name, args)).model_dump_json())
    assert len(seen) == len(calls) + 1
    leaks = [text for text in seen for value in {SECRET, *tokens} if value in text]
    assert leaks == []
    assert '"isError":true' in seen[-1] or '"is_error":true' in seen[-1]
