"""Serving an ASGI app over real HTTP: uvicorn on a loopback socket, from a thread.

:meth:`FakeFly.serve` serves the fake with it; the command line that does so is
:mod:`fly_tools.testing.command`. Nothing here knows the fake itself.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fly_tools.testing.http import ConnectionDroppedError


class _HideDroppedConnections(logging.Filter):
    # An injected reset is deliberate, not an application error worth a traceback.
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDroppedError)


_HIDE_DROPPED = _HideDroppedConnections()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP (not 0) lets asyncio set TCP_NODELAY on accepted connections, so
    # keep-alive answers do not wait for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(app: Any, *, log_level: str = "warning") -> Any:
    """A uvicorn server for ``app`` (uvicorn is imported only here)."""
    import uvicorn

    logging.getLogger("uvicorn.error").addFilter(_HIDE_DROPPED)
    config = uvicorn.Config(app, log_level=log_level, lifespan="off", access_log=False)
    # Loaded here, in the caller's thread: the protocol modules uvicorn picks are imported
    # now, not by the server thread racing whatever the caller does next (an async test
    # under blockbuster sees a thread's import lock as a blocking call).
    config.load()
    return uvicorn.Server(config)


def _serve_in_thread(server: Any, sock: socket.socket) -> None:
    # The server thread's whole stack starts here: a test that checks its own event loop
    # for blocking calls (blockbuster) excludes this function, the stand-in for Fly.
    server.run(sockets=[sock])


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` from a background thread; yield its base URL, stop on exit.

    The socket is bound and listening before the URL is handed out, so the first
    request queues until the server takes it: no polling for readiness.
    """
    server = make_server(app)  # fails on a missing uvicorn before any socket is bound
    sock = bind(host, port)
    thread = threading.Thread(
        target=_serve_in_thread, args=(server, sock), name="fake-fly-server", daemon=True
    )
    thread.start()
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
