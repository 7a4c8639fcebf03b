"""Stopping on a signal: SIGINT (Ctrl-C) exits 130 and SIGTERM 143, with one line, no traceback."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
"""128 + the signal's number, as shells report a process a signal ended."""

_T = TypeVar("_T")


class Terminated(BaseException):
    """SIGTERM arrived. Like ``KeyboardInterrupt`` it is no ``Exception``, so no handler keeps it."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def install() -> None:
    """SIGTERM raises :class:`Terminated` from now on (SIGINT already raises ``KeyboardInterrupt``).

    Only the main thread may set handlers; elsewhere (a test running ``main``) nothing changes.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


def until_stopped(run: Callable[[], _T], say: Callable[[str], None]) -> _T | int:
    """``run()``; on SIGINT or SIGTERM say so in one line and return the exit status instead."""
    install()
    try:
        return run()
    except KeyboardInterrupt:
        say("stopped (interrupted)")
        return EXIT_INTERRUPTED
    except Terminated:
        say("stopped (terminated)")
        return EXIT_TERMINATED
