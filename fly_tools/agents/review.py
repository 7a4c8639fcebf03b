"""What a reviewer's answers do: grant a receipt, stop the call with a recorded reason.

Shared by both pause modes of :class:`fly_tools.agents.FlyApprovalMiddleware`. Nothing
here has a side effect until :meth:`ReviewDecisions._commit`, which runs once every
question of a node is answered (a node that pauses again is run again from the start).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.config import get_config
from langgraph.types import Command

from fly_tools.agents import questions
from fly_tools.agents.under_review import Review
from fly_tools.approvals.entries import ApprovalStore
from fly_tools.guards.context import CallContext
from fly_tools.guards.describe import ASK_AGAIN, changed_during_review
from fly_tools.guards.hitl import DECISION_TYPES
from fly_tools.toolkit import FlyToolkit
from fly_tools.tools.facade import FACADE_DOOR
from fly_tools.tools.pipeline import record_review
from fly_tools.tools.runtime import PreparedCall

ToolResult = ToolMessage | Command[Any]
EDITED_KEY = "hitl_edited_tool_calls"  # where HumanInTheLoopMiddleware keeps edits
FACADE_KEY = "fly_tools_facade"  # marks a facade call seen as the operation it runs
SHOWN_KEY = "fly_tools_shown"  # what each gated call's reviewer is shown, written before the pause
_SOURCE = "hitl_interrupt_decision"
_MAX_NAME = 80
_GUARD = "fly-tools"
NOT_RECORDED = (
    "what the reviewer is shown was not recorded before the pause, so no answer can approve "
    "it: build the agent's middleware with fly_tools.agents.approval_middleware(toolkit), "
    "which records it"
)


class ReviewDecisions:
    """The decision half of the approval middleware (mixed into it)."""

    toolkit: FlyToolkit
    reviewer: str
    ledger: ApprovalStore
    interrupt_on: Any  # HumanInTheLoopMiddleware's mapping of tool name to its config

    # ------------------------------------------------------------ decisions

    def _apply(
        self,
        review: Review,
        decision: Any,
        prepare_edit: Callable[[Review, dict[str, Any]], PreparedCall],
    ) -> None:
        call = review.call
        kind = decision.get("type") if isinstance(decision, Mapping) else None
        who = self._who(decision)
        if review.stale is not None and kind in ("approve", "edit"):
            self._refuse(review, review.stale)
        elif kind == "edit" and call.get(FACADE_KEY):
            reason = "a call by name cannot be edited; reject it and let the agent call again"
            self._stop(review, "rejected", who, reason)
        elif kind not in self._allowed(call["name"]):
            self._stop(review, "rejected", who, f"the answer {kind!r} is not an allowed decision")
        elif kind == "approve":
            self._grant(review, review.prepared, who, "approved")
        elif kind == "reject":
            self._stop(review, "rejected", who, str(decision.get("message") or "rejected"))
        elif kind == "respond":
            self._stop(review, "responded", who, str(decision.get("message") or ""))
        else:
            self._edit(review, decision, who, prepare_edit)

    def _edit(
        self,
        review: Review,
        decision: Mapping[str, Any],
        who: str,
        prepare_edit: Callable[[Review, dict[str, Any]], PreparedCall],
    ) -> None:
        action = decision.get("edited_action")
        name = action.get("name") if isinstance(action, Mapping) else None
        args = action.get("args") if isinstance(action, Mapping) else None
        if name != review.call["name"]:
            self._stop(review, "rejected", who, f"an edit cannot change the tool (to {name!r})")
            return
        if not isinstance(args, dict):
            self._stop(review, "rejected", who, "the edit gave no arguments")
            return
        prepared = prepare_edit(review, args)
        if prepared.refusal is not None or prepared.request is None:
            self._stop(review, "rejected", who, f"the edited call cannot run: {prepared.refusal}")
            return
        review.edited, review.edited_args = prepared, args

    def _confirm_edit(self, review: Review, decision: Any) -> None:
        kind = decision.get("type") if isinstance(decision, Mapping) else None
        who = self._who(decision)
        if kind == "approve" and review.edited is not None:
            self._grant(review, review.edited, who, "edited")
        else:
            reason = str(decision.get("message") or "") if kind == "reject" else ""
            self._stop(review, "rejected", who, reason or "the edited call was not approved")

    def _grant(self, review: Review, prepared: PreparedCall, who: str, verdict: str) -> None:
        review.grant = (prepared, who, verdict)

    def _refuse(self, review: Review, reason: str) -> None:
        """Stop the call on the toolkit's own account: no answer could approve it."""
        self._stop(review, "refused", _GUARD, reason)

    def _stop(self, review: Review, verdict: str, who: str, reason: str) -> None:
        call = review.call
        review.stop = (verdict, who, reason)
        if verdict == "responded":
            content, status = reason, "success"
        elif verdict == "refused":
            advice = f" {ASK_AGAIN}" if review.stale is not None else ""
            content = (
                f"Not executed: {call['name']} was refused: {reason}. Nothing was sent to "
                f"Fly.{advice}"
            )
            status = "error"
        else:
            content = (
                f"Not executed: {call['name']} was rejected by {who} ({reason}). Nothing was "
                "sent to Fly. Do not retry unless the user asks."
            )
            status = "error"
        review.answer = ToolMessage(
            content=content,
            name=call["name"],
            tool_call_id=call["id"],
            status=status,
            artifact={"executed": False, "reason": reason, "decision": verdict},
            additional_kwargs={"lc_source": _SOURCE, "lc_data": {"decision": verdict}},
        )

    def _commit(self, reviews: Sequence[Review]) -> None:
        """Spend the questions, issue the receipts and write the records, once every
        answer is in. A question already spent (a replayed resume) sends nothing."""
        runtime = self.toolkit.runtime
        for review in reviews:
            if review.grant is not None:
                why, review.pinned = questions.spend(self.toolkit, self.ledger, review, thread_id())
                if why is not None:
                    review.grant = None
                    self._refuse(review, why)
        for review in reviews:
            call, context = review.call, self.call_context(review.call)
            endpoint = self.toolkit.catalogue[call["name"]]
            if review.stop is not None:
                verdict, who, reason = review.stop
                questions.close(self.ledger, review.question, who, reason)
                runtime.receipts.discard(context)
                record_review(
                    runtime,
                    endpoint,
                    call["args"],
                    verdict=verdict,
                    by=who,
                    reason=reason,
                    context=context,
                    reads=review.prepared.reads,
                )
            elif review.grant is not None:
                prepared, who, verdict = review.grant
                assert prepared.request is not None
                assert prepared.args is not None
                runtime.receipts.issue(
                    endpoint,
                    prepared.args,
                    decided_by=who,
                    verdict=verdict,  # type: ignore[arg-type]
                    context=context,
                    version=review.pinned,  # as shown, not as read again at resume
                    digest=prepared.digest,
                    reads=prepared.reads,
                )

    def _allowed(self, name: str) -> list[str]:
        return list(self.interrupt_on[name]["allowed_decisions"])

    def _who(self, decision: Any) -> str:
        named = decision.get("by") if isinstance(decision, Mapping) else None
        if isinstance(named, str) and named.strip():
            return " ".join(named.split())[:_MAX_NAME]
        return self.reviewer

    def call_context(self, call: Mapping[str, Any]) -> CallContext:
        """Who asks for ``call``: its id, the running thread and the door it came through."""
        door = FACADE_DOOR if call.get(FACADE_KEY) else "langchain"
        return CallContext(tool_call_id=call.get("id"), thread_id=thread_id(), front_door=door)


def edit_args(review: Review, decision: Any) -> dict[str, Any] | None:
    """The edited arguments of an edit decision for the same tool, if that is what it is."""
    if not isinstance(decision, Mapping) or decision.get("type") != "edit":
        return None
    action = decision.get("edited_action")
    if not isinstance(action, Mapping) or action.get("name") != review.call["name"]:
        return None
    args = action.get("args")
    return args if isinstance(args, dict) else None


def thread_id() -> str | None:
    """The running graph's thread id, if any."""
    try:
        configurable = get_config().get("configurable") or {}
    except RuntimeError:
        return None
    thread = configurable.get("thread_id")
    return str(thread) if thread is not None else None


def last_turn(state: Any) -> AIMessage | None:
    messages = state.get("messages") or []
    turn = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    return turn if turn is not None and turn.tool_calls else None


def clear_edits(state: Any) -> dict[str, Any] | None:
    return {EDITED_KEY: {}} if state.get(EDITED_KEY) else None


def decisions_of(answer: Any, expected: int) -> list[Any]:
    decisions = answer.get("decisions") if isinstance(answer, Mapping) else None
    if not isinstance(decisions, list) or len(decisions) != expected:
        got = len(decisions) if isinstance(decisions, list) else "no list"
        raise ValueError(
            f"expected {{'decisions': [...]}} with {expected} decision(s), got {got}; "
            f"each one of {', '.join(DECISION_TYPES)}"
        )
    return decisions


def shown_key(call: Mapping[str, Any]) -> str:
    """The key of a gated call's recorded description: its id, tool and arguments."""
    text = json.dumps(
        [call.get("id"), call.get("name"), call.get("args")], sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def shown_description(prepared: PreparedCall) -> str | None:
    """What the reviewer is shown of a prepared call, or ``None`` if it is not asked."""
    if prepared.refusal is not None or prepared.request is None:
        return None
    return prepared.request.description


def check_shown(review: Review, shown: Mapping[str, Any]) -> bool:
    """Compare the call as Fly's state describes it now with what the reviewer was shown.

    Returns whether the call is one the reviewer is (or was) asked about: it has a
    recorded description. ``review.shown`` is set to it; ``review.stale`` says why no
    approval can stand when the description read now differs, or the call is refused now.
    """
    key = shown_key(review.call)
    recorded = shown.get(key)
    if not isinstance(recorded, str):
        return False
    review.shown = recorded
    question = shown.get(questions.question_key(key))
    review.question = question if isinstance(question, str) else None
    now = shown_description(review.prepared)
    if now != recorded:
        current = now if now is not None else f"it cannot run now ({review.prepared.refusal})"
        review.stale = changed_during_review(recorded, current)
    return True


def shown_of(state: Any) -> Mapping[str, Any]:
    """The recorded descriptions in the agent's state (empty if none were recorded)."""
    shown = state.get(SHOWN_KEY) if isinstance(state, Mapping) else getattr(state, SHOWN_KEY, None)
    return shown if isinstance(shown, Mapping) else {}
