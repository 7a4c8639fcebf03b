"""``fly-tools tools`` and ``fly-tools call``: the toolkit's tools, and one call through its guards."""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from langchain_core.messages import ToolCall, ToolMessage
from pydantic import BaseModel, ValidationError

from fly_tools.catalogue import Endpoint
from fly_tools.cli import options
from fly_tools.cli.stores import absolute_store
from fly_tools.cli.toolhelp import argument_schema
from fly_tools.cli.usage import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from fly_tools.client import FlyClient
from fly_tools.client.problems import describe_problems
from fly_tools.guards import (
    ActionRequest,
    Approve,
    AuditLog,
    AuditRecord,
    ConfirmHook,
    ConsoleApproval,
    Decision,
    JsonlSink,
    MemorySink,
    Reject,
)
from fly_tools.guards.console import write_unless_prompting
from fly_tools.render import inert_lines
from fly_tools.risk import DEFAULT_GROUPS, SCOPES, RiskTier

NO_TERMINAL = "no terminal to ask, and neither --yes nor --no given; pass --yes to approve"
NOTHING_SENT = "nothing was sent"
PROGRESS_EVERY = 5.0
"""Seconds between progress lines while a call runs."""
PAUSE_MARK = "*"


# ---------------------------------------------------------------- tools


def run_tools(args: argparse.Namespace) -> int:
    """``fly-tools tools``: the tools a toolkit with these options offers, and which pause."""
    app = options.app_name(args.app)
    if args.live:
        _, scope, origin = options.client_and_scope(args)
    else:
        scope, origin = args.scope or options.DEFAULT_SCOPE, "flag" if args.scope else "default"
    chosen = options.endpoints(scope, app, options.filters(args))
    confirm_at = RiskTier.parse(args.confirm_at or RiskTier.DESTRUCTIVE)
    if args.json:
        _print_json(_tools_document(chosen, scope, origin, app, confirm_at))
        return EXIT_OK
    bound = f", bound to app {app}" if app else ""
    note = {
        "default": " (the default without --live; give --scope for more)",
        "token": " (read from the token)",
    }.get(origin, "")
    print(f"{options.plural(len(chosen), 'tool')} for {options.scoped(scope)}{bound}{note}:\n")
    print(tools_table(chosen, confirm_at))
    if any(e.risk >= confirm_at for e in chosen):
        print(f"\n{PAUSE_MARK} pauses for a human before it runs ({confirm_at.label} and above).")
    return EXIT_OK


def tools_table(endpoints: Sequence[Endpoint], confirm_at: RiskTier) -> str:
    """The terminal table: a mark for tools that pause, name, tier, group, what it does."""
    width = max((len(e.name) for e in endpoints), default=4)
    lines = [f"  {'tool':<{width}}  {'tier':<11}  {'group':<8}  what it does"]
    for e in endpoints:
        mark = PAUSE_MARK if e.risk >= confirm_at else " "
        lines.append(f"{mark} {e.name:<{width}}  {e.risk.label:<11}  {e.group:<8}  {e.description}")
    return "\n".join(lines)


def _tools_document(
    endpoints: Sequence[Endpoint], scope: str, origin: str, app: str | None, confirm_at: RiskTier
) -> dict[str, Any]:
    return {
        "scope": scope,
        "scope_from": origin,
        "app": app,
        "confirm_at": confirm_at.label,
        "tools": [
            {
                "name": e.name,
                "group": e.group,
                "tier": e.risk.label,
                "scopes": [s for s in SCOPES if s in e.scopes],
                "description": e.description,
                "pauses": e.risk >= confirm_at,
                "arguments": argument_schema(e, app_bound=app is not None),
            }
            for e in endpoints
        ],
    }


# ---------------------------------------------------------------- call


def run_call(args: argparse.Namespace) -> int:
    """``fly-tools call``: one tool call, through the same guards and audit as an agent's."""
    endpoint = options.endpoint(args.tool)
    raw = options.json_object(args.args)
    if not endpoint.default and args.groups is None and args.include is None:
        # Naming a tool of an opt-in group (certificates, snapshots, ...) opts its group
        # in: the toolkit offers the default groups and that one.
        args.groups = [*DEFAULT_GROUPS, endpoint.group]
    client, scope, origin = options.client_and_scope(args)
    memory = MemorySink()
    sinks = [memory, JsonlSink(args.audit)] if args.audit else [memory]
    hook = confirm_hook(args)
    kit = options.toolkit(
        args,
        client,
        scope,
        confirm=hook,
        audit=AuditLog(*sinks),
        confirm_timeout=args.confirm_timeout,
    )
    tool = next((t for t in kit.get_tools() if t.name == endpoint.name), None)
    if tool is None:
        reason = options.not_in_toolkit(endpoint, kit)
        hint = ""
        if origin == "default" and kit.scope not in endpoint.scopes:
            hint = " (without --live the scope is readonly unless --scope names another)"
        kit.audit_log.record(
            AuditRecord.build(
                agent_id=kit.agent_id,
                endpoint=endpoint,
                args=raw,
                decision="refused",
                decided_by="guard",
                outcome="not_executed",
                error=reason,
            )
        )
        return _report(args, None, memory.records[-1], f"refused: {reason}; nothing was sent{hint}")
    with progress(_progress_label(endpoint, raw), sys.stderr):
        request = ToolCall(name=tool.name, args=raw, id="fly-tools-call", type="tool_call")
        message = tool.invoke(request)
    record = memory.records[-1] if memory.records else None
    if record is not None and record.decision == "refused":
        problems = invalid_arguments(tool.args_schema, raw)  # type: ignore[arg-type]
        if problems:
            # Arguments that do not fit the tool are a usage error, like --args that are not JSON.
            usage = f"--args for {endpoint.name} are invalid: {problems}; {NOTHING_SENT}"
            return _report(args, message, record, usage, status=EXIT_USAGE)
    ok = record is not None and record.outcome == "ok"
    error = None if ok else human_error(record, endpoint, client)
    if error is not None and record is not None and record.decision == "pending":
        error += _how_to_answer(record, args)
    return _report(args, message, record, error)


def _how_to_answer(record: AuditRecord, args: argparse.Namespace) -> str:
    # For the person at the terminal (the model's text names no command): the answer
    # counts only signed with an approver key, which the agent's user must not hold.
    found = re.search(r"pending approval (\w+)", record.error or "")
    store = getattr(args, "store", None)
    if found is None or not store:
        return ""
    return (
        f"; a person with an approver key answers it with "
        f"`fly-tools approvals approve {found[1]} --store {absolute_store(store)}`"
    )


def _report(
    args: argparse.Namespace,
    message: ToolMessage | None,
    record: AuditRecord | None,
    error: str | None,
    status: int = EXIT_FAILED,
) -> int:
    if args.json:
        _print_json(
            {
                "tool": args.tool,
                "ok": error is None,
                "error": error,
                "text": message.text if message is not None else None,
                "result": message.artifact if message is not None else None,
                "record": record.to_dict() if record is not None else None,
            }
        )
    elif error is None and message is not None:
        print(inert_lines(message.text))  # names Fly returns reach the terminal inert
    if error is not None:
        print(f"fly-tools: {inert_lines(error)}", file=sys.stderr)
        return status
    return EXIT_OK


def human_error(record: AuditRecord | None, endpoint: Endpoint, client: FlyClient) -> str:
    """The failure in words for a person at a terminal (the tool's text is written for a model)."""
    if record is None:
        return f"{endpoint.name} ended without an audit record; check the audit log"
    action = f"{endpoint.name} on {record.target}"
    reason = " ".join((record.error or "").split())
    if record.decision == "rejected":
        why = f" ({reason})" if reason else ""
        return f"{action} was not sent: rejected by {record.decided_by}{why}"
    if record.decision == "pending":
        return f"{action} was not sent: {reason}"
    if record.decision == "refused":
        return f"refused: {_once(reason, NOTHING_SENT)}; {NOTHING_SENT}"
    if record.status is None:
        return f"at the Fly API {_shown_url(client.base_url)}: {reason}"
    return reason or f"{action} failed"


def invalid_arguments(model: type[BaseModel], raw: Mapping[str, Any]) -> str:
    """What is wrong with ``raw`` for the tool's argument ``model``, in flag terms; empty when
    it validates. ``model`` is the tool's own: with ``--app`` it pins ``app_name``."""
    try:
        model.model_validate(dict(raw))
    except ValidationError as exc:
        missing = {
            str(e["loc"][0]) for e in exc.errors() if e["type"] == "missing" and len(e["loc"]) == 1
        }
        problems = [
            f"{field} is required (give it in --args"
            + (", or bind the app with --app)" if field == "app_name" else ")")
            for field in model.model_fields
            if field in missing
        ]
        problems += [
            line
            for line in describe_problems(exc, model)
            if not any(line.startswith(f"{field}: required (") for field in missing)
        ]
        return "; ".join(problems)
    return ""


def _once(reason: str, phrase: str) -> str:
    """``reason`` without its own "nothing was sent ..." sentence: the line says it once."""
    at = reason.lower().find(phrase)
    return reason if at < 0 else reason[:at].rstrip(" ;,.-") or reason


def _shown_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def confirm_hook(args: argparse.Namespace) -> ConfirmHook:
    """``--yes``, ``--no``, ``--store``, the console prompt at a terminal, or reject."""
    if getattr(args, "store", None):
        from fly_tools.approvals import ApprovalError, StoreApproval

        if args.yes or args.no:
            raise UsageError("--store leaves the answer to a person; drop --yes/--no")
        try:
            return StoreApproval(absolute_store(args.store))
        except ApprovalError as err:
            raise UsageError(str(err)) from None
    if args.yes:
        return approved_by_flag
    if args.no:
        return rejected_by_flag
    if sys.stdin.isatty():
        return ConsoleApproval(output=sys.stderr)
    return rejected_without_terminal


def approved_by_flag(request: ActionRequest) -> Decision:
    """The hook behind ``--yes``."""
    return Approve(by="--yes")


def rejected_by_flag(request: ActionRequest) -> Decision:
    """The hook behind ``--no``."""
    return Reject(reason="run with --no", by="--no")


def rejected_without_terminal(request: ActionRequest) -> Decision:
    """The hook when nobody can be asked: reject, and say how to approve."""
    return Reject(reason=NO_TERMINAL, by="fly-tools")


def _progress_label(endpoint: Endpoint, raw: Mapping[str, Any]) -> str:
    if endpoint.flow == "wait":
        states = raw.get("state", "started")
        return f"waiting for machine {raw.get('machine_id', '?')} to reach {states}"
    return f"{endpoint.name} is still running"


@contextmanager
def progress(label: str, out: TextIO, every: float = PROGRESS_EVERY) -> Iterator[None]:
    """While the block runs, print ``label`` with the seconds so far every ``every`` seconds.

    Nothing is printed while a console approval prompt waits for an answer.
    """
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(every):
            write_unless_prompting(out, f"  ... {label} ({time.monotonic() - started:.0f} s)")

    ticker = threading.Thread(target=tick, name="fly-tools-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, default=str))
