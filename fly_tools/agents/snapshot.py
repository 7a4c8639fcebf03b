"""The step before the approval middleware: what each reviewer will be shown, recorded first.

:func:`approval_middleware` returns both steps, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NotRequired

from langchain.agents.middleware import AgentMiddleware, AgentState
from langchain.agents.middleware.types import PrivateStateAttr
from langchain_core.messages import ToolCall

from fly_tools.agents.middleware import FlyApprovalMiddleware
from fly_tools.agents.questions import ask, question_key
from fly_tools.agents.review import (
    SHOWN_KEY,
    last_turn,
    shown_description,
    shown_key,
    shown_of,
    thread_id,
)
from fly_tools.approvals.entries import ApprovalStore
from fly_tools.toolkit import FlyToolkit
from fly_tools.tools.runtime import PreparedCall


class FlyShownState(AgentState[Any]):
    """The agent state key where each gated call's recorded description is kept."""

    fly_tools_shown: NotRequired[Annotated[dict[str, str], PrivateStateAttr]]


class FlyReviewSnapshot(AgentMiddleware[Any, Any, Any]):
    """Records, before the pause, what the reviewer of each gated call will be shown.

    It runs as its own node just before :class:`FlyApprovalMiddleware` (after-model
    hooks run in reverse list order, so it comes after it in the list), so the record
    is in the checkpoint when the agent pauses. A resumed review reads Fly's state again:
    an approval stands only if the call reads as it was shown; otherwise the call is
    refused and the model is told to ask again. :func:`approval_middleware` returns both.
    """

    state_schema = FlyShownState

    def __init__(self, approver: FlyApprovalMiddleware) -> None:
        super().__init__()
        self.approver = approver

    def after_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Read and describe this turn's gated calls, and record the descriptions."""
        calls = self._calls(state)
        if calls is None:
            return {SHOWN_KEY: {}} if shown_of(state) else None
        prepared = [
            self.approver.toolkit.prepare(
                c["name"], c["args"], context=self.approver.call_context(c)
            )
            for c in calls
        ]
        return self._record(calls, prepared)

    async def aafter_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Async twin of :meth:`after_model`."""
        calls = self._calls(state)
        if calls is None:
            return {SHOWN_KEY: {}} if shown_of(state) else None
        prepared = [
            await self.approver.toolkit.aprepare(
                c["name"], c["args"], context=self.approver.call_context(c)
            )
            for c in calls
        ]
        return self._record(calls, prepared)

    def _calls(self, state: Any) -> list[ToolCall] | None:
        turn = last_turn(state)
        return None if turn is None else self.approver.gated_calls(turn)

    def _record(self, calls: list[ToolCall], prepared: list[PreparedCall]) -> dict[str, Any]:
        shown: dict[str, str] = {}
        approver, thread = self.approver, thread_id()
        for call, one in zip(calls, prepared, strict=True):
            approver.keep_fresh(call, one)
            description = shown_description(one)
            if description is not None:
                key = shown_key(call)
                shown[key] = description
                shown[question_key(key)] = ask(approver.toolkit, approver.ledger, call, one, thread)
        return {SHOWN_KEY: shown}


def approval_middleware(
    toolkit: FlyToolkit,
    *,
    reviewer: str | None = None,
    allowed_decisions: Sequence[str] = ("approve", "edit", "reject"),
    interrupt_mode: str = "batched",
    description_prefix: str = "Tool execution requires approval",
    ledger: ApprovalStore | None = None,
) -> list[AgentMiddleware[Any, Any, Any]]:
    """The middleware that puts a person in front of a toolkit's gated calls.

    Returns ``[FlyApprovalMiddleware(toolkit, ...), FlyReviewSnapshot(...)]``: a
    ``HumanInTheLoopMiddleware`` that pauses before every tool at or above the toolkit's
    ``confirm_at`` with a plain-English description and turns each approval into the
    receipt the toolkit needs to send the call, and the step before it that records
    the description, so an approval stands only for the call as it was shown. Pass the
    list as it is (or unpacked, in this order). Build the toolkit with
    ``confirm=MiddlewareApproval()``.
    """
    approver = FlyApprovalMiddleware(
        toolkit,
        reviewer=reviewer,
        allowed_decisions=allowed_decisions,
        interrupt_mode=interrupt_mode,
        description_prefix=description_prefix,
        ledger=ledger,
    )
    return [approver, FlyReviewSnapshot(approver)]
