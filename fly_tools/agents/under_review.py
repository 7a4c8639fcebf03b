"""One gated call under review, and what became of it: what the reviewer's answers
(:mod:`~fly_tools.agents.review`) and the ledger's questions
(:mod:`~fly_tools.agents.questions`) both work on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage

from fly_tools.tools.runtime import PreparedCall


@dataclass
class Review:
    """One gated call under review, and what became of it."""

    call: ToolCall
    prepared: PreparedCall
    shown: str | None = None  # the description recorded before the pause (what was asked)
    stale: str | None = None  # why an approval cannot stand: Fly's state changed meanwhile
    edited: PreparedCall | None = None
    edited_args: dict[str, Any] | None = None
    answer: ToolMessage | None = None
    # Side effects wait until every question of the node is answered: a node that
    # pauses again is run again from the start on resume.
    grant: tuple[PreparedCall, str, str] | None = None
    stop: tuple[str, str, str] | None = None
    question: str | None = None  # its id in the approval ledger, recorded before the pause
    pinned: str | None = None  # the machine version the reviewer was shown
