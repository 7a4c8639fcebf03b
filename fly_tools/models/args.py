"""Argument models, one per catalogue endpoint: what a model may send, and how it maps to HTTP.

Each model knows which of its fields go in the query string and what JSON body it sends;
path parameters are the fields named in the endpoint's path template. Field descriptions
are written for the model reading the tool schema, once, here.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from fly_tools.models.config import (
    Duration,
    MachineConfig,
    Signal7,
    Signal14,
    check_guest_size,
)
from fly_tools.models.identifiers import (
    AppName,
    LeaseNonce,
    MachineId,
    MachineName,
    OrgSlug,
    Region,
    SecretName,
    VersionId,
    VolumeId,
    VolumeName,
)

APP = "Fly app name, e.g. 'web'."
MACHINE = "Machine id, e.g. '3d8d9015b23489' (from fly_list_machines)."
VOLUME = "Volume id, e.g. 'vol_abc123' (from fly_list_volumes)."
NONCE = "Lease nonce, only if the machine is leased (from fly_acquire_lease)."


def lean_schema(schema: dict[str, Any]) -> None:
    """Show each optional field as its type alone (used as ``json_schema_extra``)."""
    # An optional field is shown as its type alone: the model may leave it out, and
    # "anyOf [T, null], default null" costs tokens in every tool definition sent.
    for prop in schema.get("properties", {}).values():
        options = prop.get("anyOf")
        nullable = options and len(options) == 2 and {"type": "null"} in options
        if nullable and "default" in prop and prop["default"] is None:
            del prop["anyOf"], prop["default"]
            prop.update(next(o for o in options if o != {"type": "null"}))


class FlyArgs(BaseModel):
    """Base of every endpoint's arguments.

    Subclasses list their query-string fields in ``query_fields``; fields that are neither
    path, query nor ``lease_nonce`` form the JSON body when ``sends_body`` is true.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=lean_schema)

    query_fields: ClassVar[tuple[str, ...]] = ()
    sends_body: ClassVar[bool] = False

    def query_params(self) -> list[tuple[str, str]]:
        """Query parameters in wire form; lists become repeated parameters."""
        params: list[tuple[str, str]] = []
        for name in self.query_fields:
            value = getattr(self, name)
            if value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                params.append((name, _query_text(item)))
        return params

    def json_body(self, path_fields: frozenset[str]) -> Any:
        """The JSON body, or ``None`` when the endpoint sends none."""
        if not self.sends_body:
            return None
        skip = set(path_fields) | set(self.query_fields) | {"lease_nonce"}
        return {
            name: _wire(value) for name, value in self if name not in skip and value is not None
        }

    def lease_nonce_header(self) -> str | None:
        """The value for ``fly-machine-lease-nonce``, if this call carries one."""
        nonce = getattr(self, "lease_nonce", None)
        return nonce if isinstance(nonce, str) else None


def _listed(value: Any) -> Any:
    # Models often send one state as a bare string; a list of one is what they mean.
    return [value] if isinstance(value, str) else value


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wire(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return value


# ---------------------------------------------------------------- apps


class ListAppsArgs(FlyArgs):
    query_fields = ("org_slug", "app_role")
    org_slug: OrgSlug = Field(description="Organization slug, or 'personal'.")
    app_role: str | None = Field(
        default=None, max_length=64, description="Only apps with this role."
    )


class AppArgs(FlyArgs):
    app_name: AppName = Field(description=APP)


class CreateAppArgs(FlyArgs):
    sends_body = True
    app_name: AppName = Field(description="New app name; unique across all of Fly.io.")
    org_slug: OrgSlug = Field(description="Organization slug that will own the app.")
    network: str | None = Field(default=None, description="Custom private network name.")

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # The spec and fly-go send `name`; the docs' curl examples say `app_name` (D1).
        body: dict[str, Any] = {"name": self.app_name, "org_slug": self.org_slug}
        if self.network is not None:
            body["network"] = self.network
        return body


class DeleteAppArgs(AppArgs):
    query_fields = ("force",)
    force: bool = Field(default=False, description="Stop all machines and delete at once.")


# ---------------------------------------------------------------- machines

MachineState = Literal["created", "started", "stopped", "suspended"]


class ListMachinesArgs(AppArgs):
    query_fields = ("region", "state", "include_deleted")
    region: Region | None = Field(default=None, description="Only machines in this region.")
    state: Annotated[list[MachineState] | None, BeforeValidator(_listed)] = Field(
        default=None, description="Only these states."
    )
    include_deleted: bool | None = Field(default=None, description="Include destroyed ones.")

    def query_params(self) -> list[tuple[str, str]]:
        # Fly takes the state filter as one comma-separated value.
        params = [(k, v) for k, v in super().query_params() if k != "state"]
        if self.state:
            params.append(("state", ",".join(self.state)))
        return params


class MachineArgs(AppArgs):
    machine_id: MachineId = Field(description=MACHINE)


class LeasedMachineArgs(MachineArgs):
    lease_nonce: LeaseNonce | None = Field(default=None, description=NONCE)


class MachineSpecArgs(AppArgs):
    """The common machine settings as flat fields, plus the rest of Fly's config in one."""

    image: str | None = Field(default=None, min_length=1, description="Docker image.")
    cpus: int | None = Field(default=None, description="vCPUs: 1, 2, 4, 6, 8 … 16.")
    memory_mb: int | None = Field(default=None, description="RAM in MB, a multiple of 256.")
    cpu_kind: Literal["shared", "performance"] | None = Field(default=None, description="CPU kind.")
    env: dict[str, str] | None = Field(default=None, description="Environment variables.")
    internal_port: int | None = Field(
        default=None, ge=1, le=65535, description="Serve this port publicly on 80/443 (HTTP)."
    )
    volume_id: VolumeId | None = Field(default=None, description="Volume to mount.")
    mount_path: str | None = Field(
        default=None, pattern=r"^/", description="Where to mount volume_id, e.g. '/data'."
    )
    restart_policy: Literal["no", "always", "on-failure"] | None = Field(
        default=None, description="Restart policy."
    )
    config: dict[str, Any] | None = Field(
        default=None,
        description="Any other Fly machine config fields (services, checks, init, ...); "
        "flat fields above take precedence.",
    )

    @field_validator("config")
    @classmethod
    def _config_is_fly_config(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            MachineConfig.model_validate(value)
        return value

    @model_validator(mode="after")
    def _check_spec(self) -> MachineSpecArgs:
        if (self.volume_id is None) != (self.mount_path is None):
            raise ValueError("volume_id and mount_path go together: give both or neither")
        check_guest_size(self.cpu_kind, self.cpus, self.memory_mb)
        return self

    def merged_config(self, base: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fly's full config as JSON: ``base`` (the current one, for updates), then
        ``config``, then the flat fields.

        Only what the caller gives is validated; ``base`` comes from Fly and is passed
        through as is, so fields this package does not model survive an update.
        """
        merged: dict[str, Any] = dict(base or {})
        if self.config:
            merged.update(MachineConfig.model_validate(self.config).to_wire())
        if self.image is not None:
            merged["image"] = self.image
        if self.env is not None:
            merged["env"] = {**(merged.get("env") or {}), **self.env}
        sizing = {f: getattr(self, f) for f in ("cpus", "memory_mb", "cpu_kind")}
        sizing = {f: v for f, v in sizing.items() if v is not None}
        if sizing or (self.config and "guest" in self.config):
            guest = {**(merged.get("guest") or {}), **sizing}
            check_guest_size(guest.get("cpu_kind"), guest.get("cpus"), guest.get("memory_mb"))
            merged["guest"] = guest
        if self.internal_port is not None:
            merged["services"] = [_http_service(self.internal_port)]
        if self.volume_id is not None:
            merged["mounts"] = [{"volume": self.volume_id, "path": self.mount_path}]
        if self.restart_policy is not None:
            merged["restart"] = {**(merged.get("restart") or {}), "policy": self.restart_policy}
        return merged


def _http_service(internal_port: int) -> dict[str, Any]:
    return {
        "protocol": "tcp",
        "internal_port": internal_port,
        "ports": [
            {"port": 80, "handlers": ["http"], "force_https": True},
            {"port": 443, "handlers": ["tls", "http"]},
        ],
    }


class CreateMachineArgs(MachineSpecArgs):
    sends_body = True
    name: MachineName | None = Field(default=None, description="Machine name (optional).")
    region: Region | None = Field(default=None, description="Region code, e.g. 'ord'.")
    skip_launch: bool | None = Field(default=None, description="Create without starting.")

    @model_validator(mode="after")
    def _needs_image(self) -> CreateMachineArgs:
        if not self.merged_config().get("image"):
            raise ValueError("image is required to create a machine (e.g. 'nginx:1.27')")
        return self

    def json_body(self, path_fields: frozenset[str]) -> Any:
        body: dict[str, Any] = {"config": self.merged_config()}
        for field in ("name", "region", "skip_launch"):
            if getattr(self, field) is not None:
                body[field] = getattr(self, field)
        return body


class UpdateMachineArgs(MachineSpecArgs):
    """Changes to merge into the machine's current config (Fly needs the whole config)."""

    sends_body = True
    machine_id: MachineId = Field(description=MACHINE)
    current_version: VersionId | None = Field(
        default=None, description="Fail if the machine changed since this version."
    )
    lease_nonce: LeaseNonce | None = Field(default=None, description=NONCE)

    @model_validator(mode="after")
    def _has_change(self) -> UpdateMachineArgs:
        changes = self.model_fields_set - {
            "app_name",
            "machine_id",
            "current_version",
            "lease_nonce",
        }
        if not changes:
            raise ValueError("give at least one change (image, cpus, memory_mb, env, config, ...)")
        return self

    def update_body(self, current: dict[str, Any]) -> dict[str, Any]:
        """The request body, given the machine as Fly returns it from a GET."""
        body: dict[str, Any] = {"config": self.merged_config(current.get("config"))}
        version = self.current_version or current.get("instance_id") or current.get("version")
        if version:
            body["current_version"] = version
        return body

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # Without the current config only the given fields can be sent; callers that
        # hold it use update_body() (the client does, reading the machine first).
        return {"config": self.merged_config()} | (
            {"current_version": self.current_version} if self.current_version else {}
        )


class DeleteMachineArgs(LeasedMachineArgs):
    query_fields = ("force",)
    force: bool = Field(default=False, description="Kill it first if it is running.")


class StopMachineArgs(LeasedMachineArgs):
    sends_body = True
    signal: Signal7 | None = Field(default=None, description="Signal to send (default SIGINT).")
    timeout: Duration | None = Field(
        default=None, description="Grace before a hard stop, e.g. '30s'."
    )


class RestartMachineArgs(LeasedMachineArgs):
    query_fields = ("signal", "timeout")
    signal: Signal7 | None = Field(default=None, description="Signal to stop with.")
    timeout: Duration | None = Field(
        default=None, description="Grace before a hard stop, e.g. '30s'."
    )


class SignalMachineArgs(MachineArgs):
    sends_body = True
    signal: Signal14 = Field(description="Signal to deliver, e.g. 'SIGHUP'.")


class ExecMachineArgs(MachineArgs):
    sends_body = True
    command: list[str] = Field(
        min_length=1, description="Program and arguments, e.g. ['ls', '-la', '/data']."
    )
    timeout: int | None = Field(default=None, ge=1, le=600, description="Seconds to allow.")
    stdin: str | None = Field(default=None, description="Text fed to the command's stdin.")
    container: str | None = Field(default=None, description="Container to run in.")

    @field_validator("command")
    @classmethod
    def _program_named(cls, value: list[str]) -> list[str]:
        if not value[0].strip():
            raise ValueError("command[0] must name the program to run, e.g. 'ls'")
        return value


WaitState = Literal["started", "stopped", "suspended", "destroyed", "failed", "settled"]
WAIT_REQUEST_CAP = 60
"""Fly holds a wait request open for at most this many seconds, then answers 408."""


class WaitMachineArgs(MachineArgs):
    query_fields = ("state", "timeout", "version")
    state: WaitState | list[WaitState] = Field(
        default="started", description="State(s) to wait for; 'settled' = not transient."
    )
    timeout: int = Field(default=60, ge=1, le=600, description="Seconds to wait in total.")
    version: VersionId | None = Field(
        default=None, description="Machine version the state must belong to."
    )

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
    sort_by: Literal["cpu", "rss", "pid"] | None = Field(default=None, description="Sort key.")
    order: Literal["asc", "desc"] | None = Field(default=None, description="Sort order.")


class ListEventsArgs(MachineArgs):
    query_fields = ("limit",)
    limit: int | None = Field(default=None, ge=1, le=50, description="Newest N events (max 50).")


# ---------------------------------------------------------------- leases


class AcquireLeaseArgs(MachineArgs):
    sends_body = True
    ttl: int = Field(default=300, ge=1, le=3600, description="Lease lifetime in seconds.")
    description: str | None = Field(default=None, max_length=200, description="Why it is held.")
    lease_nonce: LeaseNonce | None = Field(
        default=None, description="Nonce of a lease you hold, to refresh it."
    )


class ReleaseLeaseArgs(MachineArgs):
    lease_nonce: LeaseNonce = Field(description="Nonce returned by fly_acquire_lease.")


# ---------------------------------------------------------------- volumes


class VolumeArgs(AppArgs):
    volume_id: VolumeId = Field(description=VOLUME)


class CreateVolumeArgs(AppArgs):
    sends_body = True
    name: VolumeName = Field(description="Volume name, e.g. 'data'.")
    region: Region = Field(description="Region code; mount it from a machine there.")
    size_gb: int = Field(default=1, ge=1, le=500, description="Size in GB, 1-500.")
    encrypted: bool | None = Field(default=None, description="Encrypt at rest (default true).")
    snapshot_retention: int | None = Field(
        default=None, ge=1, le=60, description="Days to keep snapshots."
    )
    source_volume_id: VolumeId | None = Field(default=None, description="Fork this volume.")


class ExtendVolumeArgs(VolumeArgs):
    sends_body = True
    size_gb: int = Field(ge=1, le=500, description="New total size in GB (grow only, max 500).")


# ---------------------------------------------------------------- secrets


class SecretArgs(AppArgs):
    secret_name: SecretName = Field(description="Secret name, e.g. 'DATABASE_URL'.")


class SetSecretArgs(SecretArgs):
    sends_body = True
    value: SecretStr = Field(min_length=1, description="Secret value; never echoed back.")


# ---------------------------------------------------------------- tokens


class OidcTokenArgs(FlyArgs):
    sends_body = True
    aud: str | None = Field(
        default=None,
        max_length=512,
        description="Audience claim, e.g. 'sts.amazonaws.com'.",
    )
    aws_principal_tags: bool | None = Field(default=None, description="Add AWS principal tags.")
