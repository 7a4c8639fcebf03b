"""The approval middleware: when and how the reviewer is asked, in both pause modes.

See :mod:`fly_tools.agents` for how it fits together; what the answers do is in
:mod:`fly_tools.agents.review`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain.agents.middleware.human_in_the_loop import (
    HITLRequest,
    ToolApprovalRequest,
)
from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import interrupt

from fly_tools.agents.review import (
    EDITED_KEY,
    Review,
    ReviewDecisions,
    ToolResult,
    clear_edits,
    decisions_of,
    edit_args,
    last_turn,
)
from fly_tools.guards.decisions import MiddlewareApproval
from fly_tools.guards.hitl import interrupt_on
from fly_tools.toolkit import FlyToolkit
from fly_tools.tools.pipeline import record_review
from fly_tools.tools.runtime import PreparedCall


class FlyApprovalMiddleware(ReviewDecisions, HumanInTheLoopMiddleware):
    """``HumanInTheLoopMiddleware`` for one toolkit whose approvals become receipts.

    Args:
        toolkit: a toolkit built with ``confirm=MiddlewareApproval()``.
        reviewer: who decides, as records name them when a decision does not say
            (a decision may carry ``"by": "alice"``).
        allowed_decisions: what the reviewer may answer (``approve``, ``edit``,
            ``reject``, ``respond``).
        interrupt_mode: ``"batched"`` (one pause per model turn) or ``"per_call"``.
        description_prefix: passed to ``HumanInTheLoopMiddleware``.

    Raises:
        ValueError: the toolkit does not use middleware approval, or an unknown decision.
    """

    def __init__(
        self,
        toolkit: FlyToolkit,
        *,
        reviewer: str | None = None,
        allowed_decisions: Sequence[str] = ("approve", "edit", "reject"),
        interrupt_mode: str = "batched",
        description_prefix: str = "Tool execution requires approval",
    ) -> None:
        if not isinstance(toolkit.confirm, MiddlewareApproval):
            raise ValueError(
                "approval_middleware needs a toolkit built with confirm=MiddlewareApproval(); "
                f"this one has confirm={toolkit.confirm!r}, so its own approver decides"
            )
        gates = interrupt_on(
            toolkit.get_tools(), toolkit.confirm_at, allowed_decisions=allowed_decisions
        )
        super().__init__(
            interrupt_on=gates,
            description_prefix=description_prefix,
            interrupt_mode=interrupt_mode,  # type: ignore[arg-type]
        )
        self.toolkit = toolkit
        self.reviewer = reviewer or toolkit.confirm.reviewer
        missing = [n for n in toolkit.tool_names if toolkit.gated(n) and n not in gates]
        if missing:  # cannot happen with interrupt_on above; kept as the invariant
            raise ValueError(f"gated tools without review: {missing}")

    # ------------------------------------------------------------ batched mode

    def after_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Ask about this turn's gated calls; approvals become receipts."""
        turn = last_turn(state) if self.interrupt_mode != "per_call" else None
        if turn is None:
            return clear_edits(state) if self.interrupt_mode != "per_call" else None
        reviews = [
            Review(call, self.toolkit.prepare(call["name"], call["args"], context=self._ctx(call)))
            for call in self._gated(turn)
        ]
        asked = [r for r in reviews if r.prepared.refusal is None]
        if not asked:
            return clear_edits(state)
        decisions = decisions_of(interrupt(self._hitl_request(asked, edited=False)), len(asked))
        edits = {
            r.call["id"]: self._prepare_edit(r, args)
            for r, d in zip(asked, decisions, strict=True)
            if (args := edit_args(r, d)) is not None
        }
        return self._conclude(turn, asked, decisions, edits)

    async def aafter_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Async twin of :meth:`after_model`: reads state without blocking the loop."""
        turn = last_turn(state) if self.interrupt_mode != "per_call" else None
        if turn is None:
            return clear_edits(state) if self.interrupt_mode != "per_call" else None
        reviews = []
        for call in self._gated(turn):
            prepared = await self.toolkit.aprepare(
                call["name"], call["args"], context=self._ctx(call)
            )
            reviews.append(Review(call, prepared))
        asked = [r for r in reviews if r.prepared.refusal is None]
        if not asked:
            return clear_edits(state)
        decisions = decisions_of(interrupt(self._hitl_request(asked, edited=False)), len(asked))
        edits: dict[str | None, PreparedCall] = {}
        for review, decision in zip(asked, decisions, strict=True):
            if (args := edit_args(review, decision)) is not None:
                edits[review.call["id"]] = await self.toolkit.aprepare(
                    review.call["name"], args, context=self._ctx(review.call)
                )
        return self._conclude(turn, asked, decisions, edits)

    def _conclude(
        self,
        turn: AIMessage,
        asked: list[Review],
        decisions: list[Any],
        edits: Mapping[str | None, PreparedCall],
    ) -> dict[str, Any]:
        for review, decision in zip(asked, decisions, strict=True):
            self._apply(review, decision, lambda r, _args: edits[r.call["id"]])
        again = [r for r in asked if r.edited is not None and r.answer is None]
        if again:
            confirmations = decisions_of(
                interrupt(self._hitl_request(again, edited=True)), len(again)
            )
            for review, decision in zip(again, confirmations, strict=True):
                self._confirm_edit(review, decision)
        return self._finish(turn, asked)

    def _prepare_edit(self, review: Review, args: dict[str, Any]) -> PreparedCall:
        return self.toolkit.prepare(review.call["name"], args, context=self._ctx(review.call))

    def _hitl_request(self, reviews: list[Review], *, edited: bool) -> HITLRequest:
        actions = []
        configs = []
        for review in reviews:
            prepared = review.edited if edited else review.prepared
            assert prepared is not None
            assert prepared.request is not None
            description = prepared.request.description
            if edited:
                description = (
                    f"Edited by the reviewer; approve or reject it as edited. {description}"
                )
            args = review.edited_args if edited else review.call["args"]
            actions.append({"name": review.call["name"], "args": args, "description": description})
            allowed = ["approve", "reject"] if edited else self._allowed(review.call["name"])
            configs.append({"action_name": review.call["name"], "allowed_decisions": allowed})
        return HITLRequest(action_requests=actions, review_configs=configs)  # type: ignore[typeddict-item]

    def _finish(self, turn: AIMessage, reviews: list[Review]) -> dict[str, Any]:
        edits = {
            r.call["id"]: {"name": r.call["name"], "args": r.edited_args}
            for r in reviews
            if r.edited_args is not None and r.answer is None
        }
        answers = [r.answer for r in reviews if r.answer is not None]
        self._commit(reviews)
        return {"messages": [turn, *answers], EDITED_KEY: edits}

    # ------------------------------------------------------------ per-call mode and tools

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolResult]
    ) -> ToolResult:
        """Record calls to tools the agent does not have; ask per call in per-call mode."""
        self._record_unknown(request)
        if self.interrupt_mode != "per_call" or not self._is_gated(request.tool_call):
            return super().wrap_tool_call(request, handler)
        call = request.tool_call
        review = Review(
            call, self.toolkit.prepare(call["name"], call["args"], context=self._ctx(call))
        )
        if review.prepared.refusal is not None or review.prepared.request is None:
            return handler(request)  # the tool refuses it and records why
        answer = self._per_call(review, self._prepare_edit)
        return answer if answer is not None else self._run_reviewed(request, review, handler)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        """Async twin of :meth:`wrap_tool_call`."""
        self._record_unknown(request)
        if self.interrupt_mode != "per_call" or not self._is_gated(request.tool_call):
            return await super().awrap_tool_call(request, handler)
        call = request.tool_call
        prepared = await self.toolkit.aprepare(call["name"], call["args"], context=self._ctx(call))
        review = Review(call, prepared)
        if review.prepared.refusal is not None or review.prepared.request is None:
            return await handler(request)  # the tool refuses it and records why
        decision = interrupt(self._approval_request(review, edited=False))
        args = edit_args(review, decision)
        edited = (
            await self.toolkit.aprepare(call["name"], args, context=self._ctx(call))
            if args is not None
            else None
        )
        self._apply(review, decision, lambda _r, _a: edited)  # type: ignore[arg-type,return-value]
        if review.edited is not None and review.answer is None:
            self._confirm_edit(review, interrupt(self._approval_request(review, edited=True)))
        self._commit([review])
        if review.answer is not None:
            return review.answer
        to_run, executed = self._reviewed_request(request, review)
        return self._annotate_edited_result(await handler(to_run), to_run, executed)

    def _per_call(
        self,
        review: Review,
        prepare_edit: Callable[[Review, dict[str, Any]], PreparedCall],
    ) -> ToolMessage | None:
        decision = interrupt(self._approval_request(review, edited=False))
        self._apply(review, decision, prepare_edit)
        if review.edited is not None and review.answer is None:
            self._confirm_edit(review, interrupt(self._approval_request(review, edited=True)))
        self._commit([review])
        return review.answer

    def _approval_request(self, review: Review, *, edited: bool) -> ToolApprovalRequest:
        prepared = review.edited if edited else review.prepared
        assert prepared is not None
        assert prepared.request is not None
        prefix = "Edited by the reviewer; approve or reject it as edited. " if edited else ""
        return ToolApprovalRequest(
            type="tool_approval",
            tool_call_id=review.call["id"] or "",
            name=review.call["name"],
            args=(review.edited_args or {}) if edited else review.call["args"],
            description=prefix + prepared.request.description,
        )

    def _run_reviewed(
        self,
        request: ToolCallRequest,
        review: Review,
        handler: Callable[[ToolCallRequest], ToolResult],
    ) -> ToolResult:
        to_run, executed = self._reviewed_request(request, review)
        return self._annotate_edited_result(handler(to_run), to_run, executed)

    def _reviewed_request(
        self, request: ToolCallRequest, review: Review
    ) -> tuple[ToolCallRequest, Any]:
        if review.edited_args is None:
            return request, None
        executed = {"name": review.call["name"], "args": review.edited_args}
        return request.override(
            tool_call={**request.tool_call, "args": review.edited_args}
        ), executed

    def _record_unknown(self, request: ToolCallRequest) -> None:
        name = request.tool_call.get("name")
        catalogue = self.toolkit.catalogue
        known = isinstance(name, str) and name in catalogue
        if request.tool is None and known and name not in self.toolkit.tool_names:
            record_review(
                self.toolkit._runtime,
                catalogue[name],
                request.tool_call.get("args") or {},
                verdict="refused",
                by="guard",
                reason=f"{name} is not part of this agent's toolkit",
                context=self._ctx(request.tool_call),
            )

    # ------------------------------------------------------------ helpers

    def _gated(self, turn: AIMessage) -> list[ToolCall]:
        return [c for c in turn.tool_calls if self._is_gated(c)]

    def _is_gated(self, call: Mapping[str, Any]) -> bool:
        name = call.get("name")
        return (
            isinstance(name, str) and name in self.interrupt_on and name in self.toolkit.tool_names
        )


def approval_middleware(
    toolkit: FlyToolkit,
    *,
    reviewer: str | None = None,
    allowed_decisions: Sequence[str] = ("approve", "edit", "reject"),
    interrupt_mode: str = "batched",
    description_prefix: str = "Tool execution requires approval",
) -> list[FlyApprovalMiddleware]:
    """The middleware that puts a person in front of a toolkit's gated calls.

    Returns ``[FlyApprovalMiddleware(toolkit, ...)]``, a ``HumanInTheLoopMiddleware``
    that pauses before every tool at or above the toolkit's ``confirm_at`` with a
    plain-English description, and turns each approval into the receipt the toolkit
    needs to send the call. Build the toolkit with ``confirm=MiddlewareApproval()``.
    """
    return [
        FlyApprovalMiddleware(
            toolkit,
            reviewer=reviewer,
            allowed_decisions=allowed_decisions,
            interrupt_mode=interrupt_mode,
            description_prefix=description_prefix,
        )
    ]
