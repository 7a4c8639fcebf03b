"""Approvals stores named on the command line: relative paths made absolute, typos caught."""

from __future__ import annotations

from pathlib import Path

_SERVERS = ("redis://", "rediss://", "unix://")


def absolute_store(url: str | None) -> str | None:
    """``--store`` with a relative path (or ``sqlite:///relative``) made absolute at once.

    The pending message names the store for a person who may answer from another
    directory: as typed, ``approvals.db`` would there be another, empty store.
    """
    if url is None or url.startswith(_SERVERS):
        return url
    if url.startswith("sqlite:///"):
        url = url.removeprefix("sqlite:///")
    elif "://" in url:
        return url  # an unknown scheme: opening the store names it
    return str(Path(url).expanduser().resolve())


def existing_store(url: str | None) -> str | None:
    """:func:`absolute_store`, for commands that read answers: a path must name a store.

    Opening a missing file would create an empty store and report "No approvals." for
    what is most likely a typo.

    Raises:
        ApprovalError: the path names no file.
    """
    resolved = absolute_store(url)
    if resolved is None or "://" in resolved or Path(resolved).exists():
        return resolved
    from fly_tools.approvals import ApprovalError

    raise ApprovalError(
        f"no approvals store at {resolved}: give the --store that the pending call printed"
    )
