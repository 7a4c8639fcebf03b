"""A Fly app in the fake and what it holds: machines, volumes, secrets, keys, certificates, IPs.

Each area is typed and lives in its own module (:mod:`~fly_tools.testing.machines`,
:mod:`~fly_tools.testing.volumes`, :mod:`~fly_tools.testing.secretkeys`,
:mod:`~fly_tools.testing.certificates`, :mod:`~fly_tools.testing.addresses`); the app
holds them, so they go when it is deleted. Rules that cross areas are
:class:`~fly_tools.testing.state.FakeState`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fly_tools.testing.addresses import IpAddresses
from fly_tools.testing.certificates import Certificates
from fly_tools.testing.clock import iso
from fly_tools.testing.ids import digest
from fly_tools.testing.machines import Machine
from fly_tools.testing.regions import DEFAULT_REGION
from fly_tools.testing.secretkeys import SecretKeys
from fly_tools.testing.volumes import Volume


@dataclass
class Org:
    """A Fly organization."""

    slug: str
    name: str
    internal_numeric_id: int

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``AppOrganizationInfo``."""
        return {
            "name": self.name,
            "slug": self.slug,
            "internal_numeric_id": self.internal_numeric_id,
        }


@dataclass(eq=False)
class Secret:
    """An app secret; its value never leaves the fake."""

    name: str
    value: str = field(repr=False)
    created_at: float
    updated_at: float

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``AppSecret`` without the value."""
        return {
            "name": self.name,
            "digest": digest(self.value),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(eq=False)
class App:
    """A Fly app and what it holds."""

    id: str
    name: str
    org: Org
    network: str
    created_at: float
    internal_numeric_id: int
    machines: dict[str, Machine] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)
    secrets: dict[str, Secret] = field(default_factory=dict)
    secrets_version: int = 0
    """Counts changes to the app's secrets and secret keys alike."""
    secret_keys: SecretKeys = field(default_factory=SecretKeys)
    ready_at: float = 0.0
    """Until then the app is not served yet (404), as a new app on Fly for a moment."""
    certificates: Certificates = field(init=False)
    ip_addresses: IpAddresses = field(init=False)

    def __post_init__(self) -> None:
        # Both need facts of the app itself: its name, id, numbers and org.
        self.certificates = Certificates(self.name, self.id, self.org.slug)
        self.ip_addresses = IpAddresses(
            self.name, self.org.slug, self.internal_numeric_id, self.org.internal_numeric_id
        )

    def live_machines(self) -> list[Machine]:
        """Machines not destroyed."""
        return [m for m in self.machines.values() if not m.destroyed]

    @property
    def primary_region(self) -> str:
        """Where new machines and volumes go when no region is given."""
        live = self.live_machines()
        return live[0].region if live else DEFAULT_REGION

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``App``."""
        machines = self.live_machines()
        return {
            "id": self.id,
            "name": self.name,
            "status": "deployed" if machines else "pending",
            "network": self.network,
            "internal_numeric_id": self.internal_numeric_id,
            "machine_count": len(machines),
            "volume_count": sum(not v.deleted for v in self.volumes.values()),
            "organization": self.org.to_wire(),
        }
