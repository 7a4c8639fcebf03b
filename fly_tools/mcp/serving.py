"""uvicorn for ``fly-tools mcp --http``: a quiet start, and a stop on SIGINT/SIGTERM without a traceback."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from fly_tools.cli.usage import UsageError
from fly_tools.mcp.stopping import Terminated

GRACE = 3
"""Seconds open streams get to close once a stop is asked for; then they are cut."""


class _Server(uvicorn.Server):
    """uvicorn, stopping on SIGINT/SIGTERM and reporting which one instead of re-raising it.

    uvicorn re-raises the signal once it has stopped, which ends the process from deep
    inside its loop; here the stop is reported to ``run_uvicorn`` as an exception.
    """

    stopped_by: int | None = None

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopped_by = self.stopped_by or signum
        self.force_exit = self.should_exit  # a second signal cuts the grace period
        self.should_exit = True
        # What an open stream says while it is cut is noise, not news, once a stop was asked.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)


def run_uvicorn(app: ASGIApp, host: str, port: int) -> None:
    """Serve ``app`` until a signal; raises ``KeyboardInterrupt``/``Terminated`` for it.

    Raises:
        UsageError: the address cannot be served (in use, not this machine's).
    """
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=GRACE
    )
    server = _Server(config)
    try:
        server.run()
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    if server.stopped_by == signal.SIGINT:
        raise KeyboardInterrupt
    if server.stopped_by == signal.SIGTERM:
        raise Terminated
    if not server.started:
        raise UsageError(f"cannot serve on {host}:{port}")
