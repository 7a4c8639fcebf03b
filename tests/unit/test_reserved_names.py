"""No tool field has a name LangChain or LangGraph keeps for itself: every argument reaches the tool.

LangChain's ``invoke`` takes ``config`` (and more) as its own keywords, and ``ToolNode``
injects a parameter called ``runtime``: a tool field with such a name is silently dropped
on the way to the tool. The reserved names are read from langchain_core where it exposes
them, and every real field name is also pushed through LangChain's and LangGraph's own
call paths on a probe tool, so a name they start to reserve is caught here.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, get_type_hints

import pytest
from langchain_core.messages import AIMessage, ToolCall
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.tools import base as tool_base
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from pydantic import create_model

from fly_tools.catalogue import ENDPOINTS

NAMED_IN_THE_ISSUE = frozenset(
    {"config", "callbacks", "run_manager", "tags", "metadata", "run_name", "run_id", "tool_call_id"}
)
INJECTED_BY_LANGGRAPH = frozenset({"runtime"})
"""``ToolNode`` fills a parameter named ``runtime`` whatever its annotation."""


def langchain_reserved() -> frozenset[str]:
    """Every name LangChain's tool machinery uses for itself, read from langchain_core."""
    names = set(NAMED_IN_THE_ISSUE | INJECTED_BY_LANGGRAPH)
    # What invoke()/ainvoke() hand to run() beside the tool's input.
    names |= set(tool_base._prep_run_args({}, None)[1])
    # Names BaseTool strips from the input before calling the tool function.
    names |= set(tool_base.FILTERED_ARGS)
    for method in (
        BaseTool.run,
        BaseTool.arun,
        BaseTool.invoke,
        BaseTool.ainvoke,
        StructuredTool._run,
        StructuredTool._arun,
    ):
        names |= set(inspect.signature(method).parameters) - {"self"}
    names |= set(get_type_hints(RunnableConfig))
    return frozenset(names)


RESERVED = langchain_reserved()
TOOL_FIELDS = sorted(
    {(name, field) for name, e in ENDPOINTS.items() for field in e.args_model.model_fields}
)
FIELD_NAMES = sorted({field for _, field in TOOL_FIELDS})


def _probe_tool(field: str, received: dict[str, Any]) -> StructuredTool:
    def run(**kwargs: Any) -> str:
        received.update(kwargs)
        return "ok"

    async def arun(**kwargs: Any) -> str:
        return run(**kwargs)

    fields: dict[str, Any] = {field: (Any, None)}
    schema = create_model("Probe", **fields)
    return StructuredTool(
        name="probe", description="probe", args_schema=schema, func=run, coroutine=arun
    )


def arrives(field: str, path: str) -> bool:
    """Whether a value given for ``field`` in a tool call reaches the tool function via ``path``."""
    received: dict[str, Any] = {}
    tool = _probe_tool(field, received)
    call = ToolCall(name="probe", args={field: "sent"}, id="call-1", type="tool_call")
    if path == "invoke":
        tool.invoke(call)
    elif path == "ainvoke":
        asyncio.run(tool.ainvoke(call))
    else:
        graph = StateGraph(MessagesState)
        graph.add_node("tools", ToolNode([tool]))
        graph.add_edge(START, "tools")
        graph.compile().invoke({"messages": [AIMessage("", tool_calls=[call])]})
    return received.get(field) == "sent"


def test_the_reserved_set_read_from_langchain_covers_what_it_strips() -> None:
    assert tool_base.FILTERED_ARGS  # the constant still exists, so it was read
    assert set(tool_base._prep_run_args({}, None)[1]) >= {"config", "callbacks", "tool_call_id"}
    assert {"run_manager", "config", "configurable", "recursion_limit"} <= RESERVED


@pytest.mark.parametrize(
    ("field", "path"),
    [("config", "invoke"), ("config", "ainvoke"), ("config", "graph"), ("runtime", "graph")],
)
def test_the_probe_sees_a_reserved_name_dropped(field: str, path: str) -> None:
    # The probe can fail: these names are taken by LangChain or LangGraph today.
    assert not arrives(field, path)


@pytest.mark.parametrize(("tool", "field"), TOOL_FIELDS, ids=[f"{t}.{f}" for t, f in TOOL_FIELDS])
def test_no_tool_field_uses_a_reserved_name(tool: str, field: str) -> None:
    assert field not in RESERVED, f"{tool}.{field} would never reach the tool through LangChain"


@pytest.mark.parametrize("path", ["invoke", "ainvoke", "graph"])
def test_every_tool_field_name_arrives_through_langchain_and_langgraph(path: str) -> None:
    dropped = [field for field in FIELD_NAMES if not arrives(field, path)]
    assert dropped == []
