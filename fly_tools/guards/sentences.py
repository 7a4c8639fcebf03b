"""The audit trail's sentences: each record as a person would write it, from the record's phrase."""

from __future__ import annotations

from typing import Protocol

from fly_tools.catalogue import Endpoint
from fly_tools.guards.decisions import Target
from fly_tools.guards.describe import action_phrase
from fly_tools.render import inert


class RecordFields(Protocol):
    """The fields of an :class:`~fly_tools.guards.AuditRecord` its sentence is written
    from (typed here, so that the record can be worded as it is made)."""

    @property
    def agent_id(self) -> str | None: ...
    @property
    def tool(self) -> str: ...
    @property
    def target(self) -> Target: ...
    @property
    def decision(self) -> str: ...
    @property
    def decided_by(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...


_STOPPED = frozenset({"refused", "rejected", "pending", "responded"})
"""Decisions under which the call never ran, whatever the outcome says."""
_AT_THE_PROMPT = "console"
"""Who decides at :class:`~fly_tools.guards.ConsoleApproval`'s prompt, by default."""


def sentence_for(record: RecordFields, endpoint: Endpoint | None = None) -> str:
    """The record as one sentence, as a person would write it.

    ``ops-bot stopped machine 3d8d9015b23489 in app web — approved at the prompt.``
    ``ops-bot's attempt to delete app web was refused: the readonly scope cannot call it.``
    ``ops-bot's attempt to stop machine 3d8d9015b23489 in app web failed: 404 not found.``

    The words are the record's phrase (``endpoint``'s, else the package catalogue's for
    the tool); a tool no catalogue knows reads ``called fly_x on ...``. Text others wrote
    (a reason, an error) is shown through :func:`fly_tools.render.inert`.
    """
    subject = inert(record.agent_id) if record.agent_id else "The agent"
    who = _who(record.decided_by)
    approval = {
        "approved": f"approved {who}",
        "edited": f"edited and approved {who}",
    }.get(record.decision)
    if record.outcome == "ok" and record.decision not in _STOPPED:
        done = _phrase(record, endpoint, past=True)
        return f"{subject} {done} — {approval}." if approval else f"{subject} {done}."
    attempt = f"{_possessive(subject)} attempt to {_phrase(record, endpoint, past=False)}"
    error = inert(record.error or "").strip().rstrip(".")  # the sentence brings its own period
    if record.decided_by.startswith("--") and record.decided_by in error:
        error = ""  # "rejected with --no on the command line" already says it
    reason = f": {error}" if error else ""
    if record.decision == "refused":
        return f"{attempt} was refused{reason}."
    if record.decision == "rejected":
        return f"{attempt} was rejected {who}{reason}."
    if record.decision == "pending":
        return f"{attempt} was not executed: it waits for a person{reason}."
    if record.decision == "responded":
        return (
            f"{attempt} was not executed: {inert(record.decided_by)} answered in its place{reason}."
        )
    aside = f" ({approval})" if approval else ""
    if record.outcome == "error":
        detail = error
        if record.status is not None and str(record.status) not in detail:
            detail = f"{record.status} {detail}".rstrip()
        failure = f": {detail}" if detail else ""
        return f"{attempt} failed{failure}{aside}."
    if record.outcome == "unknown":
        return f"{attempt} ended without an answer{reason}{aside}."
    return f"{attempt} was not executed{reason}{aside}."


def _who(decided_by: str) -> str:
    # "approved at the prompt", "rejected with --no on the command line", "approved by alice".
    if decided_by == _AT_THE_PROMPT:
        return "at the prompt"
    if decided_by.startswith("--"):
        return f"with {inert(decided_by)} on the command line"
    return f"by {inert(decided_by)}"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _phrase(record: RecordFields, endpoint: Endpoint | None, *, past: bool) -> str:
    if endpoint is not None and endpoint.name == record.tool:
        return action_phrase(endpoint, record.target, past=past)
    return action_phrase(record.tool, record.target, past=past)
