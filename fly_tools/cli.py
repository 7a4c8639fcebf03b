"""The ``fly-tools`` command line: list tools, call one, run the demo, serve the fake, read audits.

Exit status: 0 done; 1 the call failed, was refused or was rejected; 2 the command could
not run as given (usage, configuration, unreadable input). Expected errors are one line
on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO, get_args

from langchain_core.messages import ToolCall
from pydantic import TypeAdapter, ValidationError

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.client import ConfigurationError, FlyClient
from fly_tools.client.errors import CREDENTIALS_HINT
from fly_tools.client.settings import TOKEN_ENV_VARS
from fly_tools.docs import tools_text
from fly_tools.guards import (
    ActionRequest,
    AgentPolicy,
    Approve,
    AuditLog,
    AuditRecord,
    ConfirmHook,
    ConsoleApproval,
    Decision,
    JsonlSink,
    MemorySink,
    Reject,
    Verdict,
    format_trail,
    read_jsonl,
)
from fly_tools.models.identifiers import AppName
from fly_tools.risk import SCOPES
from fly_tools.toolkit import FlyToolkit, select_endpoints

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CLI_AGENT = "fly-tools"
"""The agent id in audit records of ``fly-tools call`` when no policy names one."""
LIVE_NEEDS_TOKEN = f"--live needs a Fly API token: {CREDENTIALS_HINT}"
NO_TERMINAL = "no terminal to ask, and neither --yes nor --no given; pass --yes to approve"
PROGRESS_EVERY = 5.0
"""Seconds between progress lines while a call runs."""


class UsageError(Exception):
    """The command cannot run as given; its message is the one line printed."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fly-tools`` with ``argv`` (default: the process arguments); returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except UsageError as exc:
        print(f"fly-tools: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fly-tools: interrupted", file=sys.stderr)
        return 130
    return status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="fly-tools",
        description="Fly.io Machines API tools for agents, with an embedded fake Fly API.",
    )
    commands = parser.add_subparsers(title="commands", dest="command", required=True)

    tools = commands.add_parser("tools", help="list the tools a toolkit would give an agent")
    _toolkit_options(tools, live=False)
    tools.set_defaults(run=run_tools)

    call = commands.add_parser("call", help="run one tool through the toolkit's guards and audit")
    call.add_argument("tool", help="tool name, e.g. fly_list_machines")
    call.add_argument("--args", default="{}", help="the tool's arguments as a JSON object")
    _toolkit_options(call, live=True)
    _decision_flags(call, "gated (destructive) calls")
    call.add_argument("--audit", metavar="FILE", help="append the audit record to a JSONL file")
    call.add_argument("--agent", help="agent id in the audit record (default: the policy's)")
    call.set_defaults(run=run_call)

    demo = commands.add_parser("demo", help="an agent tends app web on the fake Fly API")
    _decision_flags(demo, "the delete the agent pauses before")
    demo.add_argument("--live", action="store_true", help="read-only report on real Fly")
    demo.add_argument("--app", help="app to work on (fake: web or worker; live: required)")
    demo.set_defaults(run=run_demo)

    serve = commands.add_parser("fake-server", help="serve the fake Fly API over HTTP")
    serve.add_argument("--port", type=int, default=4280, help="port (0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.set_defaults(run=run_fake_server)

    audit = commands.add_parser("audit", help="print an audit file as a plain-English trail")
    audit.add_argument("file", help="a JSONL file written by --audit or JsonlSink")
    audit.add_argument("--agent", help="only this agent's records")
    audit.add_argument("--decision", choices=get_args(Verdict), help="only this decision")
    audit.set_defaults(run=run_audit)
    return parser


def _toolkit_options(parser: argparse.ArgumentParser, *, live: bool) -> None:
    parser.add_argument("--scope", choices=SCOPES, default="org", help="token scope (org)")
    parser.add_argument("--app", help="bind every tool to this app")
    parser.add_argument("--policy", metavar="FILE", help="per-agent policy (.toml/.json/.yaml)")
    if live:
        parser.add_argument(
            "--live", action="store_true", help="call the real Fly API (needs FLY_API_TOKEN)"
        )


def _decision_flags(parser: argparse.ArgumentParser, what: str) -> None:
    flags = parser.add_mutually_exclusive_group()
    flags.add_argument("--yes", action="store_true", help=f"approve {what} without asking")
    flags.add_argument("--no", action="store_true", help=f"reject {what} without asking")


# ---------------------------------------------------------------- tools and call


def run_tools(args: argparse.Namespace) -> int:
    """``fly-tools tools``: the table of tools for a scope, app binding and policy."""
    app = _app_name(args.app)
    try:
        endpoints = select_endpoints(
            args.scope, policy=_policy(args.policy), app_bound=app is not None
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    bound = f", bound to app {app}" if app else ""
    print(f"{len(endpoints)} tools for a {args.scope}-scoped token{bound}:\n")
    print(tools_text(endpoints))
    return EXIT_OK


def run_call(args: argparse.Namespace) -> int:
    """``fly-tools call``: one tool call, through the same guards and audit as an agent's."""
    endpoint = _endpoint(args.tool)
    raw = _json_object(args.args)
    memory = MemorySink()
    sinks = [memory, JsonlSink(args.audit)] if args.audit else [memory]
    toolkit = _toolkit(args, confirm=_confirm_hook(args), audit=AuditLog(*sinks))
    tool = next((t for t in toolkit.get_tools() if t.name == endpoint.name), None)
    if tool is None:
        reason = _not_in_toolkit(endpoint, toolkit)
        toolkit.audit_log.record(
            AuditRecord.build(
                agent_id=toolkit.agent_id, endpoint=endpoint, args=raw, decision="refused",
                decided_by="guard", outcome="not_executed", error=reason,
            )
        )  # fmt: skip
        print(f"fly-tools: refused: {reason}; nothing was sent", file=sys.stderr)
        return EXIT_FAILED
    with progress(_progress_label(endpoint, raw), sys.stderr):
        request = ToolCall(name=tool.name, args=raw, id="fly-tools-call", type="tool_call")
        message = tool.invoke(request)
    ok = bool(memory.records) and memory.records[-1].outcome == "ok"
    print(message.text, file=sys.stdout if ok else sys.stderr)
    return EXIT_OK if ok else EXIT_FAILED


def _toolkit(args: argparse.Namespace, **options: Any) -> FlyToolkit:
    app = _app_name(args.app)
    policy = _policy(args.policy)
    client = _live_client() if args.live else _fake_client(args.scope, app)
    agent = args.agent or (policy.agent_id if policy else CLI_AGENT)
    try:
        return FlyToolkit(
            client=client, scope=args.scope, app=app, policy=policy, agent_id=agent, **options
        )
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None


def _fake_client(scope: str, app: str | None) -> FlyClient:
    from fly_tools.testing import FakeFly

    return FakeFly.demo().client(scope=scope, app=app)


def _live_client() -> FlyClient:
    if not any(os.environ.get(name, "").strip() for name in TOKEN_ENV_VARS):
        raise UsageError(LIVE_NEEDS_TOKEN)
    try:
        return FlyClient.from_env()
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def _confirm_hook(args: argparse.Namespace) -> ConfirmHook:
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


def _not_in_toolkit(endpoint: Endpoint, toolkit: FlyToolkit) -> str:
    if toolkit.scope not in endpoint.scopes:
        scopes = ", ".join(s for s in SCOPES if s in endpoint.scopes)
        return f"{endpoint.name} is not available to a {toolkit.scope}-scoped token (it needs: {scopes})"
    if toolkit.policy is not None and (refusal := toolkit.policy.refusal(endpoint)):
        return refusal
    return f"{endpoint.name} reaches beyond one app, and this toolkit is bound to app {toolkit.app}"


def _endpoint(name: str) -> Endpoint:
    endpoint = ENDPOINTS.get(name)
    if endpoint is None:
        close = difflib.get_close_matches(name, list(ENDPOINTS), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(f"unknown tool {name!r}; {hint}`fly-tools tools` lists them")
    return endpoint


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--args is not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, dict):
        raise UsageError('--args must be a JSON object, e.g. \'{"machine_id": "3d8d9015b23489"}\'')
    return value


def _app_name(app: str | None) -> str | None:
    if app is None:
        return None
    try:
        return TypeAdapter(AppName).validate_python(app)
    except ValidationError:
        raise UsageError(
            f"--app {app!r} is not a Fly app name (lower-case letters, digits and dashes)"
        ) from None


def _policy(path: str | None) -> AgentPolicy | None:
    if path is None:
        return None
    try:
        return AgentPolicy.from_file(path)
    except FileNotFoundError:
        raise UsageError(f"no such policy file: {path}") from None
    except (OSError, ValueError, ImportError) as exc:
        raise UsageError(f"policy {path}: {str(exc).splitlines()[0]}") from None


def _progress_label(endpoint: Endpoint, raw: dict[str, Any]) -> str:
    if endpoint.name == "fly_wait_machine":
        states = raw.get("state", "started")
        return f"waiting for machine {raw.get('machine_id', '?')} to reach {states}"
    return f"{endpoint.name} is still running"


@contextmanager
def progress(label: str, out: TextIO, every: float = PROGRESS_EVERY) -> Iterator[None]:
    """While the block runs, print ``label`` with the seconds so far every ``every`` seconds."""
    done = threading.Event()

    def tick() -> None:
        waited = 0.0
        while not done.wait(every):
            waited += every
            print(f"  ... {label} ({waited:.0f} s)", file=out, flush=True)

    ticker = threading.Thread(target=tick, name="fly-tools-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


# ---------------------------------------------------------------- demo, fake server, audit


def run_demo(args: argparse.Namespace) -> int:
    """``fly-tools demo``: the agent demo on the fake Fly API, or read-only live."""
    try:
        from fly_tools import demo
    except ImportError as exc:
        raise UsageError(
            f"the demo needs the agent runtime ({exc.name} is missing): "
            "pip install 'fly-tools[demo]'"
        ) from None
    reviewer = demo.Reviewer.from_flags(yes=args.yes, no=args.no)
    try:
        model = demo.model_from_env()
        if args.live:
            demo.run_live(reviewer=reviewer, app=args.app, model=model)
        else:
            demo.run_demo(reviewer=reviewer, app=args.app or "web", model=model)
    except demo.DemoError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def run_fake_server(args: argparse.Namespace) -> int:
    """``fly-tools fake-server``: the demo world over HTTP until Ctrl-C."""
    from fly_tools.testing import FakeFly

    fake = FakeFly.demo()
    try:
        with fake.serve(args.host, args.port) as base_url:
            _announce(base_url, fake.tokens, sys.stdout)
            threading.Event().wait()
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"serving over HTTP needs {exc.name}: pip install 'fly-tools[serve]'"
        ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}"
        ) from None
    except KeyboardInterrupt:
        print("fake Fly API stopped", file=sys.stderr)
    return EXIT_OK


def _announce(base_url: str, tokens: dict[str, str], out: TextIO) -> None:
    lines = [
        f"Fake Fly Machines API (demo world: org acme, apps web and worker) at {base_url}/v1",
        "Point a client at it:",
        f"  export FLY_API_HOSTNAME={base_url}",
        "  export FLY_API_TOKEN=<one of the tokens below>",
        "Tokens (valid only on this fake):",
        *(f"  {scope:<13} {token}" for scope, token in tokens.items()),
        "The deploy token is bound to app web. Ctrl-C stops the server.",
    ]
    print("\n".join(lines), file=out, flush=True)


def run_audit(args: argparse.Namespace) -> int:
    """``fly-tools audit``: an audit file as a numbered plain-English trail."""
    try:
        records = read_jsonl(args.file)
    except FileNotFoundError:
        raise UsageError(f"no such audit file: {args.file}") from None
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(format_trail(records, agent=args.agent, decision=args.decision))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
