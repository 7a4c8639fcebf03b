"""Handlers for machine maintenance: cordon, memory limit and reclaim, and machine metadata.

The rules are :mod:`fly_tools.testing.maintenance`; here requests are read and answers
shaped.
"""

from __future__ import annotations

import dataclasses

from pydantic import StrictInt, StrictStr

from fly_tools.catalogue import ENDPOINTS
from fly_tools.testing import maintenance
from fly_tools.testing.calls import BodyParams, Call, Reply, extra_route, route
from fly_tools.testing.errors import FakeBadRequestError
from fly_tools.testing.handlers.machines import MachinePath
from fly_tools.testing.machines import Machine
from fly_tools.testing.state import FakeState


class KeyPath(MachinePath):
    key: str


class MemoryLimitParams(MachinePath, BodyParams):
    limit_mb: StrictInt | None = None


class ReclaimParams(MachinePath, BodyParams):
    amount_mb: StrictInt | None = None


class UpsertParams(KeyPath, BodyParams):
    value: StrictStr | None = None
    updated_at: StrictStr | None = None


class UpdateMetadataParams(MachinePath, BodyParams):
    metadata: dict[str, StrictStr | None] | None = None
    machine_version: StrictStr | None = None
    updated_at: StrictStr | None = None


# ---------------------------------------------------------------- cordon


@route("fly_cordon_machine", MachinePath)
def cordon_machine(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    return _set_cordoned(fly, call, p, cordoned=True)


@route("fly_uncordon_machine", MachinePath)
def uncordon_machine(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    return _set_cordoned(fly, call, p, cordoned=False)


def _set_cordoned(fly: FakeState, call: Call, p: MachinePath, *, cordoned: bool) -> Reply:
    # fly-go sends the lease nonce on cordon and uncordon: a leased machine needs it.
    machine = fly.live_machine(p.app_name, p.machine_id)
    machine.check_nonce(call.now, call.nonce)
    maintenance.set_cordoned(machine, call.now, cordoned=cordoned)
    # The spec declares a bare 200; Fly answers {"ok": true} like the other actions.
    return Reply({"ok": True})


# ---------------------------------------------------------------- memory


@route("fly_get_machine_memory", MachinePath)
def get_memory(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    machine = _running(fly, p, "read the memory of")
    return Reply(maintenance.memory(machine).to_wire())


@route("fly_set_machine_memory_limit", MemoryLimitParams)
def set_memory_limit(fly: FakeState, call: Call, p: MemoryLimitParams) -> Reply:
    machine = _running(fly, p, "set the memory limit of")
    return Reply(maintenance.set_memory_limit(machine, p.limit_mb, call.now).to_wire())


@route("fly_reclaim_machine_memory", ReclaimParams)
def reclaim_memory(fly: FakeState, call: Call, p: ReclaimParams) -> Reply:
    machine = _running(fly, p, "reclaim memory from")
    return Reply({"actual_mb": maintenance.reclaim(machine, p.amount_mb)})


def _running(fly: FakeState, p: MachinePath, action: str) -> Machine:
    return maintenance.running(fly.live_machine(p.app_name, p.machine_id), action)


# ---------------------------------------------------------------- metadata


@route("fly_get_machine_metadata", MachinePath)
def show_metadata(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    return Reply(dict(fly.machine(p.app_name, p.machine_id).config.get("metadata") or {}))


@route("fly_get_machine_metadata_key", KeyPath)
def get_metadata_key(fly: FakeState, call: Call, p: KeyPath) -> Reply:
    key = maintenance.metadata_key(p.key)
    machine = fly.machine(p.app_name, p.machine_id)
    return Reply({"value": maintenance.stored_value(machine, key)})


@route("fly_set_machine_metadata_key", UpsertParams)
def upsert_metadata(fly: FakeState, call: Call, p: UpsertParams) -> Reply:
    changes = {maintenance.metadata_key(p.key): maintenance.metadata_value(p.value)}
    maintenance.change_metadata(fly.live_machine(p.app_name, p.machine_id), call.now, changes)
    return Reply.empty(204)


@route("fly_delete_machine_metadata_key", KeyPath)
def delete_metadata_key(fly: FakeState, call: Call, p: KeyPath) -> Reply:
    # Removing a key the machine does not have is not an error: the spec lists only 204.
    changes = {maintenance.metadata_key(p.key): None}
    maintenance.change_metadata(fly.live_machine(p.app_name, p.machine_id), call.now, changes)
    return Reply.empty(204)


def update_metadata(fly: FakeState, call: Call, p: UpdateMetadataParams) -> Reply:
    """Set and remove several keys at once; a null or empty value removes its key."""
    if not p.metadata:
        raise FakeBadRequestError("metadata is required: an object of keys to set or remove")
    changes = {maintenance.metadata_key(key): value for key, value in p.metadata.items()}
    machine = fly.live_machine(p.app_name, p.machine_id)
    maintenance.check_version(machine, p.machine_version)
    maintenance.change_metadata(machine, call.now, changes)
    return Reply.empty(204)


_UPDATE = ENDPOINTS["fly_update_machine_metadata"]
route(_UPDATE.name, UpdateMetadataParams)(update_metadata)
# The spec lists PUT and PATCH as one operation. fly-go has no call for it; the catalogue
# sends PATCH (the answer is a partial update), and the fake answers PUT too, under a
# route name no tool has.
extra_route(
    dataclasses.replace(_UPDATE, method="PUT", name=_UPDATE.name + "_put"),
    UpdateMetadataParams,
)(update_metadata)
