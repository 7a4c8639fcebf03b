"""Handlers for volumes: list, get, create, extend, delete."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from fly_tools.models.identifiers import VolumeName
from fly_tools.testing.calls import REGION, BodyParams, Call, Params, Reply, route
from fly_tools.testing.errors import FakeBadRequestError, require_valid
from fly_tools.testing.state import FakeState

_VOLUME_NAME = TypeAdapter(VolumeName)


class AppPath(Params):
    app_name: str


class ListVolumesParams(AppPath):
    summary: bool = False


class VolumePath(AppPath):
    volume_id: str


class CreateVolumeParams(AppPath, BodyParams):
    # `fly volumes create` and `fork` send every field, null where unset: a null is the
    # default here, as for Go's decoder (see parse_params).
    name: str
    region: str | None = None
    size_gb: int = 3  # the API's default; flyctl's is 1 (D10)
    encrypted: bool = True
    fstype: str = "ext4"
    snapshot_retention: int = 5
    auto_backup_enabled: bool = True
    source_volume_id: str | None = None
    snapshot_id: str | None = None
    require_unique_zone: bool | None = None
    unique_zone_app_wide: bool | None = None
    compute: dict[str, Any] | None = None
    compute_image: str | None = None


class ExtendVolumeParams(VolumePath, BodyParams):
    size_gb: int


@route("fly_list_volumes", ListVolumesParams)
def list_volumes(fly: FakeState, call: Call, p: ListVolumesParams) -> Reply:
    # Deleted volumes are listed in their destroy states, as Fly lists them.
    return Reply([volume.to_wire(summary=p.summary) for volume in fly.volumes(p.app_name)])


@route("fly_get_volume", VolumePath)
def get_volume(fly: FakeState, call: Call, p: VolumePath) -> Reply:
    return Reply(fly.volume(p.app_name, p.volume_id).to_wire())


@route("fly_create_volume", CreateVolumeParams)
def create_volume(fly: FakeState, call: Call, p: CreateVolumeParams) -> Reply:
    require_valid(_VOLUME_NAME, p.name)
    if p.region is not None:
        require_valid(REGION, p.region)
    if not 1 <= p.snapshot_retention <= 60:
        raise FakeBadRequestError("snapshot_retention must be between 1 and 60 days")
    volume = fly.create_volume(
        p.app_name,
        p.name,
        region=p.region,
        size_gb=p.size_gb,
        source_volume_id=p.source_volume_id,
        encrypted=p.encrypted,
        fstype=p.fstype,
        snapshot_retention=p.snapshot_retention,
        auto_backup_enabled=p.auto_backup_enabled,
    )
    # Fly answers 200 here, not 201.
    return Reply(volume.to_wire())


@route("fly_extend_volume", ExtendVolumeParams)
def extend_volume(fly: FakeState, call: Call, p: ExtendVolumeParams) -> Reply:
    volume, needs_restart = fly.extend_volume(p.app_name, p.volume_id, p.size_gb)
    return Reply({"volume": volume.to_wire(), "needs_restart": needs_restart})


@route("fly_delete_volume", VolumePath)
def delete_volume(fly: FakeState, call: Call, p: VolumePath) -> Reply:
    return Reply(fly.delete_volume(p.app_name, p.volume_id).to_wire())
