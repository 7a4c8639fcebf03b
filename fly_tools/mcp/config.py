"""``fly-tools mcp config``: the block an MCP host needs to start this server, with absolute paths.

Hosts start a stdio server from a JSON block naming a command. A bare ``fly-tools``
works only when it is on the host's own PATH (desktop apps rarely inherit a shell's, and
report ``spawn fly-tools ENOENT``), so the block names this installation's executable by
its absolute path. The Fly token appears only as a placeholder (or, for VS Code, as an
input the editor prompts for and keeps in its secret store).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HOSTS = ("claude", "vscode", "cursor", "generic")
WHERE = {
    "claude": "Claude Desktop: Settings > Developer > Edit Config (claude_desktop_config.json)",
    "vscode": "VS Code: .vscode/mcp.json in the workspace (or MCP: Open User Configuration)",
    "cursor": "Cursor: .cursor/mcp.json in the project, or ~/.cursor/mcp.json",
    "generic": "any host that starts stdio servers from a command, its arguments and env",
}
TOKEN_PLACEHOLDER = "<your Fly API token: fly tokens create deploy -a APP>"  # noqa: S105
VSCODE_INPUT = "fly-api-token"


def build_parser() -> argparse.ArgumentParser:
    """The options of ``fly-tools mcp config``."""
    parser = argparse.ArgumentParser(
        prog="fly-tools mcp config",
        description="Print the JSON block an MCP host needs to start `fly-tools mcp`, naming "
        "this fly-tools by its absolute path. Options after the host's are the server's "
        "(`fly-tools mcp --help`), e.g. --scope deploy --app web --live; with --live the "
        "block carries FLY_API_TOKEN as a placeholder to fill in.",
    )
    parser.add_argument(
        "--host",
        choices=HOSTS,
        default="generic",
        help="the host whose format to print (default: generic)",
    )
    parser.add_argument("--name", default="fly-tools", help="the server's name in the block")
    return parser


def main(argv: Sequence[str], serving_parser: Callable[[], argparse.ArgumentParser]) -> int:
    """Print the block for ``argv`` (``--host``, ``--name``, then the server's options).

    ``serving_parser`` builds ``fly-tools mcp``'s own parser (passed in: the serving
    command imports this module, not the other way round).
    """
    options, served = build_parser().parse_known_args(list(argv))
    serving_parser().parse_args(served)  # a block that cannot start is refused here (exit 2)
    if "--http" in served:
        print(
            "fly-tools mcp config: a host starts the stdio server itself; for --http give the "
            "host the URL and token `fly-tools mcp --http` prints",
            file=sys.stderr,
        )
        return 2
    print(f"// {WHERE[options.host]}", file=sys.stderr)
    print(json.dumps(block(options.host, options.name, served), indent=2))
    return 0


def command() -> list[str]:
    """This installation's ``fly-tools mcp``, by absolute path."""
    invoked = Path(sys.argv[0])
    if invoked.name == "fly-tools" and invoked.exists():
        return [str(invoked.resolve()), "mcp"]
    beside = Path(sys.executable).parent / "fly-tools"
    if beside.exists():
        return [str(beside.absolute()), "mcp"]
    found = shutil.which("fly-tools")
    if found:
        return [str(Path(found).resolve()), "mcp"]
    return [str(Path(sys.executable).absolute()), "-m", "fly_tools.mcp"]


def block(host: str, name: str, served: Sequence[str]) -> dict[str, Any]:
    """The JSON a host reads: command, arguments and environment, in ``host``'s layout."""
    program, *args = command()
    args += list(served)
    live = "--live" in served
    if host == "vscode":
        server: dict[str, Any] = {"type": "stdio", "command": program, "args": args}
        if live:
            server["env"] = {"FLY_API_TOKEN": f"${{input:{VSCODE_INPUT}}}"}
            secret = {
                "type": "promptString",
                "id": VSCODE_INPUT,
                "description": "Fly API token (fly tokens create deploy -a APP)",
                "password": True,
            }
            return {"inputs": [secret], "servers": {name: server}}
        return {"servers": {name: server}}
    entry: dict[str, Any] = {"command": program, "args": args}
    if live:
        entry["env"] = {"FLY_API_TOKEN": TOKEN_PLACEHOLDER}
    return entry if host == "generic" else {"mcpServers": {name: entry}}
