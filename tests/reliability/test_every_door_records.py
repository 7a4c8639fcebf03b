"""One record per attempt on every door, refusals included, each naming its door.

Calls that never reach one of the toolkit's tools (a facade call to an operation outside
the toolkit, a malformed facade call, an MCP call to a tool the server does not serve, a
question answered for a tool that asks none) still leave exactly one record, and send
nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import ToolCall
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent
from mcp_types.jsonrpc import INVALID_PARAMS

from fly_tools import AuditLog, FlyToolkit, MemorySink, approve_all
from fly_tools.mcp import build_server
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1

SECRET = "door-secret-value-77ab21"


def _toolkit(fake: FakeFly, **options: Any) -> tuple[FlyToolkit, MemorySink]:
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.client(scope="readonly"),
        scope="readonly",
        audit=AuditLog(sink),
        confirm=approve_all,
        **options,
    )
    return toolkit, sink


@pytest.mark.parametrize(
    ("tool_input", "tool"),
    [
        (
            {
                "operation": "fly_set_secret",
                "arguments": {"app_name": "web", "secret_name": "K", "value": SECRET},
            },
            "fly_set_secret",
        ),
        ({"operation": "fly_delete_app", "arguments": {"app_name": "web"}}, "fly_delete_app"),
        ({"operation": "fly_no_such_thing", "arguments": {"token": SECRET}}, "fly_no_such_thing"),
        ({"operation": "fly_list_apps", "arguments": "not a mapping"}, "fly_list_apps"),
        ({"arguments": {}}, "fly_call_operation"),
        ({"operation": 42, "arguments": {}}, "fly_call_operation"),
    ],
)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["invoke", "ainvoke"])
async def test_facade_refusals_leave_one_record_each(
    tool_input: dict[str, Any], tool: str, asynchronous: bool
) -> None:
    fake = FakeFly.demo()
    toolkit, sink = _toolkit(fake)
    call_tool = toolkit.facade_tools()[1]
    call = ToolCall(name=call_tool.name, args=tool_input, id="f1", type="tool_call")
    before = len(fake.requests)
    message = await call_tool.ainvoke(call) if asynchronous else call_tool.invoke(call)
    assert message.status == "error" or "Fix these arguments" in str(message.content)
    assert len(fake.requests) == before
    (record,) = sink.records
    assert record.tool == tool
    assert record.decision == "refused"
    assert record.outcome == "not_executed"
    assert record.context.get("tool_call_id") == "f1"
    assert SECRET not in record.to_json()


async def test_an_mcp_call_to_a_tool_not_served_is_recorded() -> None:
    fake = FakeFly.demo()
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.async_client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(sink),
    )
    before = len(fake.requests)
    async with Client(build_server(toolkit)) as client:
        # An unknown tool is a JSON-RPC error (-32602), and still leaves a record.
        for name, args in (
            ("fly_list_apps", {"org_slug": "acme"}),
            ("fly_made_up", {"password": SECRET}),
        ):
            with pytest.raises(MCPError) as refused:
                await client.call_tool(name, args)
            assert refused.value.error.code == INVALID_PARAMS
    assert len(fake.requests) == before
    assert [(r.tool, r.decision, r.context.get("front_door")) for r in sink.records] == [
        ("fly_list_apps", "refused", "mcp"),
        ("fly_made_up", "refused", "mcp"),
    ]
    assert SECRET not in sink.records[1].to_json()


async def test_an_mcp_answer_to_a_tool_that_asks_nothing_is_recorded() -> None:
    fake = FakeFly.demo()
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.async_client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(sink),
    )
    async with Client(build_server(toolkit)) as client:
        result = await client.session.call_tool(
            "fly_restart_machine",
            {"machine_id": WEB_1},
            request_state="forged-state",
            allow_input_required=True,
        )
    assert isinstance(result, CallToolResult)
    assert result.is_error
    assert not any("restart" in r.path for r in fake.requests)
    (record,) = sink.records
    assert (record.tool, record.decision, record.context.get("front_door")) == (
        "fly_restart_machine",
        "refused",
        "mcp",
    )


async def test_deep_arguments_through_mcp_are_refused_with_a_record() -> None:
    fake = FakeFly.demo()
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.async_client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(sink),
    )
    deep: dict[str, Any] = {}
    for _ in range(100):  # past the limit, within what the MCP transport itself carries
        deep = {"a": deep}
    before = len(fake.requests)
    async with Client(build_server(toolkit)) as client:
        listed = await client.call_tool("fly_list_machines", {"extra": deep})
        created = await client.call_tool("fly_create_machine", {"image": "nginx", "metadata": deep})
    assert listed.is_error
    assert created.is_error
    assert isinstance(listed.content[0], TextContent)
    assert "deeper than 32 levels" in listed.content[0].text
    assert len(fake.requests) == before
    assert [(r.tool, r.decision) for r in sink.records] == [
        ("fly_list_machines", "refused"),
        ("fly_create_machine", "refused"),
    ]
