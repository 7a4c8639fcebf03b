"""Handlers for an app's IP address assignments (public, shared and Flycast addresses).

The addresses and their rules are :mod:`fly_tools.testing.addresses`; here requests are
read and answers shaped.
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from fly_tools.testing.calls import BodyParams, Call, Params, Reply, route
from fly_tools.testing.state import FakeState


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
    return Reply({"ips": [ip.to_wire() for ip in app.ip_addresses]})


@route("fly_assign_ip", AssignIpParams)
def assign_ip(fly: FakeState, call: Call, p: AssignIpParams) -> Reply:
    assigned = fly.app(p.app_name).ip_addresses.assign(
        p.type,
        fly.now(),
        fly.ids,
        region=p.region,
        network=p.network,
        org_slug=p.org_slug,
        service_name=p.service_name,
    )
    return Reply(assigned.to_wire())


@route("fly_release_ip", IpPath)
def release_ip(fly: FakeState, call: Call, p: IpPath) -> Reply:
    fly.app(p.app_name).ip_addresses.release(p.ip)
    return Reply.empty(204)
