"""The middleware's questions in the approval ledger: asked before the pause, spent once at resume.

:class:`~fly_tools.agents.middleware.FlyReviewSnapshot` records each gated call as a
question (who asked, the request digest, the text shown) before the agent pauses, and
keeps its id in the checkpoint next to the description. When the reviewer's answer
arrives the question is looked up by that id, answered and spent in one go; a resume
replayed from the same checkpoint (a second worker, time travel, a retried request)
finds it spent and sends nothing.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from fly_tools.approvals.entries import PENDING_TTL, Approval, ApprovalError, ApprovalStore
from fly_tools.approvals.hook import request_binding
from fly_tools.approvals.ledger import Asker, asker_of, same_asker, spend_answer
from fly_tools.toolkit import FlyToolkit
from fly_tools.tools.runtime import PreparedCall

QUESTION_PREFIX = "question:"
"""Key prefix, in the recorded descriptions, of a call's question id."""
REPLAYED = (
    "this approval was already given and used (or the question expired): a resumed or "
    "replayed review runs a call at most once; ask for approval again"
)


def question_key(shown_key: str) -> str:
    """Where a call's question id is kept next to its recorded description."""
    return QUESTION_PREFIX + shown_key


def caller(toolkit: FlyToolkit, ledger: ApprovalStore) -> Asker:
    """The toolkit as an asker in ``ledger`` (thread and tool call filled in per call)."""
    agent = toolkit._runtime.agent_id
    return asker_of(toolkit.client, ledger.binding_key(), app=toolkit.app, agent=agent)


def ask(
    toolkit: FlyToolkit,
    ledger: ApprovalStore,
    call: Mapping[str, Any],
    prepared: PreparedCall,
    thread: str | None,
) -> str:
    """Record the question a reviewer is about to be shown; its id."""
    request, args = prepared.request, prepared.args
    assert request is not None
    assert args is not None
    endpoint = toolkit.catalogue[call["name"]]
    now = ledger.clock()
    version = request.facts.get("version")
    question = Approval(
        id=secrets.token_hex(8),
        tool=endpoint.name,
        args=json.loads(json.dumps(dict(request.args), default=str)),
        description=request.description,
        target=request.target.to_dict(),
        binding=request_binding(ledger.binding_key(), endpoint, args),
        version=version if isinstance(version, str) else None,
        agent_id=request.agent_id,
        created_at=now,
        expires_at=now + PENDING_TTL,
        asker=caller(toolkit, ledger).at(thread=thread, tool_call=call.get("id")).to_dict(),
    )
    return ledger.add(question).id


def spend(
    toolkit: FlyToolkit,
    ledger: ApprovalStore,
    question_id: str | None,
    granted: tuple[PreparedCall, str, str],
    call: Mapping[str, Any],
    thread: str | None,
) -> str | None:
    """Answer question ``question_id`` with the grant and spend it; why not, or ``None``.

    The answer counts once, for the asker, for the call shown: the same tool call of the
    same toolkit identity in the same thread, and (unless edited) the same request.
    """
    prepared, who, verdict = granted
    if not question_id:
        return "no question was recorded for this call before the pause"
    endpoint = toolkit.catalogue[call["name"]]
    try:
        found = ledger.get(question_id)
        asker = caller(toolkit, ledger).at(thread=thread, tool_call=call.get("id"))
        if found is None:
            return (
                f"question {question_id} is not in this approval ledger (it was asked in "
                "another process: give approval_middleware(..., ledger=...) a shared one)"
            )
        if not same_asker(found.asker, asker, per_call=True):
            return f"question {question_id} was not asked by this agent for this call"
        binding = found.binding
        if verdict == "approved" and prepared.args is not None:
            binding = request_binding(ledger.binding_key(), endpoint, prepared.args)
        ledger.answer(question_id, verdict, who, None)  # type: ignore[arg-type]
        why = spend_answer(ledger, question_id, asker, binding, None, per_call=True)
    except ApprovalError:
        return REPLAYED
    return None if why is None else f"{why}; {REPLAYED}"


def close(ledger: ApprovalStore, question_id: str | None, who: str, reason: str) -> None:
    """Record a rejection or refusal on the question, if it is still open."""
    if not question_id:
        return
    with contextlib.suppress(ApprovalError):  # already answered (a replay): nothing runs
        ledger.answer(question_id, "rejected", who, reason[:500])
