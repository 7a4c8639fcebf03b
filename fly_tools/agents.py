"""LangChain v1 agent wiring: human approval in the agent's middleware, recorded in the toolkit's audit.

Needs the ``agents`` extra (``langchain``, ``langgraph``)::

    toolkit = FlyToolkit(client=client, scope="deploy", app="web", confirm="upstream")
    agent = create_agent(model, toolkit.get_tools(), middleware=approval_middleware(toolkit),
                         checkpointer=InMemorySaver())
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import AuditRecord, interrupt_on
from fly_tools.guards.upstream import UPSTREAM_DECISION
from fly_tools.risk import RiskTier
from fly_tools.toolkit import FlyToolkit

_HITL_SOURCE = "hitl_interrupt_decision"
_EDITED_KEY = "hitl_edited_tool_calls"  # where HumanInTheLoopMiddleware keeps edited calls

ToolResult = ToolMessage | Command[Any]


class FlyAuditMiddleware(AgentMiddleware):
    """Writes what ``HumanInTheLoopMiddleware`` decided about a toolkit's calls to its audit log.

    A call the reviewer rejects never reaches the toolkit; this middleware records it.
    A call the reviewer approved or edited is recorded by the toolkit as such, with the
    reviewer named. Place it before ``HumanInTheLoopMiddleware`` (see
    :func:`approval_middleware`).

    Args:
        toolkit: the toolkit whose audit log receives the records.
        reviewer: who decides in the middleware, as audit records name them.
    """

    def __init__(self, toolkit: FlyToolkit, *, reviewer: str = "human reviewer") -> None:
        super().__init__()
        self.toolkit = toolkit
        self.reviewer = reviewer
        self._recorded: set[str] = set()
        self._gated = {e.name for e in ENDPOINTS.records if e.risk >= toolkit.confirm_at} & set(
            toolkit.tool_names
        )

    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Record rejections made since the model last ran (batched reviews)."""
        self.record_rejections(state["messages"])
        return None

    async def abefore_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Async twin of :meth:`before_model`."""
        return self.before_model(state, runtime)

    def after_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Record rejections made at the end of the run."""
        self.record_rejections(state["messages"])
        return None

    async def aafter_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Async twin of :meth:`after_agent`."""
        return self.after_agent(state, runtime)

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolResult]
    ) -> ToolResult:
        """Tell the toolkit how the reviewer decided while the call runs."""
        token = UPSTREAM_DECISION.set(self._verdict(request))
        try:
            result = handler(request)
        finally:
            UPSTREAM_DECISION.reset(token)
        self._record_if_rejected(request, result)
        return result

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        """Async twin of :meth:`wrap_tool_call`."""
        token = UPSTREAM_DECISION.set(self._verdict(request))
        try:
            result = await handler(request)
        finally:
            UPSTREAM_DECISION.reset(token)
        self._record_if_rejected(request, result)
        return result

    def record_rejections(self, messages: Sequence[BaseMessage]) -> None:
        """Record every reviewer rejection of this toolkit's calls not yet recorded."""
        calls = {
            call["id"]: call
            for m in messages
            if isinstance(m, AIMessage)
            for call in m.tool_calls
            if call.get("id")
        }
        for message in messages:
            if isinstance(message, ToolMessage) and _is_rejection(message):
                call = calls.get(message.tool_call_id)
                if call is not None:
                    self._record(message, call["name"], call.get("args") or {})

    def _verdict(self, request: ToolCallRequest) -> tuple[Any, str] | None:
        if request.tool_call["name"] not in self._gated:
            return None
        edited = (request.state or {}).get(_EDITED_KEY) or {}
        return ("edited" if request.tool_call.get("id") in edited else "approved"), self.reviewer

    def _record_if_rejected(self, request: ToolCallRequest, result: ToolResult) -> None:
        if isinstance(result, ToolMessage) and _is_rejection(result):
            self._record(result, request.tool_call["name"], request.tool_call.get("args") or {})

    def _record(self, message: ToolMessage, tool: str, args: Mapping[str, Any]) -> None:
        if message.tool_call_id in self._recorded or tool not in self.toolkit.tool_names:
            return
        self._recorded.add(message.tool_call_id)
        endpoint = ENDPOINTS[tool]
        full = dict(args)
        if self.toolkit.app is not None and "app_name" in endpoint.args_model.model_fields:
            full["app_name"] = self.toolkit.app
        self.toolkit.audit_log.record(
            AuditRecord.build(
                agent_id=self.toolkit.agent_id,
                endpoint=endpoint,
                args=full,
                decision="rejected",
                decided_by=self.reviewer,
                outcome="not_executed",
                error=str(message.content),
            )
        )


def _is_rejection(message: ToolMessage) -> bool:
    extra = message.additional_kwargs
    data = extra.get("lc_data") or {}
    return extra.get("lc_source") == _HITL_SOURCE and data.get("decision") == "reject"


def approval_middleware(
    toolkit: FlyToolkit,
    *,
    threshold: RiskTier | str | None = None,
    reviewer: str = "human reviewer",
    allowed_decisions: Sequence[str] = ("approve", "edit", "reject"),
) -> list[AgentMiddleware]:
    """The middleware pair that puts a human in front of a toolkit's gated calls.

    Returns ``[FlyAuditMiddleware, HumanInTheLoopMiddleware]``: the second pauses the
    agent before every tool at or above ``threshold`` (default: the toolkit's
    ``confirm_at``) with a plain-English description; the first records the outcome of
    each review in the toolkit's audit log. Build the toolkit with ``confirm="upstream"``.
    """
    gate = toolkit.confirm_at if threshold is None else RiskTier.parse(threshold)
    hitl = HumanInTheLoopMiddleware(
        interrupt_on=interrupt_on(
            toolkit.get_tools(), threshold=gate, allowed_decisions=allowed_decisions
        )
    )
    return [FlyAuditMiddleware(toolkit, reviewer=reviewer), hitl]
