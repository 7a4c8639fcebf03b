"""Approvals stores on the command line: paths made absolute, typos caught, times in ISO-8601."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def iso_times(document: Any) -> Any:
    """``document`` with every ``..._at`` number (epoch seconds) as an ISO-8601 UTC time.

    The same form as the audit's ``time`` (``2026-05-01T12:00:00.000Z``), so a person or a
    script reads both the same way.
    """
    if isinstance(document, list):
        return [iso_times(item) for item in document]
    if not isinstance(document, dict):
        return document
    return {
        key: _iso(value) if key.endswith("_at") and _is_seconds(value) else iso_times(value)
        for key, value in document.items()
    }


def _is_seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _iso(seconds: float) -> str:
    when = datetime.fromtimestamp(seconds, UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
