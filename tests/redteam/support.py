"""What every red-team scenario shares: the gated calls, the doors, and the oracle.

The oracle reads only the fake's request log: every request that changes something
must be one a person approved, exactly as approved, at most once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from fly_tools import ENDPOINTS, FlyToolkit, MemorySink, RiskTier
from fly_tools.client.core import build_request
from fly_tools.testing import FakeFly
from tests.tools.world import EXAMPLES

GATED = [
    e.name for e in ENDPOINTS.records if e.risk >= RiskTier.DESTRUCTIVE and "deploy" in e.scopes
]
"""The calls a deploy toolkit bound to app web (with every group) gates by default."""


def bound_args(tool: str, example: dict[str, Any] | None = None) -> dict[str, Any]:
    """The example call for ``tool`` as a model of a toolkit bound to ``web`` sends it."""
    example = EXAMPLES[tool] if example is None else example
    return {k: v for k, v in example.items() if k != "app_name"}


def wire(tool: str, args: dict[str, Any], app: str = "web") -> tuple[str, str]:
    """(method, path) the call sends once approved, as the fake logs it."""
    endpoint = ENDPOINTS[tool]
    full = {"app_name": app, **args} if "app_name" in endpoint.args_model.model_fields else args
    plan = build_request(endpoint, endpoint.args_model.model_validate(full))
    return endpoint.method, f"/v1{plan.path}"


def changes(fake: FakeFly) -> list[tuple[str, str]]:
    """Every request that reached the fake and could change or reveal something: any
    request but those of READ-tier endpoints (a gated GET, such as reading a secret,
    counts; ``/tokens/authorize``, a POST that only asks what the token may do, does not).
    """
    return [(r.method, r.path) for r in fake.requests if not _reads(r.endpoint, r.method)]


def _reads(name: str | None, method: str) -> bool:
    if name is not None and name in ENDPOINTS:
        return ENDPOINTS[name].read_only
    return method == "GET"


def assert_only_approved(fake: FakeFly, approved: list[tuple[str, str]]) -> None:
    """The oracle: no change reached Fly but those approved, each at most once."""
    seen = changes(fake)
    assert sorted(seen) == sorted(approved), f"sent {seen}, approved {approved}"


@dataclass
class World:
    """A fresh demo world with a deploy toolkit bound to web."""

    fake: FakeFly
    toolkit: FlyToolkit
    sink: MemorySink = field(default_factory=MemorySink)

    def records(self) -> list[Any]:
        return list(self.sink.records)


def tool_of(toolkit: FlyToolkit, name: str) -> Any:
    return next(t for t in toolkit.get_tools() if t.name == name)


# ---------------------------------------------------------------- doors


def _tool_call(name: str, args: dict[str, Any], call_id: str = "call-1") -> dict[str, Any]:
    return {"type": "tool_call", "name": name, "args": args, "id": call_id}


def door_invoke(toolkit: FlyToolkit, name: str, args: dict[str, Any]) -> Any:
    return tool_of(toolkit, name).invoke(_tool_call(name, args))


async def door_ainvoke(toolkit: FlyToolkit, name: str, args: dict[str, Any]) -> Any:
    return await tool_of(toolkit, name).ainvoke(_tool_call(name, args))


def _tool_graph(toolkit: FlyToolkit) -> Any:
    """LangGraph's ToolNode in a one-node graph, as agents run it."""
    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode(toolkit.get_tools()))
    graph.add_edge(START, "tools")
    return graph.compile()


def door_toolnode(toolkit: FlyToolkit, name: str, args: dict[str, Any]) -> Any:
    message = AIMessage("", tool_calls=[_tool_call(name, args)])
    return _tool_graph(toolkit).invoke({"messages": [message]})


async def door_atoolnode(toolkit: FlyToolkit, name: str, args: dict[str, Any]) -> Any:
    message = AIMessage("", tool_calls=[_tool_call(name, args)])
    return await _tool_graph(toolkit).ainvoke({"messages": [message]})


def door_call(toolkit: FlyToolkit, name: str, args: dict[str, Any]) -> Any:
    try:
        return toolkit.call(name, args)
    except Exception as err:  # the front door reports failures as exceptions
        return err


async def door_acall(toolkit: FlyToolkit, name: str, args: dict[str, Any]) -> Any:
    try:
        return await toolkit.acall(name, args)
    except Exception as err:
        return err


SYNC_DOORS: dict[str, Callable[..., Any]] = {
    "invoke": door_invoke,
    "toolnode": door_toolnode,
    "toolkit.call": door_call,
}
ASYNC_DOORS: dict[str, Callable[..., Any]] = {
    "ainvoke": door_ainvoke,
    "atoolnode": door_atoolnode,
    "toolkit.acall": door_acall,
}


def tool_messages(result: Any) -> list[ToolMessage]:
    """The ToolMessages a door answered with, whatever its shape."""
    if isinstance(result, ToolMessage):
        return [result]
    if isinstance(result, dict):
        return [m for m in result.get("messages", []) if isinstance(m, ToolMessage)]
    return []
