"""Who is calling: the agent framework's ids for one tool call, carried into receipts and audit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class CallContext:
    """The ids a front door knows about one call.

    Attributes:
        tool_call_id: the model's tool-call id (LangChain ``ToolCall["id"]``).
        thread_id: the conversation or graph thread (``configurable.thread_id``).
        run_id: the tracing run id of the tool run.
        request_id: the front door's own request id (an MCP request id, a CLI run).
        front_door: which front door made the call (``langchain``, ``mcp``, ``cli`` ...).
    """

    tool_call_id: str | None = None
    thread_id: str | None = None
    run_id: str | None = None
    request_id: str | None = None
    front_door: str | None = None

    def merged(self, other: CallContext | None) -> CallContext:
        """This context with every id ``other`` knows filled in over it."""
        if other is None:
            return self
        updates = {k: v for k, v in other.as_dict().items() if v is not None}
        return replace(self, **updates)

    def as_dict(self) -> dict[str, str | None]:
        """The ids as a JSON-able dict (for audit records)."""
        return {
            "tool_call_id": self.tool_call_id,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "request_id": self.request_id,
            "front_door": self.front_door,
        }


def from_runnable_config(
    config: Any, run_id: Any = None, tool_call_id: str | None = None
) -> CallContext:
    """The ids LangChain and LangGraph put in a ``RunnableConfig``.

    ``configurable.thread_id`` (LangGraph's thread) and the run id of its callback
    manager; the tool-call id is not in the config, so the tool run passes it in.
    """
    configurable = (config or {}).get("configurable") or {} if isinstance(config, dict) else {}
    thread = configurable.get("thread_id")
    return CallContext(
        tool_call_id=tool_call_id,
        thread_id=str(thread) if thread is not None else None,
        run_id=str(run_id) if run_id is not None else None,
        front_door="langchain",
    )
