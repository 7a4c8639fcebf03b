"""Machine create and update arguments: the common settings as flat fields, the rest of Fly's config in one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from fly_tools.models.base import MACHINE, NONCE, OBVIOUS, AppArgs
from fly_tools.models.fields import (
    Bool,
    GuestPath,
    OptionalInt,
    check_finite_tree,
    check_guest_size,
)

if TYPE_CHECKING:
    from fly_tools.models.config import MachineConfig
from fly_tools.models.identifiers import (
    EnvMap,
    LeaseNonce,
    MachineId,
    MachineName,
    Region,
    VersionId,
    VolumeId,
)


class MachineSpecArgs(AppArgs):
    """The common machine settings as flat fields, plus the rest of Fly's config in one."""

    image: str | None = Field(
        default=None, min_length=1, description="Docker image.", json_schema_extra=OBVIOUS
    )
    cpus: OptionalInt = Field(default=None, description="1, 2, 4, 6 ... 16.")
    memory_mb: OptionalInt = Field(default=None, description="Multiple of 256.")
    cpu_kind: Literal["shared", "performance"] | None = Field(
        default=None, description="CPU kind.", json_schema_extra=OBVIOUS
    )
    env: EnvMap | None = Field(
        default=None,
        description="Environment variables.",
    )
    internal_port: OptionalInt = Field(
        default=None, ge=1, le=65535, description="Port to serve on 80/443."
    )
    volume_id: VolumeId | None = Field(default=None, description="Volume to mount.")
    mount_path: GuestPath | None = Field(default=None, description="e.g. '/data'.")
    restart_policy: Literal["no", "always", "on-failure"] | None = Field(
        default=None, description="Restart policy.", json_schema_extra=OBVIOUS
    )
    # Not named "config": LangChain takes that keyword for its own run configuration and
    # would drop the field on every invoke (tests/unit/test_reserved_names.py).
    machine_config: dict[str, Any] | None = Field(
        default=None,
        description="Other Fly config fields (services, checks, ...).",
    )

    @field_validator("machine_config")
    @classmethod
    def _is_fly_config(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            check_finite_tree(value, "machine_config")
            _machine_config().model_validate(value)
        return value

    @model_validator(mode="after")
    def _check_spec(self) -> MachineSpecArgs:
        if (self.volume_id is None) != (self.mount_path is None):
            raise ValueError("volume_id and mount_path go together: give both or neither")
        check_guest_size(self.cpu_kind, self.cpus, self.memory_mb)
        return self

    def merged_config(self, base: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fly's full config as JSON: ``base`` (the current one, for updates), then
        ``machine_config``, then the flat fields.

        Only what the caller gives is validated; ``base`` comes from Fly and is passed
        through as is, so fields this package does not model survive an update.
        """
        merged: dict[str, Any] = dict(base or {})
        if self.machine_config:
            merged.update(_machine_config().model_validate(self.machine_config).to_wire())
        if self.image is not None:
            merged["image"] = self.image
        if self.env is not None:
            merged["env"] = {**(merged.get("env") or {}), **self.env}
        sizing = {f: getattr(self, f) for f in ("cpus", "memory_mb", "cpu_kind")}
        sizing = {f: v for f, v in sizing.items() if v is not None}
        if sizing or (self.machine_config and "guest" in self.machine_config):
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


def _machine_config() -> type[MachineConfig]:
    # Fly's whole config is some forty models: imported when a call first needs it, not
    # with the package.
    from fly_tools.models.config import MachineConfig

    return MachineConfig


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
    name: MachineName | None = Field(
        default=None, description="Machine name.", json_schema_extra=OBVIOUS
    )
    region: Region | None = Field(default=None, description="e.g. 'ord'.")
    skip_launch: Bool | None = Field(default=None, description="Create without starting.")

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
        default=None, description="Fail if no longer this version."
    )
    lease_nonce: LeaseNonce | None = Field(
        default=None, description=NONCE, json_schema_extra=OBVIOUS
    )

    @model_validator(mode="after")
    def _has_change(self) -> UpdateMachineArgs:
        changes = self.model_fields_set - {
            "app_name",
            "machine_id",
            "current_version",
            "lease_nonce",
        }
        if not changes:
            raise ValueError(
                "give at least one change (image, cpus, memory_mb, env, machine_config, ...)"
            )
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
