"""Volumes in the fake: size, region, zone, attachment to a machine's mount, snapshots, deletion.

A deleted volume lingers, as on Fly: it goes through the destroy states fly-go filters
out of its lists (``scheduling_destroy``, ``pending_destroy``, ``destroying``) and is
still listed and readable for :data:`LINGER` fake seconds; any change to it is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fly_tools.testing.clock import iso
from fly_tools.testing.errors import FakeBadRequestError

MAX_SIZE_GB = 500
BLOCK_SIZE = 4096
GIB = 1 << 30
DESTROY_STATES = ((0.0, "scheduling_destroy"), (1.0, "pending_destroy"), (5.0, "destroying"))
"""Seconds after deletion -> the state a deleted volume shows from then on."""
LINGER = 300.0
"""Fake seconds a deleted volume stays listed before it is gone for good."""
BEING_DESTROYED = frozenset(
    {"scheduling_destroy", "fork_cleanup", "waiting_for_detach", "pending_destroy", "destroying"}
)
"""The states fly-go treats as "being destroyed" (ENDPOINTS.md)."""


MAX_RETENTION_DAYS = 60
"""The longest Fly keeps a volume's snapshots."""
SNAPSHOT_SECONDS = 30.0
"""Fake seconds an on-demand snapshot runs before it is ``created`` (complete)."""


@dataclass(eq=False)
class Snapshot:
    """A point-in-time copy of a volume, kept for ``retention_days``."""

    id: str
    created_at: float
    size: int
    volume_size: int
    retention_days: int
    digest: str
    ready_at: float = 0.0

    def status(self, now: float) -> str:
        """``running`` while being taken, then ``created``, as Fly reports them."""
        return "created" if now >= self.ready_at else "running"

    def to_wire(self, now: float) -> dict[str, Any]:
        """Fly's ``VolumeSnapshot``: sizes in bytes, ``created_at`` in RFC 3339."""
        return {
            "id": self.id,
            "created_at": iso(self.created_at),
            "status": self.status(now),
            "size": self.size,
            "volume_size": self.volume_size,
            "retention_days": self.retention_days,
            "digest": self.digest,
        }


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
    deleted_at: float | None = None
    snapshots: list[Snapshot] = field(default_factory=list)
    settings_changed_at: float | None = None

    @property
    def updated_at(self) -> float:
        """When the volume last changed: created, its settings updated, or deleted."""
        times = (self.created_at, self.settings_changed_at, self.deleted_at)
        return max(t for t in times if t is not None)

    def take_snapshot(self, snapshot_id: str, digest: str, now: float) -> Snapshot:
        """Start an on-demand snapshot of the volume as it is now."""
        snapshot = Snapshot(
            id=snapshot_id,
            created_at=now,
            size=self.used_bytes,
            volume_size=self.size_gb * GIB,
            retention_days=self.snapshot_retention,
            digest=digest,
            ready_at=now + SNAPSHOT_SECONDS,
        )
        self.snapshots.append(snapshot)
        return snapshot

    def kept_snapshots(self, now: float) -> list[Snapshot]:
        """Snapshots still within their own retention, oldest first; expired ones are dropped.

        Each snapshot keeps the retention it was taken with: a new volume retention applies
        to new snapshots only, and turning daily backups off removes none (superfly/docs
        ``volumes/snapshots.html.markerb`` lines 26 and 180).
        """
        day = 86_400.0
        self.snapshots = [s for s in self.snapshots if now - s.created_at < s.retention_days * day]
        return list(self.snapshots)

    def update_settings(
        self, now: float, *, snapshot_retention: int | None, auto_backup_enabled: bool | None
    ) -> None:
        """Change the snapshot retention (days) and daily backups."""
        if snapshot_retention is not None and not 1 <= snapshot_retention <= MAX_RETENTION_DAYS:
            raise FakeBadRequestError(
                f"snapshot_retention must be between 1 and {MAX_RETENTION_DAYS} days"
            )
        if snapshot_retention is not None:
            self.snapshot_retention = snapshot_retention
        if auto_backup_enabled is not None:
            self.auto_backup_enabled = auto_backup_enabled
        self.settings_changed_at = now

    @property
    def deleted(self) -> bool:
        """True once deleted (it lingers in a destroy state for a while)."""
        return self.deleted_at is not None

    def delete(self, now: float) -> None:
        """Start destroying the volume."""
        self.deleted_at = now
        self.settle(now)

    def settle(self, now: float) -> None:
        """Move a deleted volume to the destroy state it is in at ``now``."""
        if self.deleted_at is None:
            return
        for after, state in DESTROY_STATES:
            if now - self.deleted_at >= after:
                self.state = state

    def gone(self, now: float) -> bool:
        """True once a deleted volume no longer shows at all."""
        return self.deleted_at is not None and now - self.deleted_at >= LINGER

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
        # Fly sends both keys, null when unattached; alloc ids are from before machines.
        wire |= {"attached_machine_id": self.attached_machine_id, "attached_alloc_id": None}
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
