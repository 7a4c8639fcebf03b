"""Volumes in the fake: size, region, zone, attachment to a machine's mount."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fly_tools.testing.clock import iso

MAX_SIZE_GB = 500
BLOCK_SIZE = 4096
GIB = 1 << 30


@dataclass(eq=False)
class Volume:
    """A Fly volume."""

    id: str
    name: str
    app: str
    region: str
    zone: str
    size_gb: int
    created_at: float
    encrypted: bool = True
    fstype: str = "ext4"
    snapshot_retention: int = 5
    auto_backup_enabled: bool = True
    state: str = "created"
    attached_machine_id: str | None = None
    used_bytes: int = 0

    def to_wire(self, *, summary: bool = False) -> dict[str, Any]:
        """Fly's ``Volume``; ``summary`` leaves out the block statistics."""
        wire: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "region": self.region,
            "zone": self.zone,
            "size_gb": self.size_gb,
            "encrypted": self.encrypted,
            "fstype": self.fstype,
            "type": "local",
            "snapshot_retention": self.snapshot_retention,
            "auto_backup_enabled": self.auto_backup_enabled,
            "host_status": "ok",
            "created_at": iso(self.created_at),
        }
        if self.attached_machine_id is not None:
            wire["attached_machine_id"] = self.attached_machine_id
            wire["attached_alloc_id"] = self.attached_machine_id
        if not summary:
            total = self.size_gb * GIB
            blocks, used = total // BLOCK_SIZE, self.used_bytes // BLOCK_SIZE
            wire |= {
                "block_size": BLOCK_SIZE,
                "blocks": blocks,
                "blocks_free": blocks - used,
                "blocks_avail": blocks - used,
                "bytes_total": total,
                "bytes_used": self.used_bytes,
            }
        return wire
