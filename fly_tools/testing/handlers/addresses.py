"""Handlers for an app's IP address assignments (public, shared and Flycast addresses).

State lives in ``App.extras["ip_assignments"]``, which maps address to :class:`IpAssignment`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, field_validator

from fly_tools.models.identifiers import OrgSlug
from fly_tools.testing.calls import REGION, BodyParams, Call, Params, Reply, route
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakeUnprocessableError,
    require_valid,
)
from fly_tools.testing.state import App, FakeState

IP_TYPES = ("v4", "v6", "shared_v4", "private_v6")
_ORG_SLUG = TypeAdapter(OrgSlug)


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
        wire = {"ip": self.ip, "region": self.region, "shared": self.type == "shared_v4",
                "created_at": iso(self.created_at)}  # fmt: skip
        if self.service_name:
            wire["service_name"] = self.service_name
        return wire


def ip_assignments(app: App) -> dict[str, IpAssignment]:
    """The app's IP assignments by canonical address (created on first use)."""
    store: dict[str, IpAssignment] = app.extras.setdefault("ip_assignments", {})
    return store


class AppPath(Params):
    """Parameters naming one app (shared with the certificate handlers)."""

    app_name: str


class AssignIpParams(AppPath, BodyParams):
    type: str = ""
    region: str | None = None
    network: str | None = None
    org_slug: str | None = None
    service_name: str | None = None

    @field_validator("region", "network", "org_slug", "service_name", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # fly-go's AssignIPRequest has no omitempty (flaps/flaps_ip_assignments.go:28-34):
        # flyctl's first deploy sends all five keys, "" for each one it leaves unset.
        return None if value == "" else value


class IpPath(AppPath):
    ip: str


@route("fly_list_ip_assignments", AppPath)
def list_ips(fly: FakeState, call: Call, p: AppPath) -> Reply:
    app = fly.app(p.app_name)
    return Reply({"ips": [ip.to_wire() for ip in ip_assignments(app).values()]})


@route("fly_assign_ip", AssignIpParams)
def assign_ip(fly: FakeState, call: Call, p: AssignIpParams) -> Reply:
    app = fly.app(p.app_name)
    _check_assign(app, p)
    address = _new_address(fly, app, p.type)
    region = p.region if p.region and p.type in ("v4", "v6") else "global"
    assigned = IpAssignment(address, p.type, region, fly.now(), p.service_name)
    ip_assignments(app)[address] = assigned
    return Reply(assigned.to_wire())


def _check_assign(app: App, p: AssignIpParams) -> None:
    if p.type not in IP_TYPES:
        raise FakeBadRequestError(f"type must be one of {', '.join(IP_TYPES)}; got {p.type!r}")
    if p.region is not None:
        require_valid(REGION, p.region)
    if p.org_slug is not None and require_valid(_ORG_SLUG, p.org_slug) != app.org.slug:
        raise FakeBadRequestError(f"org_slug {p.org_slug!r} is not the organization of {app.name}")
    if p.network is not None and p.type != "private_v6":
        raise FakeBadRequestError("network is only for private_v6 (Flycast) addresses")
    if p.type == "shared_v4" and any(i.type == "shared_v4" for i in ip_assignments(app).values()):
        raise FakeUnprocessableError(f"{app.name} already has a shared IPv4 address")


def _new_address(fly: FakeState, app: App, kind: str) -> str:
    ids, held = fly.ids, ip_assignments(app)
    while True:
        if kind == "shared_v4":
            address = f"66.241.{124 + app.internal_numeric_id % 4}.{ids.number(1, 255)}"
        elif kind == "v4":
            address = f"137.66.{ids.number(0, 256)}.{ids.number(1, 255)}"
        elif kind == "v6":
            address = f"2a09:8280:1::{ids.number(1, 0xFFFF):x}:{ids.number(1, 0xFFFF):x}"
        else:
            address = f"fdaa:0:{app.org.internal_numeric_id:x}:0:1::{ids.number(1, 0xFFFF):x}"
        address = str(ipaddress.ip_address(address))
        if address not in held:
            return address


@route("fly_release_ip", IpPath)
def release_ip(fly: FakeState, call: Call, p: IpPath) -> Reply:
    app = fly.app(p.app_name)
    try:
        address = str(ipaddress.ip_address(p.ip))
    except ValueError:
        raise FakeBadRequestError(f"{p.ip!r} is not an IP address") from None
    if ip_assignments(app).pop(address, None) is None:
        raise FakeNotFoundError(f"IP address {address} is not assigned to {app.name}")
    return Reply.empty(204)
