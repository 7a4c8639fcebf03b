"""The fake server's command line: one set of options, one banner, and clean stops.

``python -m fly_tools.testing`` and ``fly-tools fake-server`` both run :func:`serve_main`:
one set of options (``--host``, ``--port``, ``--time-scale``, ``--rate-limits``,
``--fault``, ``--empty``), one banner, and explicit SIGINT/SIGTERM handling, so the
server stops on Ctrl-C or ``kill`` even when started with SIGINT ignored (a background
job of a non-interactive shell, some process managers and CI runners).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

from fly_tools.testing.clock import FakeClock
from fly_tools.testing.fake import FakeFly
from fly_tools.testing.faults import Fault

DEFAULT_PORT = 4280
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_FAULT = re.compile(r"^(?P<what>[^x@]+)(?:x(?P<count>\d+))?(?:@(?P<match>.+))?$")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the fake server's options to ``parser`` (shared by both command lines)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        metavar="X",
        help="fake seconds per real second: machines settle and limits refill X times "
        "as fast as on Fly (default 1)",
    )
    parser.add_argument(
        "--rate-limits", action="store_true", help="enforce Fly's per-action rate limits (429)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        type=parse_fault,
        metavar="SPEC",
        help="inject a fault: WHAT[xCOUNT][@MATCH], WHAT one of 503, 429/RETRY_AFTER, "
        "reset, reset-after, slow:SECONDS; MATCH a tool name or 'METHOD /path/*' "
        "(e.g. '503x2@POST /apps/*/machines'); repeatable",
    )
    world = parser.add_mutually_exclusive_group()
    world.add_argument("--empty", action="store_true", help="start with org acme and no apps")
    world.add_argument("--demo", action="store_true", help="the demo world (the default)")


def parse_fault(spec: str) -> tuple[Fault, int, str | None]:
    """``WHAT[xCOUNT][@MATCH]`` as (fault, count, match); argparse reports a ValueError."""
    found = _FAULT.match(spec.strip())
    if found is None:
        raise argparse.ArgumentTypeError(f"not a fault spec: {spec!r}")
    what, count = found["what"].strip(), int(found["count"] or 1)
    try:
        if what in ("reset", "reset-before"):
            fault = Fault.reset(before=True)
        elif what == "reset-after":
            fault = Fault.reset(before=False)
        elif what.startswith("slow:"):
            fault = Fault.slow(float(what.removeprefix("slow:")))
        else:
            code, _, after = what.partition("/")
            fault = Fault.status(int(code), retry_after=float(after) if after else None)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"fault {spec!r}: {exc}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"fault {spec!r}: the count must be at least 1")
    return fault, count, found["match"]


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def build_fake(args: argparse.Namespace) -> FakeFly:
    """The fake the options describe: a real clock, the demo world unless ``--empty``."""
    make = FakeFly if args.empty else FakeFly.demo
    fake = make(clock=FakeClock.real(scale=args.time_scale), rate_limits=args.rate_limits)
    for fault, count, match in args.fault:
        fake.inject(fault, count=count, match=match)
    return fake


def banner(url: str, fake: FakeFly, args: argparse.Namespace) -> str:
    """What the server prints on start: where it is, how time runs, the tokens."""
    world = f"empty org {fake.org}" if args.empty else "demo world: org acme, apps web and worker"
    faults = f"; {len(args.fault)} fault rule(s) pending" if args.fault else ""
    return "\n".join(
        [
            f"Fake Fly Machines API ({world}) at {url}/v1",
            f"Clock: real time x{args.time_scale:g}; rate limits "
            f"{'enforced' if args.rate_limits else 'off'}{faults}",
            "Point a client at it:",
            f"  export FLY_API_HOSTNAME={url}",
            "  export FLY_API_TOKEN=<one of the tokens below>",
            "Tokens (valid only on this fake):",
            *(f"  {scope:<13} {token}" for scope, token in fake.tokens.items()),
            "The deploy token is bound to app web. Ctrl-C stops the server.",
        ]
    )


def serve_main(
    argv: Sequence[str] | None = None,
    *,
    prog: str = "python -m fly_tools.testing",
    stop: threading.Event | None = None,
    out: TextIO | None = None,
) -> int:
    """Parse ``argv``, serve the fake over HTTP until SIGINT/SIGTERM (or ``stop``); exit status.

    Args:
        argv: the command's arguments (default: the process arguments).
        prog: the command's name in usage and error lines.
        stop: set it to stop the server (tests; signals do the same).
        out: where the banner goes (default stdout).

    Returns:
        0 after a clean stop; 2 when the server cannot start (a one-line error on stderr).
    """
    parser = argparse.ArgumentParser(prog=prog, description="Serve the fake Fly Machines API.")
    add_serve_arguments(parser)
    return run_server(parser.parse_args(argv), prog=prog, stop=stop, out=out)


def run_server(
    args: argparse.Namespace,
    *,
    prog: str = "python -m fly_tools.testing",
    stop: threading.Event | None = None,
    out: TextIO | None = None,
) -> int:
    """Serve with options already parsed by a parser given :func:`add_serve_arguments`."""
    fake = build_fake(args)
    stop = stop or threading.Event()
    try:
        with _signals_received() as received, fake.serve(args.host, args.port) as url:
            print(banner(url, fake, args), file=out or sys.stdout, flush=True)
            while not received and not stop.wait(0.2):
                pass
    except ModuleNotFoundError as exc:
        print(
            f"{prog}: serving over HTTP needs {exc.name}: pip install 'fly-tools[serve]'",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:
        print(
            f"{prog}: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    print("fake Fly API stopped", file=sys.stderr, flush=True)
    return 0


@contextmanager
def _signals_received() -> Iterator[list[int]]:
    """Collect SIGINT and SIGTERM while inside, whatever disposition was inherited.

    A process started with SIGINT ignored keeps it ignored and never sees a
    KeyboardInterrupt, so the handlers are installed explicitly. Only the main thread
    may install them; elsewhere the list stays empty and ``stop`` alone ends the server.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        received.append(signum)  # no locks in a handler: the serving loop polls the list

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
