"""Calls no reviewer is asked about, each refused with a record of its own.

A call to a tool the agent does not have never reaches a tool (ToolNode answers it with
an error), so the middleware records it. And calls of one model turn that share a
tool-call id: an approval, a receipt and the ToolMessage that answers a call are all found by the
call's id, so two calls sharing one cannot be told apart: approving one could let the
other run, and the agent's router skips every call whose id already has an answer.
Every call sharing an id with a gated call is therefore refused before anyone is asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest

from fly_tools.guards.context import CallContext
from fly_tools.toolkit import FlyToolkit
from fly_tools.tools.pipeline import record_review


def shared_ids(calls: Sequence[Mapping[str, Any]], gated: Callable[[Any], bool]) -> set[Any]:
    """The ids used by more than one of ``calls`` where one of those calls is gated."""
    counts = Counter(c.get("id") for c in calls)
    return {c.get("id") for c in calls if counts[c.get("id")] > 1 and gated(c)}


def refuse_twin(toolkit: FlyToolkit, call: ToolCall, context: CallContext) -> ToolMessage:
    """Record ``call`` as refused for sharing its id, and the answer the model is given."""
    name = call.get("name")
    shown = name if isinstance(name, str) else repr(name)
    reason = (
        f"another call of the same turn has the same tool-call id {str(call.get('id'))[:80]!r}, "
        "so an approval could not be told apart; call each tool again with its own id"
    )
    error = toolkit.refuse(shown, call.get("args"), reason, context=context)
    return ToolMessage(
        content=str(error),
        name=shown[:80],
        tool_call_id=str(call.get("id")),
        status="error",
        artifact=dict(error.artifact),
    )


def record_missing_tool(
    toolkit: FlyToolkit, request: ToolCallRequest, context: CallContext
) -> None:
    """Record a call to a tool this agent does not have: one in the catalogue but outside
    the toolkit, or a name no catalogue has (a model's invention; its arguments are kept
    only if they are shaped like arguments). Nothing is sent: ToolNode answers it."""
    name = request.tool_call.get("name")
    if request.tool is not None or (isinstance(name, str) and name in toolkit.tool_names):
        return
    args = request.tool_call.get("args")
    if isinstance(name, str) and name in toolkit.catalogue and isinstance(args, Mapping):
        record_review(
            toolkit.runtime,
            toolkit.catalogue[name],
            args,
            verdict="refused",
            by="guard",
            reason=f"{name} is not part of this agent's toolkit",
            context=context,
        )
        return
    shown = name if isinstance(name, str) else repr(name)
    toolkit.refuse(shown, args, f"this agent has no tool {shown[:80]!r}", context=context)
