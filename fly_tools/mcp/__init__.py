"""The toolkit served over the Model Context Protocol, with approval that fails closed.

    from fly_tools.mcp import build_server

    server = build_server(FlyToolkit(client=client, scope="deploy", app="web"))
    server.run()                 # stdio; or `fly-tools mcp --scope deploy --app web`

Needs the ``mcp`` extra (``pip install 'fly-tools[mcp]'``).
"""

from fly_tools.mcp.server import build_server

__all__ = ["build_server"]
