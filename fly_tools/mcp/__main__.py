"""``python -m fly_tools.mcp``: the same command as ``fly-tools mcp``, defaults included."""

import sys

from fly_tools.mcp.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
