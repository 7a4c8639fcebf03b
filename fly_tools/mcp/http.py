"""Streamable HTTP for the MCP server: Host and Origin checked, CORS, a bearer token on the endpoint."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Sequence

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})  # noqa: S104 (names, not a bind)
"""Bind addresses meaning "every interface": they name no host a client would send."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_EXPOSED = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate"
CORS_MAX_AGE = "600"


def allowed_hosts(host: str, extra: Sequence[str] = ()) -> list[str]:
    """The ``Host`` names this server answers to (lower-case, without ports).

    Loopback names always (a bound address is reachable by them only from this machine);
    the address served, unless it is a wildcard such as ``0.0.0.0``; and ``extra``: the
    ``--allow-host`` names a container or VM is reached by.
    """
    names = list(LOOPBACK_NAMES)
    if host.strip().lower() not in WILDCARD_HOSTS and not is_loopback(host):
        names.append(_host_header(host.strip()).lower())
    for name in extra:
        cleaned = name.strip().lower()
        if not cleaned or "/" in cleaned:
            raise ValueError(f"--allow-host {name!r} is not a host name or address")
        names.append(_host_header(cleaned))
    return list(dict.fromkeys(names))


def _host_header(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port: ``web.internal:8000`` -> ``web.internal``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def http_app(
    server: MCPServer,
    *,
    token: str,
    host: str = "127.0.0.1",
    origins: Sequence[str] = (),
    allow_hosts: Sequence[str] = (),
) -> ASGIApp:
    """The server as an ASGI app: Streamable HTTP at ``/mcp``, every request needs ``token``.

    Args:
        server: the MCP server (see :func:`fly_tools.mcp.build_server`).
        token: the bearer token clients must send (``Authorization: Bearer <token>``).
        host: the address it will be served on (for the ``Host`` check).
        origins: browser origins allowed to call it (default none).
        allow_hosts: more ``Host`` names it answers to (``--allow-host``).

    Raises:
        ValueError: an empty or short token, or a bad ``--allow-host`` name.
    """
    if len(token) < 16:
        raise ValueError(f"{TOKEN_ENV}: the MCP bearer token must be at least 16 characters")
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        # Host and Origin are checked by HttpGates below, with their own clear answers;
        # the SDK's check would refuse the same requests with a bare "Invalid Host header".
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host=host,
    )
    return HttpGates(app, token, hosts=allowed_hosts(host, allow_hosts), origins=origins)


class HttpGates:
    """ASGI middleware: the ``Host``, ``Origin`` and bearer-token checks, and CORS.

    In order: a ``Host`` not served gets 421 naming ``--allow-host``; a browser ``Origin``
    not allowed gets 403; a CORS preflight (``OPTIONS``) from an allowed origin is answered
    here, before the token gate, since browsers never send credentials with it; any other
    request without ``Authorization: Bearer <token>`` (scheme in any case) gets 401. Answers
    to an allowed origin carry ``Access-Control-Allow-Origin``. The token is compared in
    constant time. Lifespan events pass through, so the app starts normally.
    """

    def __init__(
        self, app: ASGIApp, token: str, *, hosts: Sequence[str], origins: Sequence[str] = ()
    ) -> None:
        self.app = app
        self._expected = token.encode()
        self.hosts = frozenset(hosts)
        self.origins = frozenset(origins)

    def __repr__(self) -> str:
        return (
            f"HttpGates(hosts={sorted(self.hosts)}, origins={sorted(self.origins)}, <token hidden>)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        refusal = self._refusal(scope, headers, origin)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, _with_cors(send, origin) if origin else send)

    def _refusal(self, scope: Scope, headers: Headers, origin: str | None) -> Response | None:
        """The answer that stops the request here, or ``None`` to pass it on."""
        given_host = headers.get("host", "")
        if host_name(given_host) not in self.hosts:
            return _refused(421, "misdirected_request", _host_refusal(given_host, self.hosts))
        if origin is not None and origin not in self.origins:
            why = f"origin {origin} may not call this server; start it with --allow-origin {origin}"
            return _refused(403, "forbidden_origin", why)
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            return _preflight(origin, headers.get("access-control-request-headers"))
        if not self._authorized(headers):
            response = _refused(401, "unauthorized", "send Authorization: Bearer <token>")
            response.headers["WWW-Authenticate"] = 'Bearer realm="fly-tools"'
            if origin:
                _cors_headers(response.headers, origin)
            return response
        return None

    def _authorized(self, headers: Headers) -> bool:
        scheme, _, credentials = headers.get("authorization", "").strip().partition(" ")
        # RFC 7235: the scheme is case-insensitive; the token is compared exactly.
        bearer = scheme.lower() == "bearer"
        return hmac.compare_digest(credentials.strip().encode(), self._expected) and bearer


def _host_refusal(given: str, hosts: frozenset[str]) -> str:
    name = "".join(ch for ch in host_name(given)[:100] if ch.isprintable()) or "(none)"
    served = ", ".join(sorted(hosts))
    return (
        f"Host {name} is not served here (it answers to {served}); to reach it by this "
        f"name, start it with --allow-host {name}"
    )


def _refused(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _preflight(origin: str, requested: str | None) -> Response:
    response = Response(status_code=204)
    _cors_headers(response.headers, origin)
    response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
    if requested:
        response.headers["Access-Control-Allow-Headers"] = requested
    response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def _cors_headers(headers: MutableHeaders, origin: str) -> None:
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
    headers["Vary"] = "Origin"


def _with_cors(send: Send, origin: str) -> Send:
    """``send``, adding the CORS headers to the response's start (the origin was allowed)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            _cors_headers(MutableHeaders(scope=message), origin)
        await send(message)

    return sending
