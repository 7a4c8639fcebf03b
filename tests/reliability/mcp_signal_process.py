"""A stdio MCP server whose gated call stalls at one step, for the signal tests.

``python -m tests.reliability.mcp_signal_process AUDIT MARKER STEP``: serves a deploy
toolkit bound to app ``web`` over stdio, as ``fly-tools mcp`` does (the same
:func:`~fly_tools.mcp.stopping.serve_until_stopped`). At ``STEP`` (``approval``: while
the approver deliberates; ``send``: after the DELETE reached the fake, before its answer)
it creates ``MARKER`` and waits forever, so the test can signal it there.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import anyio
import httpx

from fly_tools import AuditLog, FlyToolkit, JsonlSink
from fly_tools.guards import ActionRequest, Approve, Decision
from fly_tools.mcp import build_server
from fly_tools.mcp.stopping import serve_until_stopped
from fly_tools.testing import FakeFly


def main(audit: str, marker: str, step: str) -> int:
    fake = FakeFly.demo()

    class Stalling(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await fake.transport().handle_async_request(request)
            if step == "send" and request.method == "DELETE":
                Path(marker).touch()
                await asyncio.sleep(3600)
            return response

    async def approver(request: ActionRequest) -> Decision:
        if step == "approval":
            Path(marker).touch()
            await asyncio.sleep(3600)
        return Approve(by="approver")

    toolkit = FlyToolkit(
        client=fake.async_client(scope="deploy", app="web", transport=Stalling()),
        scope="deploy",
        app="web",
        audit=AuditLog(JsonlSink(audit)),
        confirm_timeout=None,
    )
    server = build_server(toolkit, approvals=approver)
    stopped = anyio.run(serve_until_stopped, server.run_stdio_async)
    return 128 + stopped if stopped is not None else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
