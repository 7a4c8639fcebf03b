"""The toolkit served over the Model Context Protocol, with approval that fails closed.

    from fly_tools.mcp import build_server

    server = build_server(FlyToolkit(client=client, scope="deploy", app="web"))
    server.run()                 # stdio; or `fly-tools mcp --scope deploy --app web`

Needs the ``mcp`` extra (``pip install 'fly-tools[mcp]'``). ``build_server`` is imported
on first use, so ``python -m fly_tools.mcp`` sets its signal handlers before the SDK loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fly_tools.mcp.server import build_server

__all__ = ["build_server"]


def __getattr__(name: str) -> Any:
    if name == "build_server":
        from fly_tools.mcp.server import build_server

        return build_server
    raise AttributeError(f"module 'fly_tools.mcp' has no attribute {name!r}")
