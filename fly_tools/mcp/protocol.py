"""The server as the protocol sees it: only capabilities that exist, per-client tool lists, errors.

- ``prompts`` and ``resources`` are not advertised: there are none, so their methods
  answer "method not found" rather than empty lists behind a promise;
- ``tools/list`` leaves out the tools that pause for a human when the client declared no
  form elicitation, since such a client can never get them approved (every call would be
  a refusal); with an out-of-band approver (``--store``) every client sees them all;
- calling a tool that does not exist is a JSON-RPC error ``-32602`` (invalid params), as
  the specification asks, not a tool result; so is a ``tools/list`` cursor, since the
  list is never paged.

Batches and JSON nested too deep never reach this layer: over HTTP the SDK answers them
with JSON-RPC errors; over stdio it drops them without an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CallToolResult,
    ClientCapabilities,
    InputRequiredResult,
    ListToolsResult,
    PaginatedRequestParams,
)
from mcp_types.jsonrpc import INVALID_PARAMS

UNSERVED = (
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
)
"""Methods the SDK serves by default, whose capability this server does not have."""


def can_ask(capabilities: ClientCapabilities | None) -> bool:
    """Whether the client declared form input (a bare ``elicitation: {}`` means form)."""
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


class ToolkitServer(MCPServer[Any]):
    """An ``MCPServer`` offering tools only, each client the tools it can run.

    Args:
        *args: as ``MCPServer``.
        gated: names of the tools that pause for a human before they run.
        approved_elsewhere: gated calls are approved out of band (an approvals store),
            so clients without forms may call them too.
        on_unknown: called with ``(name, arguments, context)`` before a call to a tool
            this server does not serve is refused (the audit trail records it).
        **kwargs: as ``MCPServer``.
    """

    def __init__(
        self,
        *args: Any,
        gated: frozenset[str],
        approved_elsewhere: bool,
        on_unknown: Callable[[str, dict[str, Any], Context[Any, Any] | None], None] | None = None,
        **kwargs: Any,
    ) -> None:
        # No subscriptions/listen: the tool list never changes while serving.
        super().__init__(*args, subscriptions=False, **kwargs)
        self.gated = gated
        self.approved_elsewhere = approved_elsewhere
        self.on_unknown = on_unknown
        # The SDK can add and look up handlers but not remove them; left registered, prompts
        # and resources would be advertised as capabilities this server does not have.
        handlers = self._lowlevel_server._request_handlers
        for method in UNSERVED:
            handlers.pop(method, None)

    def hidden_from(self, capabilities: ClientCapabilities | None) -> frozenset[str]:
        """The tools a client with these capabilities is not shown."""
        if self.approved_elsewhere or can_ask(capabilities):
            return frozenset()
        return self.gated

    async def _handle_list_tools(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        if params is not None and params.cursor is not None:
            # The list is never paged, so no cursor was ever handed out: any is invalid.
            raise MCPError(INVALID_PARAMS, "invalid cursor: tools/list is not paged; omit it")
        hidden = self.hidden_from(ctx.session.client_capabilities)
        tools = [tool for tool in await self.list_tools() if tool.name not in hidden]
        return ListToolsResult(tools=tools)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool; an unknown name is a protocol error (``-32602``), not a tool result."""
        if self._tool_manager.get_tool(name) is None:
            if self.on_unknown is not None:
                self.on_unknown(name, arguments, context)
            raise MCPError(
                INVALID_PARAMS, f"Unknown tool: {name}; tools/list names the tools", {"name": name}
            )
        return await super().call_tool(name, arguments, context)
