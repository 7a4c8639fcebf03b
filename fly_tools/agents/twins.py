"""Calls of one model turn that share a tool-call id: refused, each with its own record.

An approval, a receipt and the ToolMessage that answers a call are all found by the
call's id, so two calls sharing one cannot be told apart: approving one could let the
other run, and the agent's router skips every call whose id already has an answer.
Every call sharing an id with a gated call is therefore refused before anyone is asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage

from fly_tools.guards.context import CallContext
from fly_tools.toolkit import FlyToolkit


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
