"""The ``fly-tools`` argument parser; imports nothing heavy, so ``--help`` answers at once."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from fly_tools.risk import GROUPS, SCOPES, RiskTier

TIERS = tuple(tier.label for tier in RiskTier)
DECISIONS = ("allowed", "refused", "approved", "rejected", "edited", "responded", "pending")
"""The audit verdicts (``fly_tools.guards.Verdict``), spelled out so parsing imports nothing."""
FAKE_WORLD = (
    "Without --live the call goes to a fresh copy of the fake Fly API's demo world "
    "(org acme, apps web and worker), in this process: nothing reaches Fly and nothing "
    "is kept between runs."
)
SCOPE_DEFAULT = (
    "Without --scope: with --live the scope is read from the token; without --live it is "
    "readonly, so a write needs the scope named."
)
PASSED_THROUGH_HELP = {
    "fake-server": (
        "fly_tools.cli.commands:run_fake_server",
        "serve the fake Fly API over HTTP (`fly-tools fake-server --help`)",
    ),
    "token": (
        "fly_tools.cli.token:run_token",
        "narrow the Fly token, or ask Fly what it allows (`fly-tools token --help`)",
    ),
    "approvals": (
        "fly_tools.cli.approvals:run_approvals",
        "answer gated calls waiting in an approvals store (`fly-tools approvals --help`)",
    ),
    "mcp": (
        "fly_tools.cli.commands:run_mcp",
        "serve the toolkit to MCP hosts (needs fly-tools[mcp]; `fly-tools mcp --help`)",
    ),
}
PASSED_THROUGH = {name: handler for name, (handler, _) in PASSED_THROUGH_HELP.items()}
"""Commands whose arguments go, unparsed, to their own command line."""
CONFIRM_TIMEOUT_HELP = (
    "seconds to wait for an approval before it counts as rejected (default: no limit at a terminal)"
)
AddCommand = Callable[..., argparse.ArgumentParser]
"""The subcommands' ``add_parser``: it makes one command's parser (its class is argparse's own)."""
EXIT_CODES = "Exit status: 0 done; 1 the call failed, was refused or was rejected; 2 usage error."


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per job; each names its handler as ``module:function``."""
    from fly_tools import __version__

    parser = argparse.ArgumentParser(
        prog="fly-tools",
        description="Fly.io Machines API tools for agents, with an embedded fake Fly API.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"fly-tools {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    _tools_command(commands.add_parser)
    _call_command(commands.add_parser)
    _audit_command(commands.add_parser)
    _demo_command(commands.add_parser)
    for name, (handler, summary) in PASSED_THROUGH_HELP.items():
        # No option prefix, so every argument (--help too) is kept for the command's own parser.
        own = commands.add_parser(name, help=summary, add_help=False, prefix_chars="\0")
        own.add_argument("passed", nargs=argparse.REMAINDER)
        own.set_defaults(run=handler)
    return parser


def _tools_command(add_command: AddCommand) -> None:
    tools = add_command(
        "tools",
        help="list the tools a toolkit would give an agent",
        description="List the tools a toolkit with these options would give an agent. "
        + SCOPE_DEFAULT,
        epilog="* marks the tools that pause for a human before they run.",
    )
    toolkit_options(tools)
    _client_options(
        tools, live="read the scope from the token in FLY_API_TOKEN or FLY_ACCESS_TOKEN"
    )
    _json_flag(tools, "the tools as one JSON document")
    tools.set_defaults(run="fly_tools.cli.call:run_tools")


def _call_command(add_command: AddCommand) -> None:
    call = add_command(
        "call",
        help="run one tool through the toolkit's guards and audit",
        description="Run one tool through the same toolkit, guards, approval and audit as an "
        f"agent would. {FAKE_WORLD} {SCOPE_DEFAULT}",
        epilog=f"`fly-tools call TOOL --help` lists the tool's arguments. {EXIT_CODES}",
        add_help=False,
    )
    call.add_argument(
        "-h",
        "--help",
        action=_CallHelp,
        nargs=0,
        default=argparse.SUPPRESS,
        help="show this help, or with a TOOL before it, the tool's arguments",
    )
    call.add_argument(
        "tool", help="tool name, e.g. fly_list_machines (`fly-tools tools` lists them)"
    )
    call.add_argument(
        "--args",
        default="{}",
        metavar="JSON",
        help="the tool's arguments: a JSON object, @FILE to read it from a file, or - for stdin",
    )
    toolkit_options(call)
    call_toolkit_options(call)
    _client_options(
        call,
        live="call the real Fly API: the token in FLY_API_TOKEN or FLY_ACCESS_TOKEN, the "
        "address in FLY_API_HOSTNAME (default https://api.machines.dev). Without it, the "
        "fake's demo world",
    )
    _decision_flags(call, "gated calls")
    call.add_argument(
        "--store",
        metavar="URL",
        help="leave gated calls pending in this approvals store (a path, sqlite:///path or "
        "redis://...) for `fly-tools approvals approve ID`; call again once approved",
    )
    call.add_argument("--audit", metavar="FILE", help="append the audit record to a JSONL file")
    _json_flag(call, "the result, the audit record and the tool's full answer as JSON")
    call.set_defaults(run="fly_tools.cli.call:run_call")


class _CallHelp(argparse.Action):
    """``call --help``: the command's options; ``call TOOL --help``: the tool's arguments."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        tool = getattr(namespace, "tool", None)
        if not tool:
            parser.print_help()
            parser.exit()
        # Only here is the catalogue (and pydantic with it) imported: plain --help stays fast.
        from fly_tools.cli.options import endpoint
        from fly_tools.cli.toolhelp import tool_help
        from fly_tools.cli.usage import UsageError

        try:
            print(tool_help(endpoint(tool)))
        except UsageError as exc:
            parser.exit(2, f"fly-tools: {exc}\n")
        parser.exit()


def call_toolkit_options(
    call: argparse.ArgumentParser,
    *,
    confirm_timeout_help: str = CONFIRM_TIMEOUT_HELP,
) -> None:
    """The toolkit options of commands that run calls (``call``, ``mcp``): approval time, programs, agent.

    Args:
        call: the command's parser.
        confirm_timeout_help: ``--confirm-timeout`` as it applies to the command.
    """
    call.add_argument("--confirm-timeout", type=float, metavar="SECONDS", help=confirm_timeout_help)
    call.add_argument(
        "--exec-commands",
        action="append",
        metavar="PROGRAM[,PROGRAM]",
        help="programs fly_exec_machine may run (default: any)",
    )
    call.add_argument("--agent-id", "--agent", dest="agent_id", help="agent id in the audit record")


def _audit_command(add_command: AddCommand) -> None:
    audit = add_command(
        "audit",
        help="print an audit file as a plain-English trail",
        description="Print an audit file as a numbered plain-English trail, filtered.",
    )
    audit.add_argument("file", help="a JSONL file written by --audit or JsonlSink")
    audit.add_argument("--agent", help="only this agent's records")
    audit.add_argument(
        "--decision",
        choices=DECISIONS,
        metavar="DECISION",
        help=f"only this decision: {', '.join(DECISIONS)}",
    )
    audit.add_argument("--tool", help="only calls of this tool")
    audit.add_argument(
        "--since",
        metavar="WHEN",
        help="only records from this time on: an ISO-8601 time or date (2026-05-01T12:00Z), "
        "or a duration back from now (90s, 15m, 2h, 7d)",
    )
    _json_flag(audit, "the matching records as one JSON document")
    audit.set_defaults(run="fly_tools.cli.commands:run_audit")


def _demo_command(add_command: AddCommand) -> None:
    demo = add_command(
        "demo",
        help="an agent tends app web on the fake Fly API",
        description="An agent tends an app on the fake Fly API and pauses before the one "
        "destructive call; --live reports on a real app instead, read-only.",
    )
    _decision_flags(demo, "the delete the agent pauses before")
    demo.add_argument(
        "--live",
        action="store_true",
        help="read-only report on real Fly (token in FLY_API_TOKEN or FLY_ACCESS_TOKEN)",
    )
    demo.add_argument("--app", help="app to work on (fake: web or worker; live: required)")
    timeout_flag(demo)
    demo.add_argument(
        "--store",
        metavar="URL",
        help="leave the delete pending in this approvals store (SQLite path or redis:// URL) "
        "and exit; answer it with `fly-tools approvals`, then run the demo again",
    )
    demo.set_defaults(run="fly_tools.cli.commands:run_demo")


def toolkit_options(parser: argparse.ArgumentParser) -> None:
    """The toolkit's options, named as its Python arguments are (``tools``, ``call``, ``mcp``)."""
    kit = parser.add_argument_group("toolkit (the same options as FlyToolkit)")
    kit.add_argument(
        "--scope",
        choices=SCOPES,
        help="the token's scope (with --live: read from the token; else: readonly)",
    )
    kit.add_argument("--app", help="bind every tool to this app")
    kit.add_argument("--policy", metavar="FILE", help="per-agent policy (.toml/.json/.yaml)")
    names = "comma-separated, or the flag repeated"
    kit.add_argument(
        "--groups",
        action="append",
        metavar="GROUP[,GROUP]",
        help=f"only these groups, in place of the default ones ({', '.join(GROUPS)}); {names}",
    )
    kit.add_argument("--max-risk", choices=TIERS, help="only tools at or below this tier")
    kit.add_argument(
        "--include",
        action="append",
        metavar="TOOL[,TOOL]",
        help=f"only these tools, from any group (with --groups: from those groups); {names}",
    )
    kit.add_argument(
        "--exclude", action="append", metavar="TOOL[,TOOL]", help=f"never these tools; {names}"
    )
    kit.add_argument(
        "--confirm-at",
        choices=TIERS,
        help="the lowest tier that pauses for a human (default: destructive)",
    )
    kit.add_argument(
        "--check-scope",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="before the first change, ask Fly what the token may do and refuse a toolkit "
        "wider than it (default: on)",
    )
    kit.add_argument(
        "--attenuate",
        action="store_true",
        help="send every request on a Fly token narrowed to the toolkit's reach, and each "
        "allowed call on a one-call token, so Fly refuses what the toolkit would (needs "
        "fly-tools[macaroons]; default: off)",
    )


def _client_options(parser: argparse.ArgumentParser, *, live: str) -> None:
    parser.add_argument("--live", action="store_true", help=live)
    parser.add_argument(
        "--limiter",
        metavar="URL",
        help="share Fly's rate limits through this limiter (memory, or a redis:// URL)",
    )
    timeout_flag(parser)


def timeout_flag(parser: argparse.ArgumentParser) -> None:
    """``--timeout``: the per-request timeout of every client a command makes."""
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="seconds each request to Fly may take (default: FLY_TOOLS_TIMEOUT, else 30)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _decision_flags(parser: argparse.ArgumentParser, what: str) -> None:
    flags = parser.add_mutually_exclusive_group()
    flags.add_argument("--yes", action="store_true", help=f"approve {what} without asking")
    flags.add_argument("--no", action="store_true", help=f"reject {what} without asking")


def _json_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--json", action="store_true", help=f"print {what} on stdout; errors stay on stderr"
    )
