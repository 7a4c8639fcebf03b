"""An agent process: one gated call through a toolkit whose approvals live in a store.

``python agent_process.py STORE TOOL ARGS_JSON`` with ``FLY_API_HOSTNAME`` and
``FLY_API_TOKEN`` set. Prints ``ready``, waits for a line on stdin (so several can start
together), makes the call, prints the outcome as one JSON line, then waits for stdin to
close, as a paused agent would.
"""

from __future__ import annotations

import json
import sys

from fly_tools import FlyToolError, FlyToolkit, StoreApproval


def main(store: str, tool: str, args: str) -> None:
    toolkit = FlyToolkit.from_env("org", confirm=StoreApproval(store), agent_id="ops-bot")
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        content, _ = toolkit.call(tool, json.loads(args))
        outcome = {"sent": True, "text": content}
    except FlyToolError as err:
        outcome = {"sent": False, "text": str(err)}
    print(json.dumps(outcome), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main(*sys.argv[1:4])
