"""Exit statuses, and the usage error every ``fly-tools`` command raises for a bad invocation."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

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


def split(values: Sequence[str] | None) -> list[str] | None:
    """A repeatable, comma-separated flag as one list; ``None`` when it was not given."""
    if values is None:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def names(values: Sequence[str] | None, valid: Iterable[str], flag: str) -> list[str] | None:
    """A repeatable, comma-separated name flag (``--groups a,b --groups c``), each name checked."""
    if values is None:
        return None
    known = list(valid)
    chosen = split(values) or []
    for name in chosen:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise UsageError(f"{flag}: unknown name {name!r}; {hint}valid: {', '.join(known)}")
    return chosen
