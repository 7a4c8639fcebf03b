"""Handlers for machine maintenance: cordon, memory limit and reclaim, and machine metadata.

Metadata lives in the current version's ``config.metadata``, as on Fly; changing it
through these endpoints neither makes a new version nor restarts the machine (the
``machine_version`` precondition of the bulk update would be useless if it did).
Memory is the balloon's limit, kept per app under ``App.extras["maintenance"]``; it
starts at the guest's ``memory_mb``. A limit below what the processes use gets the main
process killed for lack of memory, restarted by its restart policy: the fake's own model,
as Fly documents no effect beyond the balloon (ENDPOINTS.md, "Memory").
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from pydantic import StrictInt, StrictStr, TypeAdapter

from fly_tools.catalogue import ENDPOINTS
from fly_tools.models.maintenance import MetadataKey
from fly_tools.testing import guest
from fly_tools.testing.calls import BodyParams, Call, Reply, extra_route, route
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakePreconditionFailedError,
    require_valid,
)
from fly_tools.testing.handlers.machines import MachinePath
from fly_tools.testing.machines import Machine
from fly_tools.testing.state import FakeState

EXTRAS_KEY = "maintenance"
"""Where this area keeps its state in ``App.extras``: machine id -> memory limit (MB)."""
_KEY = TypeAdapter(MetadataKey)
_MB = 1 << 20


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
    machine.cordoned = cordoned
    machine.updated_at = call.now
    # The spec declares a bare 200; Fly answers {"ok": true} like the other actions.
    return Reply({"ok": True})


# ---------------------------------------------------------------- memory


@route("fly_get_machine_memory", MachinePath)
def get_memory(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    machine = _running(fly, p, "read the memory of")
    return Reply(_memory(machine, _limit(fly, machine)))


@route("fly_set_machine_memory_limit", MemoryLimitParams)
def set_memory_limit(fly: FakeState, call: Call, p: MemoryLimitParams) -> Reply:
    machine = _running(fly, p, "set the memory limit of")
    size = _guest_mb(machine)
    if p.limit_mb is None or not 1 <= p.limit_mb <= size:
        raise FakeBadRequestError(
            f"limit_mb must be between 1 and the machine's memory ({size} MB); got {p.limit_mb}"
        )
    fly.app(p.app_name).extras.setdefault(EXTRAS_KEY, {})[machine.id] = p.limit_mb
    if p.limit_mb < _used_mb(machine):
        machine.oom_kill(call.now)
    return Reply(_memory(machine, p.limit_mb))


@route("fly_reclaim_machine_memory", ReclaimParams)
def reclaim_memory(fly: FakeState, call: Call, p: ReclaimParams) -> Reply:
    machine = _running(fly, p, "reclaim memory from")
    if p.amount_mb is None or p.amount_mb < 1:
        raise FakeBadRequestError(f"amount_mb must be a positive number of MB; got {p.amount_mb}")
    # The balloon takes back only what the guest is not using.
    free = _limit(fly, machine) - _used_mb(machine)
    return Reply({"actual_mb": max(0, min(p.amount_mb, free))})


def _running(fly: FakeState, p: MachinePath, action: str) -> Machine:
    # The balloon belongs to a running VM: a stopped machine has none to ask.
    machine = fly.live_machine(p.app_name, p.machine_id)
    if machine.state != "started":
        raise FakePreconditionFailedError(
            f"unable to {action} machine from current state: '{machine.state}'"
        )
    return machine


def _guest_mb(machine: Machine) -> int:
    memory = (machine.config.get("guest") or {}).get("memory_mb")
    return memory if isinstance(memory, int) else 256


def _limit(fly: FakeState, machine: Machine) -> int:
    limits: dict[str, int] = fly.app(machine.app).extras.get(EXTRAS_KEY, {})
    return min(limits.get(machine.id, _guest_mb(machine)), _guest_mb(machine))


def _used_mb(machine: Machine) -> int:
    rss: int = sum(row["rss"] for row in guest.processes(machine, sort_by=None, order=None))
    return math.ceil(rss / _MB)


def _memory(machine: Machine, limit: int) -> dict[str, Any]:
    return {"limit_mb": limit, "available_mb": max(0, limit - _used_mb(machine))}


# ---------------------------------------------------------------- metadata


@route("fly_get_machine_metadata", MachinePath)
def show_metadata(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    return Reply(dict(fly.machine(p.app_name, p.machine_id).config.get("metadata") or {}))


@route("fly_get_machine_metadata_key", KeyPath)
def get_metadata_key(fly: FakeState, call: Call, p: KeyPath) -> Reply:
    key = require_valid(_KEY, p.key)
    metadata = fly.machine(p.app_name, p.machine_id).config.get("metadata") or {}
    if key not in metadata:
        raise FakeNotFoundError(f"metadata key {key!r} not found on machine {p.machine_id}")
    return Reply({"value": metadata[key]})


@route("fly_set_machine_metadata_key", UpsertParams)
def upsert_metadata(fly: FakeState, call: Call, p: UpsertParams) -> Reply:
    key = require_valid(_KEY, p.key)
    if not p.value:
        raise FakeBadRequestError("value is required: the text to store under the key")
    _change_metadata(fly.live_machine(p.app_name, p.machine_id), call.now, {key: p.value})
    return Reply.empty(204)


@route("fly_delete_machine_metadata_key", KeyPath)
def delete_metadata_key(fly: FakeState, call: Call, p: KeyPath) -> Reply:
    # Removing a key the machine does not have is not an error: the spec lists only 204.
    key = require_valid(_KEY, p.key)
    _change_metadata(fly.live_machine(p.app_name, p.machine_id), call.now, {key: None})
    return Reply.empty(204)


def update_metadata(fly: FakeState, call: Call, p: UpdateMetadataParams) -> Reply:
    """Set and remove several keys at once; a null or empty value removes its key."""
    if not p.metadata:
        raise FakeBadRequestError("metadata is required: an object of keys to set or remove")
    changes = {require_valid(_KEY, key): value for key, value in p.metadata.items()}
    machine = fly.live_machine(p.app_name, p.machine_id)
    if p.machine_version is not None and p.machine_version != machine.version:
        raise FakePreconditionFailedError(
            f"machine version mismatch: the machine is at version {machine.version}, "
            f"the metadata update was for version {p.machine_version}"
        )
    _change_metadata(machine, call.now, changes)
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


def _change_metadata(machine: Machine, now: float, changes: dict[str, str | None]) -> None:
    metadata = machine.config.setdefault("metadata", {})
    for key, value in changes.items():
        if value:
            metadata[key] = value
        else:
            metadata.pop(key, None)
    machine.updated_at = now
