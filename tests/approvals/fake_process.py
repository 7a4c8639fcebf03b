"""The fake Fly API served over HTTP in its own process, for tests whose agents come and go.

Prints one JSON line (``url``, ``tokens``) once it serves; when its stdin closes it prints
the requests it saw as one JSON line, ``[[method, path], ...]``, and exits. Served by
``FakeFly.serve``, as ``python -m fly_tools.testing`` serves it.
"""

from __future__ import annotations

import json
import sys

from fly_tools.testing import FakeFly
from fly_tools.testing.clock import FakeClock


def main() -> None:
    fake = FakeFly.demo(clock=FakeClock.real())
    with fake.serve("127.0.0.1", 0) as url:
        print(json.dumps({"url": url, "tokens": fake.tokens}), flush=True)
        sys.stdin.read()
    print(json.dumps([[r.method, r.path] for r in fake.requests]), flush=True)


if __name__ == "__main__":
    main()
