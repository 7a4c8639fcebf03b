"""Handlers for machines: list, get, create, update, delete, history, processes, leases."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from fly_tools.models.config import MachineConfig
from fly_tools.testing import guest
from fly_tools.testing.calls import (
    REGION,
    BodyParams,
    Call,
    Params,
    Reply,
    Strings,
    go_decoded,
    route,
)
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakePreconditionFailedError,
    require_valid,
)
from fly_tools.testing.machines import Lease, Machine
from fly_tools.testing.state import FakeState

DEFAULT_LEASE_TTL = 30


class MachinePath(Params):
    app_name: str
    machine_id: str


class ListMachinesParams(Params):
    app_name: str
    include_deleted: bool = False
    region: str | None = None
    state: Strings = Field(default_factory=list)
    summary: bool = False


class CreateMachineParams(BodyParams):
    app_name: str
    config: MachineConfig | None = None
    name: str | None = None
    region: str | None = None
    skip_launch: bool = False
    skip_service_registration: bool | None = None
    skip_secrets: bool | None = None
    lease_ttl: int | None = Field(default=None, ge=1)
    min_secrets_version: int | None = None
    lsvd: bool | None = None

    @field_validator("config", mode="before")
    @classmethod
    def _as_fly_decodes_it(cls, value: Any) -> Any:
        # Fly ignores config keys it does not know and takes a service without a
        # protocol (fly-go omits an empty one); the fake reads such a service as tcp.
        config = go_decoded(MachineConfig, value)
        for service in config.get("services") or [] if isinstance(config, dict) else []:
            if isinstance(service, dict):
                service.setdefault("protocol", "tcp")
        return config


class UpdateMachineParams(CreateMachineParams):
    machine_id: str
    current_version: str | None = None


class DeleteMachineParams(MachinePath):
    force: bool = False
    kill: bool = False  # what fly-go sends instead of force (D2)


class ProcessesParams(MachinePath):
    sort_by: str | None = None
    order: str | None = None


class EventsParams(MachinePath):
    limit: int = 20


class LeaseParams(MachinePath, BodyParams):
    # fly-go sends ?ttl=N with no body; the spec puts ttl in a JSON body (D6).
    ttl: int = Field(default=DEFAULT_LEASE_TTL, ge=1)
    description: str = ""


@route("fly_list_machines", ListMachinesParams)
def list_machines(fly: FakeState, call: Call, p: ListMachinesParams) -> Reply:
    metadata = {k.removeprefix("metadata."): v for k, v in call.query if k.startswith("metadata.")}
    machines = [
        m.to_wire(summary=p.summary)
        for m in fly.machines(p.app_name, include_deleted=p.include_deleted)
        if (p.region is None or m.region == p.region)
        and (not p.state or m.state in p.state)
        and metadata.items() <= (m.config.get("metadata") or {}).items()
    ]
    return Reply(machines)


@route("fly_get_machine", MachinePath)
def get_machine(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    return Reply(fly.machine(p.app_name, p.machine_id).to_wire())


@route("fly_create_machine", CreateMachineParams)
def create_machine(fly: FakeState, call: Call, p: CreateMachineParams) -> Reply:
    config = _full_config(p)
    if p.region is not None:
        require_valid(REGION, p.region)
    _check_secrets_version(fly, p)
    machine = fly.create_machine(
        p.app_name, config, name=p.name, region=p.region, skip_launch=p.skip_launch
    )
    wire = machine.to_wire()
    if p.lease_ttl is not None:
        lease = machine.acquire_lease(
            call.now, ttl=p.lease_ttl, owner=call.token.owner, description="", nonce=None
        )
        wire["nonce"] = lease.nonce
    return Reply(wire)


@route("fly_update_machine", UpdateMachineParams)
def update_machine(fly: FakeState, call: Call, p: UpdateMachineParams) -> Reply:
    machine = fly.machine(p.app_name, p.machine_id)
    machine.check_nonce(call.now, call.nonce)
    config = _full_config(p)
    if p.name is not None and p.name != machine.name:
        raise FakeBadRequestError(f"a machine's name cannot be changed (it is {machine.name!r})")
    if p.region is not None and p.region != machine.region:
        raise FakeBadRequestError(
            f"a machine's region cannot be changed (it is {machine.region!r})"
        )
    _check_secrets_version(fly, p)
    fly.update_machine(
        p.app_name,
        p.machine_id,
        config,
        current_version=p.current_version,
        skip_launch=p.skip_launch,
    )
    return Reply(machine.to_wire())


@route("fly_delete_machine", DeleteMachineParams)
def delete_machine(fly: FakeState, call: Call, p: DeleteMachineParams) -> Reply:
    fly.machine(p.app_name, p.machine_id).check_nonce(call.now, call.nonce)
    fly.destroy_machine(p.app_name, p.machine_id, force=p.force or p.kill)
    return Reply({"ok": True})


@route("fly_list_machine_processes", ProcessesParams)
def list_processes(fly: FakeState, call: Call, p: ProcessesParams) -> Reply:
    machine = _started(fly.machine(p.app_name, p.machine_id), "list processes of")
    return Reply(guest.processes(machine, sort_by=p.sort_by, order=p.order))


@route("fly_list_machine_events", EventsParams)
def list_events(fly: FakeState, call: Call, p: EventsParams) -> Reply:
    limit = min(max(p.limit, 1), 50)
    events = fly.machine(p.app_name, p.machine_id).events
    return Reply([event.to_wire() for event in reversed(events[-limit:])])


@route("fly_list_machine_versions", MachinePath)
def list_versions(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    versions = fly.machine(p.app_name, p.machine_id).versions
    return Reply([{"version": v.id, "user_config": v.config} for v in reversed(versions)])


@route("fly_acquire_lease", LeaseParams)
def acquire_lease(fly: FakeState, call: Call, p: LeaseParams) -> Reply:
    machine = fly.machine(p.app_name, p.machine_id)
    lease = machine.acquire_lease(
        call.now, ttl=p.ttl, owner=call.token.owner, description=p.description, nonce=call.nonce
    )
    return Reply(_wrapped(lease), 201)


@route("fly_get_lease", MachinePath)
def get_lease(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    lease = fly.machine(p.app_name, p.machine_id).active_lease(call.now)
    if lease is None:
        raise FakeNotFoundError("lease not found")
    return Reply(_wrapped(lease))


@route("fly_release_lease", MachinePath)
def release_lease(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    if not call.nonce:
        raise FakeBadRequestError(
            "the fly-machine-lease-nonce header is required to release a lease"
        )
    fly.machine(p.app_name, p.machine_id).release_lease(call.now, call.nonce)
    return Reply({"status": "success", "data": {"ok": True}})


def _wrapped(lease: Lease) -> dict[str, Any]:
    # Fly wraps leases in {status, data} on the wire; the spec's Lease is flat (D7).
    return {"status": "success", "data": lease.to_wire()}


def _full_config(p: CreateMachineParams) -> MachineConfig:
    # Fly has no partial updates: the whole config comes with every create and update.
    if p.config is None or p.config.image is None:
        raise FakeBadRequestError(
            "config with config.image is required: send the machine's whole config "
            "(an update replaces it entirely)"
        )
    return p.config


def _check_secrets_version(fly: FakeState, p: CreateMachineParams) -> None:
    current = fly.app(p.app_name).secrets_version
    if p.min_secrets_version is not None and p.min_secrets_version > current:
        raise FakeBadRequestError(
            f"min_secrets_version {p.min_secrets_version} is ahead of the app's secrets "
            f"(version {current})"
        )


def _started(machine: Machine, action: str) -> Machine:
    if machine.state != "started":
        raise FakePreconditionFailedError(
            f"unable to {action} machine from current state: '{machine.state}'"
        )
    return machine
