"""Exit statuses, and the usage error every ``fly-tools`` command raises for a bad invocation."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what other Unix tools exit with when their reader closes the pipe."""
GIVE_SCOPE = (
    "give --scope (org, deploy, readonly or machine-exec): the scope of the token "
    "could not be read from Fly"
)


class UsageError(Exception):
    """The command cannot run as given; its message is the one line printed."""
