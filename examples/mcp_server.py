"""Serve a scoped toolkit over MCP, and drive it with the MCP SDK's own client.

Run it: ``python examples/mcp_server.py`` (offline, a few seconds). It lists the tools
an MCP host would see, reads machines, and shows that deleting a volume waits for a
human answer: a client that cannot ask is refused, a "decline" sends nothing, and only an
approval with the volume id typed back deletes it. ``python examples/mcp_server.py
--stdio`` serves the same server to a desktop host instead.

Needs: pip install 'fly-tools[mcp]'
(from a clone, `make examples` installs what every example needs).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from mcp import Client
from mcp_types import ElicitResult, TextContent

from fly_tools import FlyToolkit
from fly_tools.mcp import build_server
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA_OLD


def human(action: str, **content: Any) -> Any:
    """A scripted person answering the client's approval form."""

    async def answer(context: Any, params: Any) -> ElicitResult:
        print(f"  [asked] {params.message.splitlines()[0]} -> {action} {content or ''}")
        return ElicitResult(action=action, content=content or None)

    return answer


async def main() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.async_client("deploy", "web"), scope="deploy", app="web")
    server = build_server(toolkit)
    delete = {"volume_id": VOL_DATA_OLD}

    async with Client(server) as client:  # a client that cannot show forms
        tools = (await client.list_tools()).tools
        print(
            f"{len(tools)} tools; destructive: {sum(bool(t.annotations and t.annotations.destructive_hint) for t in tools)}"
        )
        machines = await client.call_tool("fly_list_machines", {})
        assert isinstance(machines.content[0], TextContent)
        print(machines.content[0].text.splitlines()[0])
        refused = await client.call_tool("fly_delete_volume", delete)
        print(
            f"no form support -> error={refused.is_error}: {refused.structured_content['reason'][:60]}..."
        )

    async with Client(server, elicitation_callback=human("decline")) as client:
        declined = await client.call_tool("fly_delete_volume", delete)
        print(f"declined -> error={declined.is_error}")

    approve = human("accept", decision="approve", confirm=VOL_DATA_OLD)
    async with Client(server, elicitation_callback=approve) as client:
        deleted = await client.call_tool("fly_delete_volume", delete)
        assert isinstance(deleted.content[0], TextContent)
        print(f"approved -> {deleted.content[0].text}")

    # POST /tokens/authorize only asks what the token may do; it changes nothing.
    writes = [
        f"{r.method} {r.path}"
        for r in fake.requests
        if r.method != "GET" and not r.path.startswith("/v1/tokens/")
    ]
    print(f"requests that changed something: {writes}")


if __name__ == "__main__":
    if "--stdio" in sys.argv[1:]:
        fake = FakeFly.demo()
        kit = FlyToolkit(client=fake.async_client("deploy", "web"), scope="deploy", app="web")
        build_server(kit).run()
    else:
        asyncio.run(main())
