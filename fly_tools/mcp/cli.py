"""``fly-tools mcp``: serve a scoped toolkit to MCP hosts over stdio (default) or Streamable HTTP.

Exit status: 0 stopped normally; 2 the command could not run as given (usage,
configuration, an address in use). Without ``--live`` it serves the fake Fly API's demo
world, so it runs offline. The Fly token is read from the environment only, never from
an MCP client.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from fly_tools.cli.options import app_name
from fly_tools.cli.options import policy as load_policy
from fly_tools.cli.usage import UsageError
from fly_tools.client import AsyncFlyClient, ConfigurationError
from fly_tools.client.errors import CREDENTIALS_HINT
from fly_tools.client.settings import TOKEN_ENV_VARS
from fly_tools.guards import AuditLog, ConfirmHook, JsonlSink, MemorySink
from fly_tools.risk import SCOPES, RiskTier
from fly_tools.toolkit import FlyToolkit

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
AGENT_ID = "fly-tools-mcp"
"""The agent id in audit records when no policy names one."""
DEFAULT_PORT = 8000


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fly-tools mcp`` with ``argv`` (the arguments after ``mcp``); returns the exit status."""
    options = build_parser().parse_args(argv)
    try:
        toolkit = build_toolkit(options)
        if options.http:
            serve_http(toolkit, options, sys.stdout)
        else:
            serve_stdio(toolkit, options, sys.stderr)
    except UsageError as exc:
        print(f"fly-tools mcp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fly-tools mcp: stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The options of ``fly-tools mcp``."""
    parser = argparse.ArgumentParser(
        prog="fly-tools mcp",
        description="Serve a scoped, audited Fly.io toolkit to MCP hosts (stdio by default).",
    )
    parser.add_argument("--scope", required=True, choices=SCOPES, help="the token's scope")
    parser.add_argument("--app", help="bind every tool to this app")
    parser.add_argument("--policy", metavar="FILE", help="per-agent policy (.toml/.json/.yaml)")
    parser.add_argument(
        "--max-risk", choices=[t.label for t in RiskTier], help="only tools up to this tier"
    )
    parser.add_argument("--audit", metavar="FILE", help="append audit records to a JSONL file")
    parser.add_argument(
        "--live", action="store_true", help="call the real Fly API (token from FLY_API_TOKEN)"
    )
    parser.add_argument(
        "--store", metavar="URL",
        help="answer gated calls with 'pending approval ID' and keep them in this approvals "
        "store (a path, sqlite:///path or redis://...) for `fly-tools approvals approve ID`, "
        "instead of asking through the client",
    )  # fmt: skip
    parser.add_argument("--http", action="store_true", help="serve Streamable HTTP, not stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP address (default loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP port (default 8000)")
    parser.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="a browser origin allowed to call the HTTP endpoint (repeatable; default none)",
    )  # fmt: skip
    return parser


def build_toolkit(options: argparse.Namespace) -> FlyToolkit:
    """The toolkit the options describe, on the fake demo world unless ``--live``.

    Raises:
        UsageError: a bad app name, policy, filter, or a missing Fly token with ``--live``.
    """
    app = app_name(options.app)
    policy = load_policy(options.policy)
    client = _live_client() if options.live else _fake_client(options.scope, app)
    audit = AuditLog(JsonlSink(options.audit)) if options.audit else AuditLog(MemorySink())
    try:
        return FlyToolkit(
            client=client,
            scope=options.scope,
            app=app,
            policy=policy,
            max_risk=options.max_risk,
            agent_id=policy.agent_id if policy and policy.agent_id else AGENT_ID,
            audit=audit,
        )
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None


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
    if not any(os.environ.get(name, "").strip() for name in TOKEN_ENV_VARS):
        raise UsageError(f"--live needs a Fly API token: {CREDENTIALS_HINT}")
    try:
        return AsyncFlyClient.from_env()
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def describe(toolkit: FlyToolkit, options: argparse.Namespace) -> str:
    """One line saying what is served: tools, scope, app, and which Fly API."""
    bound = f", app {toolkit.app}" if toolkit.app else ""
    world = "the real Fly API" if options.live else "the fake Fly API (demo world, offline)"
    return f"{len(toolkit.get_tools())} tools ({toolkit.scope} scope{bound}) on {world}"


# ---------------------------------------------------------------- transports


def serve_stdio(toolkit: FlyToolkit, options: argparse.Namespace, log: TextIO) -> None:
    """Serve over stdin/stdout until the client closes them; stdout carries only MCP."""
    import anyio

    from fly_tools.mcp.server import build_server
    from fly_tools.mcp.stopping import serve_until_stopped

    server = build_server(toolkit, approvals=store_approval(options))
    print(f"fly-tools mcp: serving {describe(toolkit, options)} over stdio", file=log, flush=True)
    stopped = anyio.run(serve_until_stopped, server.run_stdio_async)
    if stopped is not None:  # calls in flight are recorded; exit as the signal asked
        print(f"fly-tools mcp: stopped by signal {stopped}", file=log, flush=True)
        raise SystemExit(128 + stopped)


def serve_http(toolkit: FlyToolkit, options: argparse.Namespace, out: TextIO) -> None:
    """Serve Streamable HTTP at ``http://HOST:PORT/mcp`` until interrupted."""
    import uvicorn

    from fly_tools.mcp.http import MCP_PATH, TOKEN_ENV, http_app, is_loopback, new_token
    from fly_tools.mcp.server import build_server

    given = os.environ.get(TOKEN_ENV, "").strip()
    if given and given in {os.environ.get(name, "").strip() for name in TOKEN_ENV_VARS}:
        raise UsageError(f"{TOKEN_ENV} must not be the Fly API token; choose a separate secret")
    token = given or new_token()
    try:
        app = http_app(
            build_server(toolkit, approvals=store_approval(options)),
            token=token,
            host=options.host,
            origins=options.allow_origin,
        )
    except ValueError as exc:
        raise UsageError(f"{TOKEN_ENV}: {exc}") from None
    host = f"[{options.host}]" if ":" in options.host else options.host
    lines = [
        f"fly-tools mcp: serving {describe(toolkit, options)}",
        f"  URL:   http://{host}:{options.port}{MCP_PATH}",
        f"  Token: {'(from ' + TOKEN_ENV + ')' if given else token}",
        "  Clients send: Authorization: Bearer <token>. Ctrl-C stops the server.",
    ]
    if not is_loopback(options.host):
        lines.append(f"  Warning: {options.host} is not loopback; other machines can reach it.")
    print("\n".join(lines), file=out, flush=True)
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning")
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        raise UsageError(
            f"cannot serve on {options.host}:{options.port}: {exc.strerror or exc}"
        ) from None
    if not server.started:
        raise UsageError(f"cannot serve on {options.host}:{options.port}")
