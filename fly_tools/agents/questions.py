"""The middleware's questions in the approval ledger: asked before the pause, spent once at resume.

:class:`~fly_tools.agents.snapshot.FlyReviewSnapshot` records each gated call as a
question (who asked, the request digest, the text shown) before the agent pauses, and
keeps its id in the checkpoint next to the description. When the reviewer's answer
arrives the question is looked up by that id, answered and spent in one go; a resume
replayed from the same checkpoint (a second worker, time travel, a retried request)
finds it spent and sends nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from fly_tools.agents.under_review import Review
from fly_tools.approvals.entries import PENDING_TTL, Approval, ApprovalError, ApprovalStore
from fly_tools.approvals.hook import request_binding
from fly_tools.approvals.ledger import Asker, asker_of, same_asker, spend_answer
from fly_tools.guards.describe import changed_during_review
from fly_tools.toolkit import FlyToolkit
from fly_tools.tools.runtime import PreparedCall

QUESTION_PREFIX = "question:"
"""Key prefix, in the recorded descriptions, of a call's question id."""
_EDIT = "edit:"
REPLAYED = (
    "this approval was already given and used (or the question expired): a resumed or "
    "replayed review runs a call at most once; ask for approval again"
)


def question_key(shown_key: str) -> str:
    """Where a call's question id is kept next to its recorded description."""
    return QUESTION_PREFIX + shown_key


def caller(toolkit: FlyToolkit, ledger: ApprovalStore) -> Asker:
    """The toolkit as an asker in ``ledger`` (thread and tool call filled in per call)."""
    agent = toolkit.runtime.agent_id
    return asker_of(toolkit.client, ledger.binding_key(), app=toolkit.app, agent=agent)


def ask(
    toolkit: FlyToolkit,
    ledger: ApprovalStore,
    call: Mapping[str, Any],
    prepared: PreparedCall,
    thread: str | None,
    *,
    question_id: str | None = None,
    binding_prefix: str = "",
) -> str:
    """Record the question a reviewer is about to be shown; its id."""
    request, args = prepared.request, prepared.args
    assert request is not None
    assert args is not None
    endpoint = toolkit.catalogue[call["name"]]
    now = ledger.clock()
    question = Approval(
        id=question_id or secrets.token_hex(8),
        tool=endpoint.name,
        args=json.loads(json.dumps(dict(request.args), default=str)),
        description=request.description,
        target=request.target.to_dict(),
        binding=binding_prefix + request_binding(ledger.binding_key(), endpoint, args),
        version=prepared.version,
        agent_id=request.agent_id,
        created_at=now,
        expires_at=now + PENDING_TTL,
        asker=caller(toolkit, ledger).at(thread=thread, tool_call=call.get("id")).to_dict(),
    )
    return ledger.add(question).id


def edit_id(question_id: str, args: Mapping[str, Any]) -> str:
    """The id of the question about an edit of ``question_id`` to ``args`` (the same on
    every run of the node, so a resumed node finds what the reviewer was shown)."""
    text = json.dumps(dict(args), sort_keys=True, default=str)
    return f"{question_id}.e{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def ask_edit(
    toolkit: FlyToolkit, ledger: ApprovalStore, review: Review, thread: str | None
) -> None:
    """Record the edited call as it is about to be shown (once: a re-run keeps the first)."""
    if not review.question or review.edited is None or review.edited_args is None:
        return
    qid = edit_id(review.question, review.edited_args)
    if ledger.get(qid) is None:
        ask(
            toolkit,
            ledger,
            review.call,
            review.edited,
            thread,
            question_id=qid,
            binding_prefix=_EDIT,
        )


def spend(
    toolkit: FlyToolkit, ledger: ApprovalStore, review: Review, thread: str | None
) -> tuple[str | None, str | None]:
    """Answer the review's question with its grant and spend it.

    Returns:
        (why it cannot be spent, or ``None``; the machine version the reviewer was shown,
        which the receipt pins).
    """
    assert review.grant is not None
    _, who, verdict = review.grant
    if not review.question:
        return "no question was recorded for this call before the pause", None
    try:
        shown, why = _shown(toolkit, ledger, review, thread)
        if why is not None:
            return why, None
        assert shown is not None
        ledger.answer(review.question, verdict, who, None)  # type: ignore[arg-type]
        asker = caller(toolkit, ledger).at(thread=thread, tool_call=review.call.get("id"))
        found = ledger.get(review.question)
        binding = found.binding if found is not None else ""
        why = spend_answer(ledger, review.question, asker, binding, None, per_call=True)
    except ApprovalError:
        return REPLAYED, None
    return (None if why is None else f"{why}; {REPLAYED}"), shown.version


def _shown(
    toolkit: FlyToolkit, ledger: ApprovalStore, review: Review, thread: str | None
) -> tuple[Approval | None, str | None]:
    """The question the granted call was shown as, or why the grant does not match it."""
    assert review.grant is not None
    prepared, _, verdict = review.grant
    qid = review.question
    assert qid is not None
    if verdict == "edited" and review.edited_args is not None:
        qid = edit_id(qid, review.edited_args)
    found = ledger.get(qid)
    if found is None:
        return None, (
            f"question {qid} is not in this approval ledger (it was asked in another "
            "process: give approval_middleware(..., ledger=...) a shared one)"
        )
    asker = caller(toolkit, ledger).at(thread=thread, tool_call=review.call.get("id"))
    if not same_asker(found.asker, asker, per_call=True):
        return None, f"question {qid} was not asked by this agent for this call"
    assert prepared.args is not None
    assert prepared.request is not None
    endpoint = toolkit.catalogue[review.call["name"]]
    binding = request_binding(ledger.binding_key(), endpoint, prepared.args)
    if found.binding.removeprefix(_EDIT) != binding:
        return None, "the call differs from the one the reviewer was shown"
    if found.description != prepared.request.description:
        return None, changed_during_review(found.description, prepared.request.description)
    return found, None


def close(ledger: ApprovalStore, question_id: str | None, who: str, reason: str) -> None:
    """Record a rejection or refusal on the question, if it is still open."""
    if not question_id:
        return
    with contextlib.suppress(ApprovalError):  # already answered (a replay): nothing runs
        ledger.answer(question_id, "rejected", who, reason[:500])
