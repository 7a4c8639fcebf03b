"""``fly-tools mcp``: serve a scoped toolkit to MCP hosts over stdio (default) or Streamable HTTP.

Exit status: 0 stopped normally (the client closed the connection); 2 the command could
not run as given (usage, configuration, an address in use); 130 interrupted (SIGINT,
Ctrl-C); 143 terminated (SIGTERM). Without ``--live`` it serves the fake Fly API's demo
world, so it runs offline. The Fly token is read from the environment only, never from
an MCP client. ``fly-tools mcp config`` prints the block a host needs to start it.

Heavy modules (the MCP SDK, LangChain) are imported only once the signal handlers are
set, so a Ctrl-C during start-up is one line too, not an import traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from fly_tools.cli.parser import (
    SCOPE_DEFAULT,
    call_toolkit_options,
    timeout_flag,
    toolkit_options,
)
from fly_tools.cli.usage import UsageError
from fly_tools.mcp.stopping import EXIT_INTERRUPTED, EXIT_TERMINATED, leave, until_stopped

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from fly_tools.client import AsyncFlyClient
    from fly_tools.guards import ConfirmHook
    from fly_tools.toolkit import FlyToolkit

EXIT_OK, EXIT_USAGE = 0, 2
AGENT_ID = "fly-tools-mcp"
"""The agent id in audit records when neither ``--agent-id`` nor the policy names one."""
DEFAULT_PORT = 8000
FORMS = (
    "Tools that pause for a human (--confirm-at; default: destructive) are listed only to "
    "clients that declared form elicitation, the only ones that can ask their user; with "
    "--store they are listed to every client and wait in the store for `fly-tools approvals`."
)
EPILOG = (
    "Exit status: 0 the client closed the connection; 2 usage error; 130 interrupted "
    "(Ctrl-C); 143 terminated (SIGTERM). `fly-tools mcp config --help`: the block a host "
    "(Claude Desktop, VS Code, Cursor) needs to start this server."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fly-tools mcp`` with ``argv`` (the arguments after ``mcp``); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if config_arguments(args) is not None:
        from fly_tools.mcp.config import main as config_main

        return config_main(config_arguments(args) or [], build_parser)
    code = until_stopped(lambda: _serve(args), _say)
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        leave(code)  # not waiting on the thread still reading stdin
    return code


def _say(text: str) -> None:
    print(f"fly-tools mcp: {text}", file=sys.stderr, flush=True)


def _serve(argv: list[str]) -> int:
    options = build_parser().parse_args(argv)
    if options.timeout is not None:  # every client the server makes reads it
        os.environ["FLY_TOOLS_TIMEOUT"] = str(options.timeout)
    try:
        toolkit = build_toolkit(options)
        if options.http:
            serve_http(toolkit, options, sys.stdout)
        else:
            serve_stdio(toolkit, options, sys.stderr)
    except UsageError as exc:
        _say(str(exc))
        return EXIT_USAGE
    return EXIT_OK


def config_arguments(argv: Sequence[str]) -> list[str] | None:
    """The arguments of ``mcp config ...``, or ``None`` when ``argv`` serves.

    ``fly-tools mcp`` may have put ``--scope S`` in front (its default scope).
    """
    rest = list(argv)
    while rest[:1] and rest[0].startswith("--scope"):
        rest = rest[1:] if "=" in rest[0] else rest[2:]
    return rest[1:] if rest[:1] == ["config"] else None


def build_parser() -> argparse.ArgumentParser:
    """The options of ``fly-tools mcp``: the toolkit's (as ``tools``/``call``), then serving."""
    parser = argparse.ArgumentParser(
        prog="fly-tools mcp",
        usage="%(prog)s [options]  |  %(prog)s config [--host HOST] [options]",
        description="Serve a scoped, audited Fly.io toolkit to MCP hosts (stdio by default). "
        f"{SCOPE_DEFAULT} {FORMS}",
        epilog=EPILOG,
    )
    toolkit_options(parser)
    call_toolkit_options(  # the shared option, said as it applies over MCP
        parser,
        confirm_timeout_help="seconds a user has to answer an approval form (default: 300)",
    )
    parser.add_argument("--audit", metavar="FILE", help="append audit records to a JSONL file")
    parser.add_argument(
        "--live", action="store_true", help="call the real Fly API (token from FLY_API_TOKEN)"
    )
    timeout_flag(parser)
    parser.add_argument(
        "--store",
        metavar="URL",
        help="answer gated calls with 'pending approval ID' and keep them in this approvals "
        "store (a path, sqlite:///path or redis://...) for `fly-tools approvals approve ID`, "
        "instead of asking through the client",
    )
    serving = parser.add_argument_group("Streamable HTTP")
    serving.add_argument("--http", action="store_true", help="serve Streamable HTTP, not stdio")
    serving.add_argument("--host", default="127.0.0.1", help="HTTP address (default loopback)")
    serving.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP port (default 8000)")
    serving.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name the HTTP endpoint answers to besides loopback and --host, e.g. "
        "the container's or VM's name (repeatable)",
    )
    serving.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed to call the HTTP endpoint (repeatable; default none)",
    )
    return parser


def build_toolkit(options: argparse.Namespace) -> FlyToolkit:
    """The toolkit the options describe, on the fake demo world unless ``--live``.

    Raises:
        UsageError: a bad app name, policy or filter, options that leave no tools, or a
            missing Fly token with ``--live``.
    """
    from fly_tools.cli import options as shared
    from fly_tools.guards import AuditLog, JsonlSink, MemorySink
    from fly_tools.risk import parse_scope

    scope = parse_scope(options.scope or default_scope(options.live))
    client = _live_client() if options.live else _fake_client(scope, shared.app_name(options.app))
    if options.agent_id is None:
        policy = shared.policy(options.policy)
        options.agent_id = policy.agent_id if policy and policy.agent_id else AGENT_ID
    audit = AuditLog(JsonlSink(options.audit)) if options.audit else AuditLog(MemorySink())
    return shared.toolkit(options, client, scope, audit=audit)


def default_scope(live: bool) -> str:
    """Without ``--scope``: the token's scope with ``--live``, else readonly (as ``call``)."""
    from fly_tools.cli import options as shared

    if not live:
        return shared.DEFAULT_SCOPE
    return shared.scope_of_token(shared.live_client())


def store_approval(options: argparse.Namespace) -> ConfirmHook | None:
    """``--store``: the hook that leaves gated calls pending in that store, else ``None``."""
    if not getattr(options, "store", None):
        return None
    from fly_tools.approvals import ApprovalError, StoreApproval

    try:
        return StoreApproval(options.store)
    except ApprovalError as exc:
        raise UsageError(str(exc)) from None


def _fake_client(scope: str, app: str | None) -> AsyncFlyClient:
    from fly_tools.testing import FakeFly

    return FakeFly.demo().async_client(scope=scope, app=app)


def _live_client() -> AsyncFlyClient:
    from fly_tools.cli.options import LIVE_NEEDS_TOKEN
    from fly_tools.client import AsyncFlyClient, ConfigurationError
    from fly_tools.client.settings import TOKEN_ENV_VARS

    if not any(os.environ.get(name, "").strip() for name in TOKEN_ENV_VARS):
        raise UsageError(LIVE_NEEDS_TOKEN)
    try:
        return AsyncFlyClient.from_env()
    except ConfigurationError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None


def describe(toolkit: FlyToolkit, options: argparse.Namespace) -> str:
    """One line saying what is served: tools, scope, app, and which Fly API."""
    bound = f", app {toolkit.app}" if toolkit.app else ""
    world = "the real Fly API" if options.live else "the fake Fly API (demo world, offline)"
    return f"{len(toolkit.get_tools())} tools ({toolkit.scope} scope{bound}) on {world}"


# ---------------------------------------------------------------- transports


def _server(toolkit: FlyToolkit, options: argparse.Namespace) -> MCPServer:
    from fly_tools.mcp.approval import DEFAULT_TTL
    from fly_tools.mcp.server import build_server

    ttl = options.confirm_timeout
    if ttl is not None and ttl <= 0:
        raise UsageError("--confirm-timeout must be a number of seconds above 0")
    return build_server(toolkit, approvals=store_approval(options), approval_ttl=ttl or DEFAULT_TTL)


def serve_stdio(toolkit: FlyToolkit, options: argparse.Namespace, log: TextIO) -> None:
    """Serve over stdin/stdout until the client closes them; stdout carries only MCP."""
    import anyio

    from fly_tools.mcp.stopping import raise_for, serve_until_stopped

    server = _server(toolkit, options)
    print(f"fly-tools mcp: serving {describe(toolkit, options)} over stdio", file=log, flush=True)
    stopped = anyio.run(serve_until_stopped, server.run_stdio_async)
    if stopped is not None:  # calls in flight are recorded; exit as the signal asks
        raise_for(stopped)


def serve_http(toolkit: FlyToolkit, options: argparse.Namespace, out: TextIO) -> None:
    """Serve Streamable HTTP at ``http://HOST:PORT/mcp`` until interrupted."""
    from fly_tools.client.settings import TOKEN_ENV_VARS
    from fly_tools.mcp.http import (
        MCP_PATH,
        TOKEN_ENV,
        allowed_hosts,
        http_app,
        is_loopback,
        new_token,
    )
    from fly_tools.mcp.serving import run_uvicorn

    given = os.environ.get(TOKEN_ENV, "").strip()
    if given and given in {os.environ.get(name, "").strip() for name in TOKEN_ENV_VARS}:
        raise UsageError(f"{TOKEN_ENV} must not be the Fly API token; choose a separate secret")
    token = given or new_token()
    server = _server(toolkit, options)
    try:
        app = http_app(
            server,
            token=token,
            host=options.host,
            origins=options.allow_origin,
            allow_hosts=options.allow_host,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    host = f"[{options.host}]" if ":" in options.host else options.host
    lines = [
        f"fly-tools mcp: serving {describe(toolkit, options)}",
        f"  URL:   http://{host}:{options.port}{MCP_PATH}",
        f"  Token: {'(from ' + TOKEN_ENV + ')' if given else token}",
        "  Clients send: Authorization: Bearer <token>. Ctrl-C stops the server.",
    ]
    if not is_loopback(options.host):
        lines.append(f"  Warning: {options.host} is not loopback; other machines can reach it.")
        names = ", ".join(allowed_hosts(options.host, options.allow_host))
        lines.append(f"  Host names answered: {names} (add one with --allow-host NAME).")
    print("\n".join(lines), file=out, flush=True)
    run_uvicorn(app, options.host, options.port)
