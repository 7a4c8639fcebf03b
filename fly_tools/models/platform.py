"""Argument models of volume snapshots, the platform and org-wide lists, and credentials."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from fly_tools.models.base import OBVIOUS, VOLUME, AppArgs, FlyArgs
from fly_tools.models.fields import Bool, Duration, OptionalInt, check_guest_size
from fly_tools.models.identifiers import AppName, MachineId, OrgSlug, Region, VolumeId, VolumeName

ORG = "Org slug or 'personal'."
LIST_LIMIT = 1000
"""Most rows Fly returns in one page of an org-wide list."""
SNAPSHOT_RETENTION = (1, 60)
"""Days a volume's snapshots may be kept (Fly's bounds, as for create-volume)."""


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _listed(value: Any) -> Any:
    # Models often send one state as a bare string, or Fly's own comma-separated form.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# ---------------------------------------------------------------- field types

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")


def _timestamp(value: str) -> str:
    # Fly parses updated_after with Go's time.RFC3339: a date, a time and a zone.
    if _RFC3339.fullmatch(value):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        except ValueError:
            pass
    raise ValueError(
        f"must be an RFC 3339 timestamp with a zone, e.g. '2024-05-01T12:00:00Z'; got {_shown(value)}"
    )


Timestamp = Annotated[str, AfterValidator(_timestamp)]
"""An RFC 3339 timestamp with a time zone, as Fly's ``updated_after`` filters take."""

_CURSOR = re.compile(r"[A-Za-z0-9_.:=+/-]{1,1024}")


def _cursor(value: str) -> str:
    if _CURSOR.fullmatch(value):
        return value
    raise ValueError(
        f"must be the next_cursor of the previous page, unchanged; got {_shown(value)}"
    )


Cursor = Annotated[str, AfterValidator(_cursor)]
"""A page cursor as Fly returned it (``next_cursor``): opaque, printable, no spaces."""

_REGION_EXPR = re.compile(r"[a-z]{2,12}(?:,[a-z]{2,12}){0,31}")


def _region_expression(value: str) -> str:
    # Refused, not trimmed: " web" is not a region expression, and what is sent is what
    # the reviewer and the record saw.
    if _REGION_EXPR.fullmatch(value):
        return value
    raise ValueError(
        "must be region codes or aliases separated by commas, no spaces, e.g. 'lhr,eu' or "
        f"'ord,any'; got {_shown(value)}"
    )


RegionExpression = Annotated[str, AfterValidator(_region_expression)]
"""Fly's placement region expression: codes or aliases (``eu``, ``any``), comma-separated."""

_WORD = re.compile(r"[a-z_-]{1,32}")


def _word(kind: str, example: str) -> AfterValidator:
    def check(value: str) -> str:
        if _WORD.fullmatch(value):
            return value
        raise ValueError(
            f"{kind} is lower-case letters, '_' or '-', e.g. {example!r}; got {_shown(value)}"
        )

    return AfterValidator(check)


VolumeState = Annotated[str, _word("a volume state", "created")]
ACTION_LETTERS = "rwcdC"
"""Fly's access actions (``resset.Action``) as the letters its JSON uses."""


def _action(value: str) -> str:
    if value and set(value) <= set(ACTION_LETTERS) and len(set(value)) == len(value):
        return value
    raise ValueError(
        "must be letters of 'rwcdC' (r read, w write, c create, d delete, C control), "
        f"each at most once, e.g. 'rw'; got {_shown(value)}"
    )


Action = Annotated[str, AfterValidator(_action)]
"""An access wanted, as Fly's letters (``"rw"``)."""
Feature = Annotated[str, _word("a feature", "images")]
"""A named feature of an app, machine or org (``images``, ``wg``, ``kmstoken`` ...)."""


# ---------------------------------------------------------------- snapshots


class VolumeSnapshotsArgs(AppArgs):
    volume_id: VolumeId = Field(description=VOLUME)


class UpdateVolumeArgs(VolumeSnapshotsArgs):
    sends_body = True
    snapshot_retention: OptionalInt = Field(
        default=None,
        ge=SNAPSHOT_RETENTION[0],
        le=SNAPSHOT_RETENTION[1],
        description="Days to keep new snapshots; existing ones keep theirs.",
    )
    auto_backup_enabled: Bool | None = Field(default=None, description="Daily snapshots on/off.")

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateVolumeArgs:
        if self.snapshot_retention is None and self.auto_backup_enabled is None:
            raise ValueError("give snapshot_retention or auto_backup_enabled: nothing to change")
        return self


# ---------------------------------------------------------------- platform


class PlacementsArgs(FlyArgs):
    sends_body = True
    org_slug: OrgSlug = Field(description=ORG)
    region: RegionExpression | None = Field(
        default=None, max_length=400, description="Regions or aliases, e.g. 'lhr,eu'."
    )
    count: OptionalInt = Field(
        default=None, ge=0, le=1000, description="Machines to place; 0 shows each region's limit."
    )
    cpu_kind: Literal["shared", "performance"] | None = Field(
        default=None, description="Default performance.", json_schema_extra=OBVIOUS
    )
    cpus: OptionalInt = Field(default=None, ge=1, le=16, description="vCPUs.")
    memory_mb: OptionalInt = Field(default=None, ge=256, le=131072, description="MB.")
    volume_name: VolumeName | None = Field(default=None, description="Place beside this volume.")
    volume_size_bytes: OptionalInt = Field(
        default=None, ge=1, le=500 << 30, description="Volume size in bytes."
    )

    @model_validator(mode="after")
    def _guest_size(self) -> PlacementsArgs:
        if self.cpus is not None or self.memory_mb is not None:
            check_guest_size(self.cpu_kind or "shared", self.cpus, self.memory_mb)
        return self

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # The guest size travels as the spec's nested `compute` (fly.MachineGuest).
        body = super().json_body(path_fields)
        compute = {k: body.pop(k) for k in ("cpu_kind", "cpus", "memory_mb") if k in body}
        if compute:
            body["compute"] = compute
        return body


MachineState = Literal["created", "started", "stopped", "suspended"]


class _OrgListArgs(FlyArgs):
    query_fields = (
        "include_deleted",
        "region",
        "state",
        "summary",
        "updated_after",
        "cursor",
        "limit",
    )
    org_slug: OrgSlug = Field(description=ORG)
    region: Region | None = Field(
        default=None, description="Only this region.", json_schema_extra=OBVIOUS
    )
    include_deleted: Bool | None = Field(
        default=None, description="Include deleted ones.", json_schema_extra=OBVIOUS
    )
    summary: Bool | None = Field(default=None, description="Leave out details, shorter rows.")
    updated_after: Timestamp | None = Field(
        default=None, description="RFC 3339, e.g. '2024-05-01T12:00:00Z'."
    )
    cursor: Cursor | None = Field(default=None, description="next_cursor of the previous page.")
    limit: OptionalInt = Field(default=None, ge=1, le=LIST_LIMIT, description="Rows per page.")

    def query_params(self) -> list[tuple[str, str]]:
        # Fly takes the state filter as one comma-separated value.
        params = [(k, v) for k, v in super().query_params() if k != "state"]
        states = getattr(self, "state", None)
        if states:
            params.append(("state", ",".join(states)))
        return params


class ListOrgMachinesArgs(_OrgListArgs):
    state: Annotated[list[MachineState] | None, BeforeValidator(_listed)] = Field(
        default=None, description="Only these states.", json_schema_extra=OBVIOUS
    )


class ListOrgVolumesArgs(_OrgListArgs):
    state: Annotated[list[VolumeState] | None, BeforeValidator(_listed)] = Field(
        default=None, max_length=16, description="Only these states, e.g. ['created']."
    )


# ---------------------------------------------------------------- credentials


class CreateDeployTokenArgs(AppArgs):
    sends_body = True
    expiry: Duration | None = Field(
        default=None, description="Lifetime, e.g. '720h'; Fly's default is long."
    )

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # The spec's body is required, so an empty object goes when no expiry is given.
        return {"expiry": self.expiry} if self.expiry is not None else {}


class NoArgs(FlyArgs):
    """No arguments (the regions list, the client's own token, a KMS token)."""


class OwnTokenArgs(FlyArgs):
    """A question about the client's own token: the token is added by the client, never here.

    The flow ``own_token`` fills the body's ``header`` from the client's credentials, so the
    token is not an argument: no model sees it, and no audit record or callback holds it.
    """

    sends_body = True


class AuthorizeTokenArgs(OwnTokenArgs):
    action: Action | None = Field(
        default=None, description="Letters of rwcdC, e.g. 'rw'; none just verifies."
    )
    # Fly checks every access within an org (superfly/macaroon flyio/access.go, Validate).
    org_slug: OrgSlug = Field(description=ORG)
    app_name: AppName | None = Field(
        default=None, description="Fly app.", json_schema_extra=OBVIOUS
    )
    machine_id: MachineId | None = Field(default=None, description="Needs app_name.")
    volume_id: VolumeId | None = Field(default=None, description="e.g. 'vol_abc123'.")
    app_feature: Feature | None = Field(default=None, description="e.g. 'images'; needs app_name.")
    machine_feature: Feature | None = Field(
        default=None, description="e.g. 'metadata', 'oidc'; needs machine_id."
    )
    org_feature: Feature | None = Field(
        default=None, description="e.g. 'wg', 'builder'; needs org_slug."
    )

    @model_validator(mode="after")
    def _features_name_their_owner(self) -> AuthorizeTokenArgs:
        # Fly's TokenAccess: each feature needs the resource it belongs to.
        for feature, owner in (
            ("app_feature", "app_name"),
            ("machine_feature", "machine_id"),
            ("machine_id", "app_name"),
            ("org_feature", "org_slug"),
        ):
            if getattr(self, feature) is not None and getattr(self, owner) is None:
                raise ValueError(f"{feature} needs {owner}")
        return self

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # Everything asked is Fly's TokenAccess, under `access`; `header` is the flow's.
        return {"access": super().json_body(path_fields)}


__all__ = [
    "AuthorizeTokenArgs",
    "CreateDeployTokenArgs",
    "ListOrgMachinesArgs",
    "ListOrgVolumesArgs",
    "NoArgs",
    "OwnTokenArgs",
    "PlacementsArgs",
    "UpdateVolumeArgs",
    "VolumeSnapshotsArgs",
]
