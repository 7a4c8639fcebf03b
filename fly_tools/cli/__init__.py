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
from fly_tools.cli.usage import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fly-tools`` with ``argv`` (default: the process arguments); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
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


def _handler(spec: str) -> Callable[[Any], int]:
    module, _, name = spec.partition(":")
    handler: Callable[[Any], int] = getattr(importlib.import_module(module), name)
    return handler


def _run(handler: Callable[[Any], int], args: Any) -> int:
    try:
        return handler(args)
    except UsageError as exc:
        print(f"fly-tools: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fly-tools: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
