"""Opening the approvals store a URL names: a SQLite file (one host) or Redis (shared).

Apart from :mod:`~fly_tools.approvals.entries`, so that the record and the interface sit
below both stores and import neither.
"""

from __future__ import annotations

import os
from pathlib import Path

from fly_tools.approvals.entries import ApprovalError, ApprovalStore

ENV_VAR = "FLY_TOOLS_APPROVALS"
"""Environment variable naming the store (a path, ``sqlite:///path`` or ``redis://...``)."""
DEFAULT_PATH = Path("~/.fly-tools/approvals.db")


def open_store(url: str | os.PathLike[str] | None = None) -> ApprovalStore:
    """The store ``url`` names: a path or ``sqlite:///path`` (one host), or ``redis://...``.

    Without ``url``: ``$FLY_TOOLS_APPROVALS``, else ``~/.fly-tools/approvals.db``. As in
    SQLAlchemy, ``sqlite:///rel.db`` is relative and ``sqlite:////abs.db`` absolute.

    Raises:
        ApprovalError: an unknown scheme, or the redis extra is missing.
    """
    text = os.fspath(url) if url is not None else os.environ.get(ENV_VAR, "").strip()
    text = text or str(DEFAULT_PATH)
    if text.startswith(("redis://", "rediss://", "unix://")):
        try:
            from fly_tools.approvals.redis_store import RedisApprovalStore
        except ModuleNotFoundError:
            raise ApprovalError(
                "a redis:// approvals store needs the redis client: pip install 'fly-tools[redis]'"
            ) from None
        return RedisApprovalStore.from_url(text)
    if text.startswith("sqlite:///"):
        # As SQLAlchemy reads it: sqlite:///rel.db is relative, sqlite:////abs.db absolute.
        text = text.removeprefix("sqlite:///")
    elif "://" in text:
        raise ApprovalError(
            f"unknown approvals store {text.split('://')[0]}://: "
            "give a file path, sqlite:///path or redis://host:port/db"
        )
    from fly_tools.approvals.sqlite_store import SqliteApprovalStore

    return SqliteApprovalStore(Path(text).expanduser())
