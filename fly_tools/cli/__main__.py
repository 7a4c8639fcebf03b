"""``python -m fly_tools.cli``: the same as the ``fly-tools`` command."""

import sys

from fly_tools.cli import main

sys.exit(main())
