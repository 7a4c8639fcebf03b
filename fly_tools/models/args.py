"""Argument models, one per catalogue endpoint: what a model may send, and how it maps to HTTP.

Each model knows which of its fields go in the query string and what JSON body it sends;
path parameters are the fields named in the endpoint's path template. Field descriptions
are written for the model reading the tool schema, once, here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    field_validator,
)

from fly_tools.models.base import (
    OBVIOUS,
    VOLUME,
    AppArgs,
    FlyArgs,
    LeasedMachineArgs,
    MachineArgs,
)
from fly_tools.models.fields import Bool, Duration, Int, OptionalInt, Signal7, Signal14
from fly_tools.models.identifiers import (
    AppName,
    LeaseNonce,
    NetworkName,
    OrgSlug,
    Region,
    SecretName,
    VersionId,
    VolumeId,
    VolumeName,
)
from fly_tools.models.machine_spec import CreateMachineArgs, MachineSpecArgs, UpdateMachineArgs


def _listed(value: Any) -> Any:
    # Models often send one state as a bare string; a list of one is what they mean.
    return [value] if isinstance(value, str) else value


# ---------------------------------------------------------------- apps


class ListAppsArgs(FlyArgs):
    query_fields = ("org_slug", "app_role")
    org_slug: OrgSlug = Field(description="Org slug or 'personal'.")
    app_role: str | None = Field(
        default=None,
        max_length=64,
        description="Only apps with this role.",
        json_schema_extra=OBVIOUS,
    )


class CreateAppArgs(FlyArgs):
    sends_body = True
    app_name: AppName = Field(description="Unique across Fly.io.")
    org_slug: OrgSlug = Field(description="Owning org slug.")
    network: NetworkName | None = Field(
        default=None, description="Private network name.", json_schema_extra=OBVIOUS
    )

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # The spec and fly-go send `name`; the docs' curl examples say `app_name` (D1).
        body: dict[str, Any] = {"name": self.app_name, "org_slug": self.org_slug}
        if self.network is not None:
            body["network"] = self.network
        return body


class DeleteAppArgs(AppArgs):
    query_fields = ("force",)
    force: Bool = Field(default=False, description="Stop its machines first.")


# ---------------------------------------------------------------- machines

MachineState = Literal["created", "started", "stopped", "suspended"]


class ListMachinesArgs(AppArgs):
    query_fields = ("region", "state", "include_deleted")
    region: Region | None = Field(
        default=None, description="Only this region.", json_schema_extra=OBVIOUS
    )
    state: Annotated[list[MachineState] | None, BeforeValidator(_listed)] = Field(
        default=None, description="Only these states.", json_schema_extra=OBVIOUS
    )
    include_deleted: Bool | None = Field(
        default=None, description="Include destroyed ones.", json_schema_extra=OBVIOUS
    )

    def query_params(self) -> list[tuple[str, str]]:
        # Fly takes the state filter as one comma-separated value.
        params = [(k, v) for k, v in super().query_params() if k != "state"]
        if self.state:
            params.append(("state", ",".join(self.state)))
        return params


class DeleteMachineArgs(LeasedMachineArgs):
    # The spec and Fly's docs take ?force=; fly-go sends ?kill= (D2 in spec/ENDPOINTS.md).
    # The spec's form is sent; the fake accepts both.
    query_fields = ("force",)
    force: Bool = Field(default=False, description="Kill it if running.")


class StopMachineArgs(LeasedMachineArgs):
    sends_body = True
    signal: Signal7 | None = Field(default=None, description="Default SIGINT.")
    timeout: Duration | None = Field(default=None, description="Grace period, e.g. '30s'.")


class RestartMachineArgs(LeasedMachineArgs):
    query_fields = ("signal", "timeout")
    signal: Signal7 | None = Field(
        default=None, description="To stop with.", json_schema_extra=OBVIOUS
    )
    timeout: Duration | None = Field(default=None, description="Grace period, e.g. '30s'.")


class SignalMachineArgs(MachineArgs):
    sends_body = True
    signal: Signal14 = Field(description="e.g. 'SIGHUP'.", json_schema_extra=OBVIOUS)


class ExecMachineArgs(MachineArgs):
    sends_body = True
    command: list[str] = Field(min_length=1, description="e.g. ['ls', '-la'].")
    timeout: OptionalInt = Field(default=None, ge=1, le=600, description="Seconds.")
    stdin: str | None = Field(
        default=None, description="Text for stdin.", json_schema_extra=OBVIOUS
    )
    container: str | None = Field(
        default=None, description="Container to run in.", json_schema_extra=OBVIOUS
    )

    @field_validator("command")
    @classmethod
    def _program_named(cls, value: list[str]) -> list[str]:
        if not value[0].strip():
            raise ValueError("command[0] must name the program to run, e.g. 'ls'")
        return value


WaitState = Literal["started", "stopped", "suspended", "destroyed", "failed", "settled"]
WAIT_REQUEST_CAP = 60
"""Fly holds a wait request open for at most this many seconds, then answers 408."""


def _some_states(states: list[str]) -> list[str]:
    # Checked here rather than as minItems, which would cost every prompt schema tokens.
    if not states:
        raise ValueError("give one state or a list of at least one")
    return states


class WaitMachineArgs(MachineArgs):
    query_fields = ("state", "timeout", "version")
    state: WaitState | Annotated[list[WaitState], AfterValidator(_some_states)] = Field(
        default="started", description="'settled': any state that is not transient."
    )
    timeout: Int = Field(default=60, ge=1, le=600, description="Seconds in total.")
    version: VersionId | None = Field(default=None, description="Of this version only.")

    def query_params(self) -> list[tuple[str, str]]:
        # One request blocks at most 60 s; longer waits loop in the client (D5).
        params = [(k, v) for k, v in super().query_params() if k != "timeout"]
        params.append(("timeout", str(min(self.timeout, WAIT_REQUEST_CAP))))
        return params

    @property
    def states(self) -> list[str]:
        """The requested states as a list."""
        return [self.state] if isinstance(self.state, str) else list(self.state)


class ListProcessesArgs(MachineArgs):
    query_fields = ("sort_by", "order")
    sort_by: Literal["cpu", "rss", "pid"] | None = Field(
        default=None, description="Sort key.", json_schema_extra=OBVIOUS
    )
    order: Literal["asc", "desc"] | None = Field(
        default=None, description="Sort order.", json_schema_extra=OBVIOUS
    )


class ListEventsArgs(MachineArgs):
    query_fields = ("limit",)
    limit: OptionalInt = Field(default=None, ge=1, le=50, description="Newest N.")


# ---------------------------------------------------------------- leases


class AcquireLeaseArgs(MachineArgs):
    # The TTL travels in the body (spec, docs); fly-go sends ?ttl= (D6 in
    # spec/ENDPOINTS.md). The spec's form is sent; the fake accepts both.
    sends_body = True
    ttl: Int = Field(default=300, ge=1, le=3600, description="Seconds.")
    description: str | None = Field(default=None, max_length=200, description="Why it is held.")
    lease_nonce: LeaseNonce | None = Field(default=None, description="To refresh your lease.")


class ReleaseLeaseArgs(MachineArgs):
    lease_nonce: LeaseNonce = Field(description="From fly_acquire_lease.")


# ---------------------------------------------------------------- volumes


class VolumeArgs(AppArgs):
    volume_id: VolumeId = Field(description=VOLUME)


class CreateVolumeArgs(AppArgs):
    sends_body = True
    name: VolumeName = Field(description="e.g. 'data'.")
    region: Region = Field(description="e.g. 'ord'.")
    size_gb: Int = Field(default=1, ge=1, le=500, description="GB.")
    encrypted: Bool | None = Field(default=None, description="Default true.")
    snapshot_retention: OptionalInt = Field(default=None, ge=1, le=60, description="Days.")
    source_volume_id: VolumeId | None = Field(default=None, description="Fork this volume.")


class ExtendVolumeArgs(VolumeArgs):
    sends_body = True
    size_gb: Int = Field(ge=1, le=500, description="New total GB; grow only.")


# ---------------------------------------------------------------- secrets


class SecretArgs(AppArgs):
    secret_name: SecretName = Field(description="e.g. 'DATABASE_URL'.")


class SetSecretArgs(SecretArgs):
    sends_body = True
    value: SecretStr = Field(min_length=1, description="Never echoed back.")


# ---------------------------------------------------------------- tokens


class OidcTokenArgs(FlyArgs):
    sends_body = True
    aud: str | None = Field(
        default=None,
        max_length=512,
        description="Audience claim, e.g. 'sts.amazonaws.com'.",
    )
    aws_principal_tags: Bool | None = Field(
        default=None, description="Add AWS principal tags.", json_schema_extra=OBVIOUS
    )


__all__ = [
    "WAIT_REQUEST_CAP",
    "AcquireLeaseArgs",
    "AppArgs",
    "CreateAppArgs",
    "CreateMachineArgs",
    "CreateVolumeArgs",
    "DeleteAppArgs",
    "DeleteMachineArgs",
    "ExecMachineArgs",
    "ExtendVolumeArgs",
    "FlyArgs",
    "LeasedMachineArgs",
    "ListAppsArgs",
    "ListEventsArgs",
    "ListMachinesArgs",
    "ListProcessesArgs",
    "MachineArgs",
    "MachineSpecArgs",
    "MachineState",
    "OidcTokenArgs",
    "ReleaseLeaseArgs",
    "RestartMachineArgs",
    "SecretArgs",
    "SetSecretArgs",
    "SignalMachineArgs",
    "StopMachineArgs",
    "UpdateMachineArgs",
    "VolumeArgs",
    "WaitMachineArgs",
    "WaitState",
]
