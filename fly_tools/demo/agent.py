"""Running an agent under human-in-the-loop middleware: pauses answered by a reviewer, steps shown."""

from __future__ import annotations

import builtins
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, Interrupt

from fly_tools.agents import approval_middleware
from fly_tools.catalogue import ENDPOINTS
from fly_tools.demo.plans import clip, first_line, succeeded
from fly_tools.guards import AuditRecord, MemorySink
from fly_tools.toolkit import FlyToolkit

SYSTEM_PROMPT = (
    "You operate Fly.io apps with the tools you are given. Read before you act, take ids "
    "from tool results, never guess them, and end with a short summary of what you did."
)
NO_TERMINAL = "no terminal to ask, and neither --yes nor --no given; pass --yes to approve"
MAX_PAUSES = 20
_LINES_PER_RESULT = 4


@dataclass(frozen=True)
class Review:
    """One answer to a paused call: the middleware's decision and who made it."""

    decision: dict[str, Any]
    by: str
    reason: str | None = None

    @property
    def approved(self) -> bool:
        """Whether the call may run."""
        return bool(self.decision["type"] == "approve")


class Reviewer:
    """Answers the agent's pauses: as flagged, by asking at a terminal, or reject by default.

    Args:
        mode: ``approve`` (``--yes``), ``reject`` (``--no``), ``ask`` (a terminal is
            attached) or ``no-terminal`` (nobody to ask: reject, and say so).
        input: reads the answer in ``ask`` mode.
    """

    def __init__(
        self,
        mode: Literal["approve", "reject", "ask", "no-terminal"],
        *,
        input: Callable[[str], str] = builtins.input,
    ) -> None:
        self.mode = mode
        self._input = input

    @classmethod
    def from_flags(cls, *, yes: bool, no: bool, interactive: bool | None = None) -> Reviewer:
        """The reviewer for ``--yes`` / ``--no``; else ask when stdin and stdout are a terminal."""
        if yes and no:
            raise ValueError("--yes and --no cannot be used together")
        if interactive is None:
            interactive = sys.stdin.isatty() and sys.stdout.isatty()
        if yes:
            return cls("approve")
        if no:
            return cls("reject")
        return cls("ask" if interactive else "no-terminal")

    @property
    def label(self) -> str:
        """Who decides, as the audit trail names them."""
        return {"approve": "--yes", "reject": "--no", "ask": "console"}.get(self.mode, "fly-tools")

    def review(self, action: Mapping[str, Any], out: TextIO) -> Review:
        """Show one paused call (its plain-English description) and decide on it."""
        risk = (ENDPOINTS[action["name"]].risk.label) if action["name"] in ENDPOINTS else "gated"
        print(f"  || paused for approval: {action['name']} ({risk})", file=out)
        print(f"     {action.get('description', '')}", file=out, flush=True)
        if self.mode == "approve":
            review = Review({"type": "approve"}, by="--yes")
        elif self.mode == "reject":
            review = _reject("--no", "the demo was run with --no")
        elif self.mode == "no-terminal":
            review = _reject("fly-tools", NO_TERMINAL)
        else:
            review = self._ask(out)
        verdict = "approved" if review.approved else f"rejected: {review.reason}"
        print(f"     {verdict} [{review.by}]", file=out, flush=True)
        return review

    def _ask(self, out: TextIO) -> Review:
        print("     Approve? [y/N] ", end="", file=out, flush=True)
        try:
            answer = self._input("").strip().lower()
        except EOFError:
            return _reject("console", "no answer (end of input)")
        if answer in ("y", "yes"):
            return Review({"type": "approve"}, by="console")
        return _reject("console", "declined at the terminal")


def _reject(by: str, reason: str) -> Review:
    return Review({"type": "reject", "message": reason}, by=by, reason=reason)


@dataclass
class DemoReport:
    """What one demo run did.

    Attributes:
        messages: the whole conversation.
        records: the toolkit's audit records.
        reviews: each paused tool call and the answer it got.
        requests: what reached the fake Fly API (``GET /v1/apps/web/machines 200``);
            empty for the live variant.
    """

    messages: list[BaseMessage]
    records: list[AuditRecord]
    reviews: list[tuple[str, Review]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def answer(self) -> str:
        """The agent's final answer."""
        final = [m for m in self.messages if isinstance(m, AIMessage) and not m.tool_calls]
        return final[-1].text if final else ""


def run_agent(
    model: BaseChatModel,
    toolkit: FlyToolkit,
    task: str,
    reviewer: Reviewer,
    out: TextIO,
) -> DemoReport:
    """Run ``task`` with ``create_agent``, the human-in-the-loop middleware and a checkpointer.

    Each pause is answered by ``reviewer`` and the run resumed with ``Command(resume=...)``;
    steps are printed to ``out`` as they happen.
    """
    agent = create_agent(
        model,
        tools=toolkit.get_tools(),
        system_prompt=SYSTEM_PROMPT,
        middleware=approval_middleware(toolkit, reviewer=reviewer.label),
        checkpointer=InMemorySaver(),
    )
    config: Any = {"configurable": {"thread_id": "fly-tools-demo"}, "recursion_limit": 60}
    result = agent.invoke({"messages": [HumanMessage(task)]}, config, version="v2")
    shown = show_steps(result.value["messages"], 0, out)
    report = DemoReport(messages=[], records=[])
    for _ in range(MAX_PAUSES):
        if not result.interrupts:
            break
        resume = _answer(result.interrupts, reviewer, toolkit, report, out)
        result = agent.invoke(Command(resume=resume), config, version="v2")
        shown = show_steps(result.value["messages"], shown, out)
    report.messages = list(result.value["messages"])
    report.records = _records(toolkit)
    return report


def _answer(
    pauses: Sequence[Interrupt],
    reviewer: Reviewer,
    toolkit: FlyToolkit,
    report: DemoReport,
    out: TextIO,
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for pause in pauses:
        decisions = []
        for action in pause.value["action_requests"]:
            review = reviewer.review(action, out)
            report.reviews.append((action["name"], review))
            decisions.append(review.decision)
        answers[pause.id] = {"decisions": decisions}
    # One pause is answered directly; several are answered by interrupt id.
    return next(iter(answers.values())) if len(answers) == 1 else answers


def _records(toolkit: FlyToolkit) -> list[AuditRecord]:
    memory = [s for s in toolkit.audit_log.sinks if isinstance(s, MemorySink)]
    return list(memory[0].records) if memory else []


def show_steps(messages: Sequence[BaseMessage], start: int, out: TextIO) -> int:
    """Print the tool calls and short results in ``messages[start:]``; returns the new start."""
    for message in messages[start:]:
        if isinstance(message, AIMessage):
            if message.tool_calls and message.text.strip():
                print(f"  .. {clip(first_line(message.text))}", file=out)
            for tool_call in message.tool_calls:
                print(f"  -> {tool_call['name']}({_args_text(tool_call['args'])})", file=out)
        elif isinstance(message, ToolMessage):
            lines = message.text.strip().splitlines()[:_LINES_PER_RESULT] or ["(no content)"]
            mark = "!! " if not succeeded(message) else ""
            for n, line in enumerate(lines):
                print(f"     {mark if n == 0 else ''}{clip(line)}", file=out)
    out.flush()
    return len(messages)


def _args_text(args: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in args.items())
