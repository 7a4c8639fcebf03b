"""The approval middleware: when and how the reviewer is asked, in both pause modes.

See :mod:`fly_tools.agents` for how it fits together; what the answers do is in
:mod:`fly_tools.agents.review`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain.agents.middleware.human_in_the_loop import (
    HITLRequest,
    ToolApprovalRequest,
)
from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import interrupt

from fly_tools.agents.questions import ask_edit
from fly_tools.agents.review import (
    EDITED_KEY,
    FACADE_KEY,
    NOT_RECORDED,
    ReviewDecisions,
    ToolResult,
    check_shown,
    clear_edits,
    decisions_of,
    edit_args,
    last_turn,
    shown_description,
    shown_key,
    shown_of,
    thread_id,
)
from fly_tools.agents.strays import record_missing_tool, refuse_twin, shared_ids
from fly_tools.agents.under_review import Review
from fly_tools.approvals.entries import ApprovalStore
from fly_tools.approvals.ledger import PROCESS_LEDGER
from fly_tools.guards.decisions import MiddlewareApproval
from fly_tools.guards.hitl import interrupt_on
from fly_tools.risk import RiskTier
from fly_tools.toolkit import FlyToolkit
from fly_tools.tools.facade import CALL_TOOL
from fly_tools.tools.runtime import PreparedCall


class FlyToolApprovalRequest(ToolApprovalRequest, total=False):
    """LangChain's approval request, plus the facts read from Fly for the call."""

    facts: dict[str, Any]


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
        ledger: the approval ledger the questions are kept in (default: this process's
            memory). Give workers that resume each other's checkpoints a shared one
            (SQLite, Redis) so a replayed resume finds the question spent.

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
        ledger: ApprovalStore | None = None,
    ) -> None:
        if not isinstance(toolkit.confirm, MiddlewareApproval):
            raise ValueError(
                "approval_middleware needs a toolkit built with confirm=MiddlewareApproval(); "
                f"this one has confirm={toolkit.confirm!r}, so its own approver decides"
            )
        # After an untrusted read any change may need a person: every change tool gets a
        # review entry, and _is_gated asks the toolkit whether this call, in its thread, does.
        asks = toolkit.after_untrusted == "ask"
        threshold = RiskTier.WRITE if asks else toolkit.confirm_at
        gates = interrupt_on(toolkit.get_tools(), threshold, allowed_decisions=allowed_decisions)
        super().__init__(
            interrupt_on=gates,
            description_prefix=description_prefix,
            interrupt_mode=interrupt_mode,  # type: ignore[arg-type]
        )
        self.toolkit = toolkit
        self.reviewer = reviewer or toolkit.confirm.reviewer
        self.ledger: ApprovalStore = ledger if ledger is not None else PROCESS_LEDGER
        # Calls FlyReviewSnapshot prepared a moment ago, for this node's first pass only:
        # a resumed node reads Fly's state again and compares it with what was shown.
        self._fresh: dict[tuple[str | None, str], PreparedCall] = {}
        missing = [n for n in toolkit.tool_names if toolkit.gated(n) and n not in gates]
        if missing:  # cannot happen with interrupt_on above; kept as the invariant
            raise ValueError(f"gated tools without review: {missing}")

    # ------------------------------------------------------------ batched mode

    def after_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Ask about this turn's gated calls; approvals become receipts."""
        turn = last_turn(state) if self.interrupt_mode != "per_call" else None
        if turn is None:
            return clear_edits(state) if self.interrupt_mode != "per_call" else None
        reviews = [Review(call, self._prepared(call)) for call in self.gated_calls(turn)]
        asked, unshown = self._sort(state, reviews)
        if self._twins(turn) and not asked:
            return self._finish(turn, unshown)
        if not asked:
            return self._finish(turn, unshown) if unshown else clear_edits(state)
        decisions = decisions_of(interrupt(self._hitl_request(asked, edited=False)), len(asked))
        edits = {
            r.call["id"]: self._prepare_edit(r, args)
            for r, d in zip(asked, decisions, strict=True)
            if (args := edit_args(r, d)) is not None
        }
        return self._conclude(turn, asked, decisions, edits, unshown)

    async def aafter_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Async twin of :meth:`after_model`: reads state without blocking the loop."""
        turn = last_turn(state) if self.interrupt_mode != "per_call" else None
        if turn is None:
            return clear_edits(state) if self.interrupt_mode != "per_call" else None
        reviews = [Review(call, await self._aprepared(call)) for call in self.gated_calls(turn)]
        asked, unshown = self._sort(state, reviews)
        if self._twins(turn) and not asked:
            return self._finish(turn, unshown)
        if not asked:
            return self._finish(turn, unshown) if unshown else clear_edits(state)
        decisions = decisions_of(interrupt(self._hitl_request(asked, edited=False)), len(asked))
        edits: dict[str | None, PreparedCall] = {}
        for review, decision in zip(asked, decisions, strict=True):
            if (args := edit_args(review, decision)) is not None:
                edits[review.call["id"]] = await self.toolkit.aprepare(
                    review.call["name"], args, context=self.call_context(review.call)
                )
        return self._conclude(turn, asked, decisions, edits, unshown)

    def _sort(self, state: Any, reviews: list[Review]) -> tuple[list[Review], list[Review]]:
        """The calls whose reviewer is asked (their description was recorded before the
        pause), and the gated calls that would run but were never recorded: refused."""
        shown = shown_of(state)
        asked: list[Review] = []
        unshown: list[Review] = []
        for review in reviews:
            if check_shown(review, shown):
                asked.append(review)
            elif shown_description(review.prepared) is not None:
                self._refuse(review, NOT_RECORDED)
                unshown.append(review)
        return asked, unshown

    def keep_fresh(self, call: Mapping[str, Any], prepared: PreparedCall) -> None:
        """Hold a call prepared by :class:`FlyReviewSnapshot` for this node's first pass."""
        self._fresh[(thread_id(), shown_key(call))] = prepared
        while len(self._fresh) > _FRESH_KEPT:
            self._fresh.pop(next(iter(self._fresh)))

    def _prepared(self, call: Mapping[str, Any]) -> PreparedCall:
        kept = self._fresh.pop((thread_id(), shown_key(call)), None)
        return kept or self.toolkit.prepare(
            call["name"], call["args"], context=self.call_context(call)
        )

    async def _aprepared(self, call: Mapping[str, Any]) -> PreparedCall:
        kept = self._fresh.pop((thread_id(), shown_key(call)), None)
        return kept or await self.toolkit.aprepare(
            call["name"], call["args"], context=self.call_context(call)
        )

    def _conclude(
        self,
        turn: AIMessage,
        asked: list[Review],
        decisions: list[Any],
        edits: Mapping[str | None, PreparedCall],
        unshown: list[Review],
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
        return self._finish(turn, [*asked, *unshown])

    def _prepare_edit(self, review: Review, args: dict[str, Any]) -> PreparedCall:
        return self.toolkit.prepare(
            review.call["name"], args, context=self.call_context(review.call)
        )

    def _hitl_request(self, reviews: list[Review], *, edited: bool) -> HITLRequest:
        actions = []
        configs = []
        for review in reviews:
            if edited:
                ask_edit(self.toolkit, self.ledger, review, thread_id())
            description = self._description(review, edited=edited)
            args = review.edited_args if edited else review.call["args"]
            action = {"name": review.call["name"], "args": args, "description": description}
            actions.append({**action, "facts": _facts(review, edited=edited)})
            allowed = ["approve", "reject"] if edited else self._allowed(review.call["name"])
            configs.append({"action_name": review.call["name"], "allowed_decisions": allowed})
        return HITLRequest(action_requests=actions, review_configs=configs)  # type: ignore[typeddict-item]

    def _finish(self, turn: AIMessage, reviews: list[Review]) -> dict[str, Any]:
        self._commit(reviews)  # first: a question found spent turns a grant into a refusal
        edits = {
            r.call["id"]: {"name": r.call["name"], "args": r.edited_args}
            for r in reviews
            if r.edited_args is not None and r.answer is None
        }
        answers = [r.answer for r in reviews if r.answer is not None]
        # Written here, once every question of the node is answered (a node that pauses
        # again runs again from the start).
        twins = self._twins(turn)
        answers += [
            refuse_twin(self.toolkit, c, self.call_context(c))
            for c in map(self._view, turn.tool_calls)
            if c.get("id") in twins
        ]
        return {"messages": [turn, *answers], EDITED_KEY: edits}

    # ------------------------------------------------------------ per-call mode and tools

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolResult]
    ) -> ToolResult:
        """Record calls to tools the agent does not have; ask per call in per-call mode.

        A receipt left unclaimed when the call ends (another middleware stopped it, a
        twin call with the same id) is dropped: it was for that call only.
        """
        try:
            return self._wrap(request, handler)
        finally:
            self.toolkit.runtime.receipts.discard(self.call_context(self._view(request.tool_call)))

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        """Async twin of :meth:`wrap_tool_call`."""
        try:
            return await self._awrap(request, handler)
        finally:
            self.toolkit.runtime.receipts.discard(self.call_context(self._view(request.tool_call)))

    def _wrap(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolResult]
    ) -> ToolResult:
        call = self._view(request.tool_call)
        if (twin := self._twin_of(request, call)) is not None:
            return twin
        record_missing_tool(self.toolkit, request, self.call_context(request.tool_call))
        if self.interrupt_mode != "per_call":
            return super().wrap_tool_call(request, handler)
        if not self._is_gated(call):
            return handler(request)  # the base would ask about every tool it has an entry for
        review = Review(call, self._prepared(call))
        if not check_shown(review, shown_of(request.state)):
            if shown_description(review.prepared) is None:
                return handler(request)  # the tool refuses it and records why
            return self._refuse_unshown(review)
        answer = self._per_call(review, self._prepare_edit)
        return answer if answer is not None else self._run_reviewed(request, review, handler)

    async def _awrap(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        call = self._view(request.tool_call)
        if (twin := self._twin_of(request, call)) is not None:
            return twin
        record_missing_tool(self.toolkit, request, self.call_context(request.tool_call))
        if self.interrupt_mode != "per_call":
            return await super().awrap_tool_call(request, handler)
        if not self._is_gated(call):
            return await handler(request)
        review = Review(call, await self._aprepared(call))
        if not check_shown(review, shown_of(request.state)):
            if shown_description(review.prepared) is None:
                return await handler(request)  # the tool refuses it and records why
            return self._refuse_unshown(review)
        decision = interrupt(self._approval_request(review, edited=False))
        args = edit_args(review, decision)
        edited = (
            await self.toolkit.aprepare(call["name"], args, context=self.call_context(call))
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

    def _refuse_unshown(self, review: Review) -> ToolMessage:
        self._refuse(review, NOT_RECORDED)
        self._commit([review])
        assert review.answer is not None
        return review.answer

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

    def _approval_request(self, review: Review, *, edited: bool) -> FlyToolApprovalRequest:
        if edited:
            ask_edit(self.toolkit, self.ledger, review, thread_id())
        return FlyToolApprovalRequest(
            type="tool_approval",
            tool_call_id=review.call["id"] or "",
            name=review.call["name"],
            args=(review.edited_args or {}) if edited else review.call["args"],
            description=self._description(review, edited=edited),
            # Facts read from Fly, for reviewers that ask a person to type a name back.
            facts=_facts(review, edited=edited),
        )

    @staticmethod
    def _description(review: Review, *, edited: bool) -> str:
        # The first question shows what was recorded before the pause; an edit is
        # described as read when it was made.
        if not edited:
            assert review.shown is not None
            return review.shown
        assert review.edited is not None
        assert review.edited.request is not None
        return (
            "Edited by the reviewer; approve or reject it as edited. "
            + review.edited.request.description
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

    # ------------------------------------------------------------ helpers

    def _twins(self, turn: AIMessage) -> set[Any]:
        """Ids a gated call of ``turn`` shares with another call: all those calls are refused."""
        return shared_ids([self._view(c) for c in turn.tool_calls], self._is_gated)

    def _twin_of(self, request: ToolCallRequest, call: ToolCall) -> ToolMessage | None:
        """In per-call mode, the refusal of a call sharing its id (batched mode refused
        it before the tools ran; one that still arrives here came another way)."""
        if self.interrupt_mode != "per_call":
            return None
        turn = last_turn(request.state) if isinstance(request.state, Mapping) else None
        if turn is None or call.get("id") not in self._twins(turn):
            return None
        return refuse_twin(self.toolkit, call, self.call_context(call))

    def gated_calls(self, turn: AIMessage) -> list[ToolCall]:
        """The turn's gated calls a reviewer is asked about: all but those sharing an id
        (no question is opened for them; they are refused when the node finishes).

        :class:`FlyReviewSnapshot` records the descriptions of these same calls.
        """
        views = [self._view(c) for c in turn.tool_calls]
        twins = shared_ids(views, self._is_gated)
        return [c for c in views if self._is_gated(c) and c.get("id") not in twins]

    def _view(self, call: ToolCall) -> ToolCall:
        """A call by name through the facade, seen as the operation it runs (so it is
        asked about like any other door); any other call as it is."""
        args = call.get("args")
        if call.get("name") != CALL_TOOL or not isinstance(args, Mapping):
            return call
        operation, arguments = args.get("operation"), args.get("arguments", {})
        if not isinstance(operation, str) or not isinstance(arguments, Mapping):
            return call
        view = {**call, "name": operation, "args": dict(arguments), FACADE_KEY: True}
        return cast(ToolCall, view)

    def _is_gated(self, call: Mapping[str, Any]) -> bool:
        name = call.get("name")
        return (
            isinstance(name, str)
            and name in self.interrupt_on
            and name in self.toolkit.tool_names
            and self.toolkit.gated(name, self.call_context(call))
        )


_FRESH_KEPT = 256  # prepared calls held between the two nodes, across all threads


def _facts(review: Review, *, edited: bool) -> dict[str, Any]:
    # Facts read from Fly, for reviewers that let a person type a name back (the console).
    prepared = review.edited if edited else review.prepared
    request = prepared.request if prepared is not None else None
    return dict(request.facts) if request is not None else {}
