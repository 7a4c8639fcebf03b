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
from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.demo.plans import clip, first_line, succeeded
from fly_tools.guards import (
    ActionRequest,
    AuditRecord,
    ConsoleApproval,
    Edit,
    MemorySink,
    Reject,
    redact_args,
    target_of,
)
from fly_tools.guards.decisions import MiddlewareApproval
from fly_tools.guards.prepared import PreparedCall
from fly_tools.render import inert_lines
from fly_tools.toolkit import FlyToolkit

SYSTEM_PROMPT = (
    "You operate Fly.io apps with the tools you are given. Read before you act, take ids "
    "from tool results, never guess them, and end with a short summary of what you did."
)
NO_TERMINAL = "no terminal to ask, and neither --yes nor --no given; pass --yes to approve"
MAX_PAUSES = 20
_LINES_PER_RESULT = 4
INDENT = "     "
"""Where the lines about one paused call start in the transcript."""


@dataclass(frozen=True)
class Review:
    """One answer to a paused call: the middleware's decision and who made it."""

    decision: dict[str, Any]
    by: str
    reason: str | None = None

    @property
    def approved(self) -> bool:
        """Whether the call may run (as asked, or as edited)."""
        return self.decision["type"] in ("approve", "edit")


class Reviewer:
    """Answers the agent's pauses: as flagged, by asking at a terminal, or reject by default.

    At a terminal it asks with :class:`~fly_tools.guards.ConsoleApproval`, the same prompt
    as ``fly-tools call`` and a toolkit's console hook.

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

    def review(
        self,
        action: Mapping[str, Any],
        out: TextIO,
        *,
        toolkit: FlyToolkit | None = None,
        allowed: Sequence[str] = ("approve", "reject"),
    ) -> Review:
        """Decide on one paused call; at a terminal through the shared console prompt.

        Args:
            action: the middleware's action request (``name``, ``args``, ``description``).
            out: where to print.
            toolkit: the agent's toolkit (its bound app and agent id fill in the request).
            allowed: the decisions the middleware accepts for this call.
        """
        risk = (ENDPOINTS[action["name"]].risk.label) if action["name"] in ENDPOINTS else "gated"
        print(f"  || paused for approval: {action['name']} ({risk})", file=out, flush=True)
        if self.mode == "ask":
            review = self._ask(action, out, toolkit, allowed)
        else:
            # Each line of a change set keeps its place under the pause, and stays inert.
            shown = inert_lines(str(action.get("description", "")), indent=INDENT)
            print(f"{INDENT}{shown}", file=out, flush=True)
            if self.mode == "approve":
                review = Review({"type": "approve"}, by="--yes")
            elif self.mode == "reject":
                review = _reject("--no", "the demo was run with --no")
            else:
                review = _reject("fly-tools", NO_TERMINAL)
        verdict = {"approve": "approved", "edit": "edited"}.get(
            review.decision["type"], f"rejected: {review.reason}"
        )
        print(f"     {verdict} [{review.by}]", file=out, flush=True)
        return review

    def _ask(
        self,
        action: Mapping[str, Any],
        out: TextIO,
        toolkit: FlyToolkit | None,
        allowed: Sequence[str],
    ) -> Review:
        name = action["name"]
        endpoint = ENDPOINTS.get(name)
        if endpoint is None:
            return _reject("console", f"{name} is not a Fly tool; nothing to ask about")
        request = action_request(endpoint, action, toolkit)
        prompt = ConsoleApproval(input=self._input, output=out, allow_edit="edit" in allowed)
        decision = prompt(request)
        if isinstance(decision, Reject):
            return _reject(decision.by, decision.reason)
        if isinstance(decision, Edit):
            args = dict(decision.args)
            if toolkit is not None and toolkit.app and "app_name" not in action["args"]:
                args.pop("app_name", None)  # the bound app is filled in by the toolkit
            edited = {"type": "edit", "edited_action": {"name": name, "args": args}}
            return Review(edited, by=decision.by)
        return Review({"type": "approve"}, by=decision.by)


def action_request(
    endpoint: Endpoint, action: Mapping[str, Any], toolkit: FlyToolkit | None
) -> ActionRequest:
    """The console prompt's request for a paused call: secret values redacted, bound app filled in."""
    app = toolkit.app if toolkit is not None else None
    args = PreparedCall.arguments(endpoint, action.get("args") or {}, app)
    return ActionRequest(
        tool=endpoint.name,
        group=endpoint.group,
        risk=endpoint.risk,
        args=redact_args(endpoint, args),
        target=target_of(endpoint, args),
        description=str(action.get("description", "")),
        agent_id=toolkit.agent_id if toolkit is not None else None,
        facts=dict(action.get("facts") or {}),
    )


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
        # A toolkit whose approvals live in a store asks nobody here: no middleware.
        middleware=approval_middleware(toolkit, reviewer=reviewer.label)
        if isinstance(toolkit.confirm, MiddlewareApproval)
        else [],
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
        configs = {c["action_name"]: c for c in pause.value.get("review_configs", [])}
        for action in pause.value["action_requests"]:
            allowed = configs.get(action["name"], {}).get("allowed_decisions", ("approve",))
            review = reviewer.review(action, out, toolkit=toolkit, allowed=allowed)
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
