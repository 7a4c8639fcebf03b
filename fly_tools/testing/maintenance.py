"""Machine maintenance in the fake: cordon, the memory balloon, and metadata set in place.

Metadata lives in the current version's ``config.metadata``, as on Fly; changing it here
neither makes a new version nor restarts the machine (the ``machine_version``
precondition of a bulk update would be useless if it did). Memory is the balloon's limit
(:attr:`Machine.memory_limit_mb`); it starts at the guest's ``memory_mb``. A limit below
what the processes use gets the main process killed for lack of memory, restarted by its
restart policy: the fake's own model, as Fly documents no effect beyond the balloon
(ENDPOINTS.md, "Memory").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from fly_tools.models.maintenance import MetadataKey
from fly_tools.testing import guest
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakePreconditionFailedError,
    require_valid,
)
from fly_tools.testing.machines import Machine

_KEY = TypeAdapter(MetadataKey)
_MB = 1 << 20


# ---------------------------------------------------------------- cordon


def set_cordoned(machine: Machine, now: float, *, cordoned: bool) -> None:
    """Take the machine out of the proxy's rotation, or put it back."""
    machine.cordoned = cordoned
    machine.updated_at = now


# ---------------------------------------------------------------- memory


@dataclass(frozen=True)
class Memory:
    """The balloon's limit and what the guest has left under it."""

    limit_mb: int
    available_mb: int

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``MemoryResponse``."""
        return {"limit_mb": self.limit_mb, "available_mb": self.available_mb}


def running(machine: Machine, action: str) -> Machine:
    """The machine, if it is running: a stopped machine has no balloon to ask."""
    if machine.state != "started":
        raise FakePreconditionFailedError(
            f"unable to {action} machine from current state: '{machine.state}'"
        )
    return machine


def memory(machine: Machine) -> Memory:
    """The machine's memory as the balloon sees it now."""
    return _memory(machine, _limit(machine))


def set_memory_limit(machine: Machine, limit_mb: int | None, now: float) -> Memory:
    """Set the balloon's limit; below what the processes use, the main process is killed."""
    size = _guest_mb(machine)
    if limit_mb is None or not 1 <= limit_mb <= size:
        raise FakeBadRequestError(
            f"limit_mb must be between 1 and the machine's memory ({size} MB); got {limit_mb}"
        )
    machine.memory_limit_mb = limit_mb
    if limit_mb < _used_mb(machine):
        machine.oom_kill(now)
    return _memory(machine, limit_mb)


def reclaim(machine: Machine, amount_mb: int | None) -> int:
    """Megabytes the balloon takes back: only what the guest is not using."""
    if amount_mb is None or amount_mb < 1:
        raise FakeBadRequestError(f"amount_mb must be a positive number of MB; got {amount_mb}")
    free = _limit(machine) - _used_mb(machine)
    return max(0, min(amount_mb, free))


def _guest_mb(machine: Machine) -> int:
    size = (machine.config.get("guest") or {}).get("memory_mb")
    return size if isinstance(size, int) else 256


def _limit(machine: Machine) -> int:
    # A limit set for an older, larger guest cannot exceed the current one.
    size = _guest_mb(machine)
    return min(size if machine.memory_limit_mb is None else machine.memory_limit_mb, size)


def _used_mb(machine: Machine) -> int:
    rss: int = sum(row["rss"] for row in guest.processes(machine, sort_by=None, order=None))
    return math.ceil(rss / _MB)


def _memory(machine: Machine, limit: int) -> Memory:
    return Memory(limit, max(0, limit - _used_mb(machine)))


# ---------------------------------------------------------------- metadata


def metadata_key(key: str) -> str:
    """``key`` if Fly takes it as a metadata key."""
    return require_valid(_KEY, key)


def metadata_value(value: str | None) -> str:
    """``value`` if it can be stored under a key: empty text cannot."""
    if not value:
        raise FakeBadRequestError("value is required: the text to store under the key")
    return value


def stored_value(machine: Machine, key: str) -> str:
    """The value stored under ``key`` (a checked :func:`metadata_key`)."""
    metadata = machine.config.get("metadata") or {}
    if key not in metadata:
        raise FakeNotFoundError(f"metadata key {key!r} not found on machine {machine.id}")
    value: str = metadata[key]
    return value


def check_version(machine: Machine, machine_version: str | None) -> None:
    """Refuse a bulk update meant for an older version of the machine."""
    if machine_version is not None and machine_version != machine.version:
        raise FakePreconditionFailedError(
            f"machine version mismatch: the machine is at version {machine.version}, "
            f"the metadata update was for version {machine_version}"
        )


def change_metadata(machine: Machine, now: float, changes: Mapping[str, str | None]) -> None:
    """Apply ``changes`` in place: a value sets its key, ``None`` or ``""`` removes it (a
    missing key is no error); no new version, no restart."""
    metadata = machine.config.setdefault("metadata", {})
    for key, value in changes.items():
        if value:
            metadata[key] = value
        else:
            metadata.pop(key, None)
    machine.updated_at = now
