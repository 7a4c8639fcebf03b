"""Handlers for volume snapshots and settings, regions, placements, org-wide lists and minted tokens.

Snapshots live on the fake's :class:`~fly_tools.testing.volumes.Volume` (they go with
it); regions and placements are :mod:`fly_tools.testing.regions`; org-wide lists page through the org's apps with an opaque cursor, oldest change
first, as Fly's do. A deploy token minted here is a real token of the fake's
:class:`~fly_tools.testing.auth.TokenBook`: it works on its app and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from pydantic import Field

from fly_tools.testing.auth import resolve_org
from fly_tools.testing.calls import BodyParams, Call, Params, Reply, Strings, route
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import FakeBadRequestError, FakeForbiddenError
from fly_tools.testing.ids import digest
from fly_tools.testing.regions import DEFAULT_REGION, REGIONS, place
from fly_tools.testing.state import FakeState

LIST_MAX = 1000
"""The most rows an org-wide list returns in one page (and the default)."""
_GO_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


class VolumePath(Params):
    app_name: str
    volume_id: str


class UpdateVolumeParams(VolumePath, BodyParams):
    snapshot_retention: int | None = None
    auto_backup_enabled: bool | None = None


class PlacementsParams(BodyParams):
    org_slug: str = ""
    region: str | None = None
    count: int = Field(default=0, ge=0)
    compute: dict[str, Any] | None = None
    volume_name: str | None = None
    volume_size_bytes: int | None = None
    weights: dict[str, int] | None = None


class OrgListParams(Params):
    org_slug: str
    include_deleted: bool = False
    region: str | None = None
    state: Strings = Field(default_factory=list)
    summary: bool = False
    updated_after: str | None = None
    cursor: str | None = None
    limit: int = Field(default=LIST_MAX, ge=1)


class DeployTokenParams(BodyParams):
    app_name: str
    expiry: str | None = None


# ---------------------------------------------------------------- snapshots


@route("fly_list_volume_snapshots", VolumePath)
def list_snapshots(fly: FakeState, call: Call, p: VolumePath) -> Reply:
    volume = fly.live_volume(p.app_name, p.volume_id)
    return Reply([s.to_wire(call.now) for s in volume.kept_snapshots(call.now)])


@route("fly_create_volume_snapshot", VolumePath)
def create_snapshot(fly: FakeState, call: Call, p: VolumePath) -> Reply:
    volume = fly.live_volume(p.app_name, p.volume_id)
    snapshot_id = "vs_" + fly.ids.app_id()
    volume.take_snapshot(snapshot_id, digest(f"{volume.id}@{call.now}"), call.now)
    # The spec declares a 200 with no body.
    return Reply.empty(200)


@route("fly_update_volume", UpdateVolumeParams)
def update_volume(fly: FakeState, call: Call, p: UpdateVolumeParams) -> Reply:
    volume = fly.live_volume(p.app_name, p.volume_id)
    volume.update_settings(
        call.now,
        snapshot_retention=p.snapshot_retention,
        auto_backup_enabled=p.auto_backup_enabled,
    )
    return Reply(volume.to_wire())


# ---------------------------------------------------------------- platform


@route("fly_list_regions", Params)
def list_regions(fly: FakeState, call: Call, p: Params) -> Reply:
    keys = ("code", "name", "geo_region", "latitude", "longitude", "requires_paid_plan")
    rows = [dict(zip((*keys, "deprecated"), row, strict=True)) for row in REGIONS]
    for row in rows:
        row["gateway_available"] = not row["deprecated"]
    # Fly names the region nearest the caller; the fake's callers are all "in" iad.
    return Reply({"nearest": DEFAULT_REGION, "regions": rows})


@route("fly_get_placements", PlacementsParams)
def get_placements(fly: FakeState, call: Call, p: PlacementsParams) -> Reply:
    if not p.org_slug:
        raise FakeBadRequestError("org_slug is required")
    resolve_org(call.token, p.org_slug)
    placed = place(p.region, p.count, p.compute)
    return Reply({"regions": [placement.to_wire() for placement in placed]})


# ---------------------------------------------------------------- org-wide lists


@route("fly_list_org_machines", OrgListParams)
def list_org_machines(fly: FakeState, call: Call, p: OrgListParams) -> Reply:
    org = resolve_org(call.token, p.org_slug)
    rows: list[tuple[float, str, dict[str, Any]]] = []
    for app in _org_apps(fly, call, org):
        for machine in fly.machines(app.name, include_deleted=p.include_deleted):
            if _kept(p, machine.region, machine.state, machine.updated_at):
                rows.append((machine.updated_at, machine.id, _org_machine(app.name, machine, p)))
    return Reply(_page(rows, p, "machines", "last_machine_id"))


def _org_machine(app_name: str, machine: Any, p: OrgListParams) -> dict[str, Any]:
    wire = {
        "id": machine.id,
        "name": machine.name,
        "app_name": app_name,
        "state": machine.state,
        "region": machine.region,
        "private_ip": machine.private_ip,
        "instance_id": machine.version,
        "version": machine.version,
        "created_at": iso(machine.created_at),
        "updated_at": iso(machine.updated_at),
    }
    if not p.summary:
        config = machine.config
        overview = {k: config[k] for k in ("image", "guest", "metadata") if k in config}
        wire["config"] = overview
    return wire


@route("fly_list_org_volumes", OrgListParams)
def list_org_volumes(fly: FakeState, call: Call, p: OrgListParams) -> Reply:
    org = resolve_org(call.token, p.org_slug)
    rows: list[tuple[float, str, dict[str, Any]]] = []
    for app in _org_apps(fly, call, org):
        for volume in fly.volumes(app.name):
            if volume.deleted and not p.include_deleted:
                continue
            if _kept(p, volume.region, volume.state, volume.updated_at):
                wire = _org_volume(fly, volume.to_wire(summary=p.summary))
                wire |= {"app_name": app.name, "updated_at": iso(volume.updated_at)}
                rows.append((volume.updated_at, volume.id, wire))
    return Reply(_page(rows, p, "volumes", "last_volume_id"))


def _org_volume(fly: FakeState, wire: dict[str, Any]) -> dict[str, Any]:
    # fly-go's Volume has AttachedMachine *string without omitempty (volume_types.go:16-17):
    # Go writes null when unattached. The spec's OrgVolume allows no null: left out there.
    return wire if fly.shapes == "go" else {k: v for k, v in wire.items() if v is not None}


def _org_apps(fly: FakeState, call: Call, org: str) -> list[Any]:
    # Served apps of the org only; deploy tokens never get here (the record's scopes).
    return [a for a in fly.apps.values() if a.org.slug == org and call.now >= a.ready_at]


def _kept(p: OrgListParams, region: str, state: str, updated_at: float) -> bool:
    after = _after(p.updated_after) if p.updated_after and not p.cursor else None
    return (
        (p.region is None or region == p.region)
        and (not p.state or state in p.state)
        and (after is None or updated_at > after)
    )


def _after(text: str) -> float:
    if not _RFC3339.fullmatch(text):
        raise FakeBadRequestError(f"updated_after must be an RFC 3339 timestamp; got {text!r}")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _page(
    rows: list[tuple[float, str, dict[str, Any]]], p: OrgListParams, key: str, last_key: str
) -> dict[str, Any]:
    """One page of ``rows``, oldest change first, from ``p.cursor`` on."""
    rows.sort(key=lambda row: (row[0], row[1]))
    if p.cursor:
        start = _decode_cursor(p.cursor)
        rows = [row for row in rows if (row[0], row[1]) > start]
    page = rows[: min(p.limit, LIST_MAX)]
    answer: dict[str, Any] = {key: [row[2] for row in page]}
    if page:
        last = page[-1]
        answer |= {last_key: last[1], "last_updated_at": iso(last[0])}
        if len(rows) > len(page):
            answer["next_cursor"] = _encode_cursor(last[0], last[1])
    return answer


def _encode_cursor(updated_at: float, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{updated_at!r}|{row_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        stamp, _, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return float(stamp), row_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise FakeBadRequestError("invalid cursor: pass next_cursor from the last page") from None


# ---------------------------------------------------------------- credentials


@route("fly_create_deploy_token", DeployTokenParams)
def create_deploy_token(fly: FakeState, call: Call, p: DeployTokenParams) -> Reply:
    app = fly.app(p.app_name)
    if p.expiry is not None and not _GO_DURATION.fullmatch(p.expiry):
        raise FakeBadRequestError(f"expiry must be a duration such as '720h'; got {p.expiry!r}")
    if call.tokens is None:
        raise FakeForbiddenError("tokens cannot be issued here")
    token = call.tokens.issue("deploy", app.org.slug, app.name)
    return Reply({"token": "FlyV1 " + token})


@route("fly_request_kms_token", Params)
def request_kms_token(fly: FakeState, call: Call, p: Params) -> Reply:
    # An opaque Petsem token for the caller's org; the fake runs no KMS.
    seed = f"{call.token.org}:{secrets.token_hex(16)}".encode()
    return Reply.text("fpt_" + base64.urlsafe_b64encode(hashlib.sha256(seed).digest()).decode())
