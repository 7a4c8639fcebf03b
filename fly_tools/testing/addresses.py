"""An app's IP addresses in the fake: public, shared and Flycast, with Fly's rules for each.

Addresses are kept by their canonical text (``2a09:8280:1::a:b``, never a longer
spelling), so any spelling of an address finds it; they go when the app is deleted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from fly_tools.models.identifiers import OrgSlug, Region
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakeUnprocessableError,
    require_valid,
)
from fly_tools.testing.ids import IdSource

IP_TYPES = ("v4", "v6", "shared_v4", "private_v6")
_ORG_SLUG = TypeAdapter(OrgSlug)
_REGION = TypeAdapter(Region)


@dataclass(eq=False)
class IpAssignment:
    """One address of an app."""

    ip: str
    type: str
    region: str
    created_at: float
    service_name: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``IPAssignment``."""
        wire = {
            "ip": self.ip,
            "region": self.region,
            "shared": self.type == "shared_v4",
            "created_at": iso(self.created_at),
        }
        if self.service_name:
            wire["service_name"] = self.service_name
        return wire


@dataclass(eq=False)
class IpAddresses:
    """The addresses of one app, and the facts of the app their rules need.

    Args:
        app: the app's name.
        org_slug: its organization.
        app_number: the app's internal number (picks its shared IPv4 block).
        org_number: the organization's internal number (in its Flycast addresses).
    """

    app: str
    org_slug: str
    app_number: int
    org_number: int
    held: dict[str, IpAssignment] = field(default_factory=dict)
    """Canonical address -> assignment, oldest first."""

    def __iter__(self) -> Iterator[IpAssignment]:
        return iter(list(self.held.values()))

    def of_types(self, *types: str) -> list[str]:
        """The addresses of the given types, oldest first."""
        return [i.ip for i in self.held.values() if i.type in types]

    def assign(
        self,
        kind: str,
        now: float,
        ids: IdSource,
        *,
        region: str | None = None,
        network: str | None = None,
        org_slug: str | None = None,
        service_name: str | None = None,
    ) -> IpAssignment:
        """Give the app a new address of type ``kind``.

        A dedicated ``v4``/``v6`` address lives in ``region`` when one is given; every
        other address is ``global``. An app has at most one shared IPv4 address, and only
        a Flycast (``private_v6``) address belongs to a ``network``.
        """
        self._check(kind, region, network, org_slug)
        address = self._new_address(kind, ids)
        where = region if region and kind in ("v4", "v6") else "global"
        assigned = self.held[address] = IpAssignment(address, kind, where, now, service_name)
        return assigned

    def release(self, ip: str) -> None:
        """Take back an address, in any spelling of it."""
        try:
            address = str(ipaddress.ip_address(ip))
        except ValueError:
            raise FakeBadRequestError(f"{ip!r} is not an IP address") from None
        if self.held.pop(address, None) is None:
            raise FakeNotFoundError(f"IP address {address} is not assigned to {self.app}")

    def _check(
        self, kind: str, region: str | None, network: str | None, org_slug: str | None
    ) -> None:
        if kind not in IP_TYPES:
            raise FakeBadRequestError(f"type must be one of {', '.join(IP_TYPES)}; got {kind!r}")
        if region is not None:
            require_valid(_REGION, region)
        if org_slug is not None and require_valid(_ORG_SLUG, org_slug) != self.org_slug:
            raise FakeBadRequestError(
                f"org_slug {org_slug!r} is not the organization of {self.app}"
            )
        if network is not None and kind != "private_v6":
            raise FakeBadRequestError("network is only for private_v6 (Flycast) addresses")
        if kind == "shared_v4" and self.of_types("shared_v4"):
            raise FakeUnprocessableError(f"{self.app} already has a shared IPv4 address")

    def _new_address(self, kind: str, ids: IdSource) -> str:
        while True:
            if kind == "shared_v4":
                address = f"66.241.{124 + self.app_number % 4}.{ids.number(1, 255)}"
            elif kind == "v4":
                address = f"137.66.{ids.number(0, 256)}.{ids.number(1, 255)}"
            elif kind == "v6":
                address = f"2a09:8280:1::{ids.number(1, 0xFFFF):x}:{ids.number(1, 0xFFFF):x}"
            else:
                address = f"fdaa:0:{self.org_number:x}:0:1::{ids.number(1, 0xFFFF):x}"
            address = str(ipaddress.ip_address(address))
            if address not in self.held:
                return address
