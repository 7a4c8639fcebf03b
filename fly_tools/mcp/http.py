"""Streamable HTTP for the MCP server: a bearer token on the endpoint, Host and Origin checked."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from typing import Any

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_ENV = "FLY_TOOLS_MCP_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""Environment variable holding the bearer token MCP clients must send over HTTP."""
MCP_PATH = "/mcp"


def new_token() -> str:
    """A fresh bearer token for the MCP endpoint (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_security(host: str, origins: Sequence[str] = ()) -> TransportSecuritySettings:
    """Host and Origin checks against DNS rebinding, as the MCP spec requires.

    ``Host`` must name the address served. A browser page may call only from ``origins``
    (none by default); requests without an ``Origin`` header (non-browser clients) pass
    on to the bearer-token check.
    """
    names = ["127.0.0.1", "localhost", "[::1]"] if is_loopback(host) else [_host_header(host)]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in names],
        allowed_origins=list(origins),
    )


def _host_header(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def http_app(
    server: MCPServer, *, token: str, host: str = "127.0.0.1", origins: Sequence[str] = ()
) -> ASGIApp:
    """The server as an ASGI app: Streamable HTTP at ``/mcp``, every request needs ``token``.

    Args:
        server: the MCP server (see :func:`fly_tools.mcp.build_server`).
        token: the bearer token clients must send (``Authorization: Bearer <token>``).
        host: the address it will be served on (for the ``Host`` check).
        origins: browser origins allowed to call it (default none).

    Raises:
        ValueError: an empty or short token.
    """
    if len(token) < 16:
        raise ValueError("the MCP bearer token must be at least 16 characters")
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=transport_security(host, origins),
        host=host,
    )
    return BearerTokenGate(app, token)


class BearerTokenGate:
    """ASGI middleware: HTTP requests without ``Authorization: Bearer <token>`` get 401.

    Compared in constant time. Lifespan events pass through, so the app starts normally.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    def __repr__(self) -> str:
        return "BearerTokenGate(<token hidden>)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorized(scope):
            response = JSONResponse(
                {
                    "error": "unauthorized",
                    "error_description": "send Authorization: Bearer <token>",
                },
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="fly-tools"'},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        given: Any = next((v for k, v in headers if k.lower() == b"authorization"), b"")
        return hmac.compare_digest(bytes(given), self._expected)
