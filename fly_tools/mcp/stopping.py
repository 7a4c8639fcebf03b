"""Stopping on a signal: calls in flight recorded first, then SIGINT exits 130 and SIGTERM 143, in one line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import TypeVar

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
"""128 + the signal's number, as shells report a process a signal ended."""

_T = TypeVar("_T")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived.

    A ``KeyboardInterrupt`` so that asyncio lets it through wherever it lands: the event
    loop re-raises those from a callback, but logs and swallows any other
    ``BaseException``, and the server would keep running.
    """


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def install() -> None:
    """From now on SIGINT raises ``KeyboardInterrupt`` and SIGTERM :class:`Terminated`.

    SIGINT gets a handler of its own too: under Python's default one, asyncio's runner
    takes Ctrl-C over and, stopping, waits for the thread still reading stdin, which
    only returns when the client closes it. Only the main thread may set handlers;
    elsewhere (a test running ``main``) nothing changes.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _terminate)


def until_stopped(run: Callable[[], _T], say: Callable[[str], None]) -> _T | int:
    """``run()``; on SIGINT or SIGTERM say so in one line and return the exit status instead."""
    install()
    try:
        return run()
    except Terminated:  # first: it is a KeyboardInterrupt too
        say("stopped (terminated)")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        say("stopped (interrupted)")
        return EXIT_INTERRUPTED


def leave(code: int) -> None:
    """End the process with ``code`` now, without waiting for threads.

    Over stdio a worker thread sits in a blocking read of stdin until the client closes
    it; an ordinary exit waits for that thread, which kept the process alive after
    Ctrl-C. Everything the server wrote is flushed first.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed by the client: nothing to flush
            stream.flush()
    os._exit(code)  # the standard library's one way to exit without waiting for threads


STOP_GRACE = 1.0
"""Seconds calls in flight get to unwind and be recorded after a stop signal."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""What an MCP host sends to stop a stdio server (the spec: close stdin, then SIGTERM)."""


async def serve_until_stopped(serve: Callable[[], Awaitable[None]]) -> int | None:
    """Run ``serve()`` until it returns or a stop signal arrives; the signal, or ``None``.

    Left to its default, SIGTERM ends the process at once: a call whose request was out
    would leave no audit record. Here the signal cancels the server's task instead, so
    each call in flight unwinds through its pipeline, which records it (``unknown`` when
    its request may have reached Fly) before the process exits.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def stop(signum: int) -> None:
        if not received:
            received.append(signum)
            task.cancel()
            # A worker thread blocked reading stdin keeps the task from ending until the
            # client closes it: once calls in flight had their moment to record, leave.
            loop.call_later(STOP_GRACE, raise_for, signum)

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        await serve()
    except asyncio.CancelledError:
        if not received:
            raise
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    return received[0] if received else None


def raise_for(signum: int) -> None:
    """Raise what :func:`until_stopped` turns into the exit status for ``signum``."""
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
