"""``python -m fly_tools.testing``: serve the fake Fly API over HTTP on loopback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fly_tools.testing.clock import FakeClock
from fly_tools.testing.fake import FakeFly
from fly_tools.testing.server import base_url, bind, make_server


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, print the base URL and one token per scope, then serve."""
    parser = argparse.ArgumentParser(
        prog="python -m fly_tools.testing", description="Serve the fake Fly Machines API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=4280, help="port (0 picks a free one)")
    parser.add_argument("--demo", action="store_true", help="seed the demo world")
    parser.add_argument(
        "--rate-limits", action="store_true", help="enforce Fly's per-action rate limits"
    )
    parser.add_argument(
        "--time-scale", type=float, default=1.0,
        help="fake seconds per real second for transitions and limits (default 1)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    clock = FakeClock.real(scale=args.time_scale)
    fake = (FakeFly.demo if args.demo else FakeFly)(clock=clock, rate_limits=args.rate_limits)
    sock = bind(args.host, args.port)
    print(f"Fake Fly Machines API at {base_url(sock)} (paths under /v1)")
    print(f"  export FLY_API_HOSTNAME={base_url(sock)}")
    for scope, token in fake.tokens.items():
        print(f"  {scope:<13} token: {token}")
    sys.stdout.flush()
    make_server(fake.asgi_app(), log_level="info").run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
