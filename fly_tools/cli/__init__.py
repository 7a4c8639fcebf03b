"""The ``fly-tools`` command line: list tools, call one, read audits, run the demo, serve the fake.

Exit status: 0 done; 1 the call failed, was refused or was rejected; 2 the command could
not run as given (usage, configuration, unreadable input); 130 interrupted. Expected
errors are one line on stderr, never a traceback. Only the parser is imported up front:
each command's module (and LangChain with it) is imported when that command runs.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from fly_tools.cli.parser import PASSED_THROUGH, build_parser
from fly_tools.cli.usage import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
)

__all__ = ["LOG_ENV_VAR", "build_parser", "main"]

LOG_ENV_VAR = "FLY_TOOLS_LOG"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fly-tools`` with ``argv`` (default: the process arguments); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _log_from_env()
    parser = build_parser()
    if not argv:
        parser.print_help()
        return EXIT_OK
    args = parser.parse_args(argv)
    if getattr(args, "timeout", None) is not None:
        # Every client the command makes reads it, the toolkit's and the demo's alike.
        os.environ["FLY_TOOLS_TIMEOUT"] = str(args.timeout)
    # A command with its own command line gets its arguments unparsed.
    return _run(_handler(args.run), args.passed if args.command in PASSED_THROUGH else args)


def _log_from_env() -> None:
    """``FLY_TOOLS_LOG=debug`` (or ``info``, ``warning``): the package's logs on stderr.

    Debug shows each request's method, path and status, info each retry; tokens are
    never logged.
    """
    level = os.environ.get(LOG_ENV_VAR, "").strip().upper()
    if not level:
        return
    import logging

    if not isinstance(logging.getLevelName(level), int):
        print(
            f"fly-tools: {LOG_ENV_VAR}={level.lower()} is not a log level; use debug, "
            "info or warning",
            file=sys.stderr,
        )
        return
    package = logging.getLogger("fly_tools")
    package.setLevel(level)
    if not any(getattr(h, "stream", None) is sys.stderr for h in package.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("fly-tools %(levelname)s %(name)s: %(message)s"))
        package.addHandler(handler)


def _handler(spec: str) -> Callable[[Any], int]:
    module, _, name = spec.partition(":")
    handler: Callable[[Any], int] = getattr(importlib.import_module(module), name)
    return handler


def _run(handler: Callable[[Any], int], args: Any) -> int:
    try:
        status = handler(args)
        sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
        return status
    except BrokenPipeError:
        return _stdout_closed()
    except UsageError as exc:
        print(f"fly-tools: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fly-tools: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _stdout_closed() -> int:
    """The reader of stdout went away (``fly-tools tools --json | head -1``): stop quietly.

    Output still buffered would fail again when Python flushes it at exit and print a
    traceback, so stdout is pointed at the null device first.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # a stdout without a file descriptor (tests, embedding)
        pass
    return EXIT_BROKEN_PIPE
