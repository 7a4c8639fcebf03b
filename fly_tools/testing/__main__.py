"""``python -m fly_tools.testing``: serve the fake Fly API over HTTP (same as ``fly-tools fake-server``)."""

from __future__ import annotations

import sys

from fly_tools.testing.command import serve_main

if __name__ == "__main__":
    sys.exit(serve_main())
