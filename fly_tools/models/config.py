"""Fly's machine configuration (``fly.MachineConfig`` and its parts) as pydantic models.

Field names and shapes follow the OpenAPI spec; where the spec is silent and Fly's docs
or its Go client set limits (guest sizes, volume sizes), those limits are enforced here
so a bad value fails before any request is sent. Durations go out as Go duration
strings ("30s"): a bare number would mean nanoseconds to Fly (ENDPOINTS.md D3).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from fly_tools.models.fields import (
    Bool,
    Duration,
    FiniteJson,
    GuestPath,
    Int,
    OptionalInt,
    OptionalNumber,
    Signal7,
    check_finite_tree,
    check_guest_size,
)
from fly_tools.models.identifiers import EnvMap, EnvName


class FlyModel(BaseModel):
    """Base for Fly's request shapes: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MachineGuest(FlyModel):
    cpu_kind: Literal["shared", "performance"] | None = None
    cpus: OptionalInt = None
    memory_mb: OptionalInt = None
    gpu_kind: str | None = None
    gpus: OptionalInt = Field(default=None, ge=0)
    max_memory_mb: OptionalInt = Field(default=None, ge=256)
    host_dedication_id: str | None = None
    kernel_args: list[str] | None = None
    persist_rootfs: Literal["never", "always", "restart"] | None = None
    required_host_features: list[str] | None = None

    @model_validator(mode="after")
    def _check_size(self) -> MachineGuest:
        check_guest_size(self.cpu_kind, self.cpus, self.memory_mb)
        return self


class MachineInit(FlyModel):
    exec: list[str] | None = None
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    tty: Bool | None = None
    swap_size_mb: OptionalInt = Field(default=None, ge=0)
    kernel_args: list[str] | None = None


class HTTPResponseOptions(FlyModel):
    headers: dict[str, FiniteJson] | None = None
    pristine: Bool | None = None


class ReplayCache(FlyModel):
    name: str | None = None
    path_prefix: str | None = None
    ttl_seconds: OptionalInt = None
    type: Literal["cookie", "header"] | None = None
    allow_bypass: Bool | None = None


class HTTPOptions(FlyModel):
    compress: Bool | None = None
    h2_backend: Bool | None = None
    headers_read_timeout: OptionalInt = None
    idle_timeout: OptionalInt = None
    response: HTTPResponseOptions | None = None
    replay_cache: list[ReplayCache] | None = None


class TLSOptions(FlyModel):
    alpn: list[str] | None = None
    versions: list[str] | None = None
    default_self_signed: Bool | None = None


class ProxyProtoOptions(FlyModel):
    version: str | None = None


class MachinePort(FlyModel):
    port: OptionalInt = Field(default=None, ge=1, le=65535)
    start_port: OptionalInt = Field(default=None, ge=1, le=65535)
    end_port: OptionalInt = Field(default=None, ge=1, le=65535)
    handlers: list[str] | None = None
    force_https: Bool | None = None
    http_options: HTTPOptions | None = None
    tls_options: TLSOptions | None = None
    proxy_proto_options: ProxyProtoOptions | None = None


class HeaderValues(FlyModel):
    name: str | None = None
    values: list[str] | None = None


class MachineServiceCheck(FlyModel):
    type: Literal["tcp", "http"] | None = None
    port: OptionalInt = Field(default=None, ge=1, le=65535)
    interval: Duration | None = None
    timeout: Duration | None = None
    grace_period: Duration | None = None
    method: str | None = None
    path: str | None = None
    protocol: Literal["http", "https"] | None = None
    tls_server_name: str | None = None
    tls_skip_verify: Bool | None = None
    headers: list[HeaderValues] | None = None


class MachineCheck(MachineServiceCheck):
    kind: Literal["informational", "readiness"] | None = None


class ServiceConcurrency(FlyModel):
    type: Literal["connections", "requests"] | None = None
    soft_limit: OptionalInt = Field(default=None, ge=0)
    hard_limit: OptionalInt = Field(default=None, ge=0)


def _autostop(value: Any) -> Any:
    # Fly answers booleans for the old format: false means "off", true means "stop".
    if value is True:
        return "stop"
    if value is False:
        return "off"
    return value


class MachineService(FlyModel):
    protocol: Literal["tcp", "udp"]
    internal_port: Int = Field(ge=1, le=65535)
    ports: list[MachinePort] | None = None
    autostart: Bool | None = None
    autostop: Annotated[Literal["off", "stop", "suspend"] | None, BeforeValidator(_autostop)] = None
    min_machines_running: OptionalInt = Field(default=None, ge=0)
    concurrency: ServiceConcurrency | None = None
    checks: list[MachineServiceCheck] | None = None
    force_instance_key: str | None = None
    force_instance_description: str | None = None


class MachineMount(FlyModel):
    volume: str = Field(pattern=r"^vol_[a-z0-9]+$")
    path: GuestPath
    name: str | None = None
    encrypted: Bool | None = None
    size_gb: OptionalInt = Field(default=None, ge=1, le=500)
    extend_threshold_percent: OptionalInt = Field(default=None, ge=0, le=100)
    add_size_gb: OptionalInt = Field(default=None, ge=0)
    size_gb_limit: OptionalInt = Field(default=None, ge=1, le=500)
    add_size_percent: OptionalInt = Field(default=None, ge=0)
    min_add_size_gb: OptionalInt = Field(default=None, ge=0)


class MachineRestart(FlyModel):
    policy: Literal["no", "always", "on-failure", "spot-price"] | None = None
    max_retries: OptionalInt = Field(default=None, ge=0)
    gpu_bid_price: OptionalNumber = None


class StopConfig(FlyModel):
    signal: Signal7 | None = None
    timeout: Duration | None = None


class File(FlyModel):
    guest_path: GuestPath
    raw_value: str | None = None
    secret_name: str | None = None
    image_config: str | None = None
    mode: OptionalInt = Field(default=None, ge=0, le=0o7777)

    @model_validator(mode="after")
    def _one_source(self) -> File:
        sources = [self.raw_value, self.secret_name, self.image_config]
        if sum(s is not None for s in sources) != 1:
            raise ValueError("a file needs exactly one of raw_value, secret_name, image_config")
        return self


class MachineSecret(FlyModel):
    env_var: EnvName
    name: str | None = None


class EnvFrom(FlyModel):
    env_var: EnvName | None = None
    field_ref: Literal["id", "version", "app_name", "private_ip", "region", "image"] | None = None


class MachineProcess(FlyModel):
    exec: list[str] | None = None
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: EnvMap | None = None
    user: str | None = None
    secrets: list[MachineSecret] | None = None
    ignore_app_secrets: Bool | None = None
    env_from: list[EnvFrom] | None = None


class Static(FlyModel):
    guest_path: GuestPath
    url_prefix: str
    tigris_bucket: str | None = None
    index_document: str | None = None


class DNSOption(FlyModel):
    name: str | None = None
    value: str | None = None


class DNSForwardRule(FlyModel):
    basename: str | None = None
    addr: str | None = None


class DNSConfig(FlyModel):
    skip_registration: Bool | None = None
    nameservers: list[str] | None = None
    searches: list[str] | None = None
    options: list[DNSOption] | None = None
    dns_forward_rules: list[DNSForwardRule] | None = None
    hostname: str | None = None
    hostname_fqdn: str | None = None


class MachineMetrics(FlyModel):
    port: OptionalInt = Field(default=None, ge=1, le=65535)
    path: str | None = None
    https: Bool | None = None


class MachineRootfs(FlyModel):
    persist: Literal["never", "always", "restart"] | None = None
    size_gb: OptionalInt = Field(default=None, ge=1)


class CacheDrive(FlyModel):
    size_mb: OptionalInt = Field(default=None, ge=1)


class Spot(FlyModel):
    max_price_fraction: OptionalNumber = Field(default=None, gt=0, le=1)


class ContainerConfig(FlyModel):
    # Containers are restricted to some orgs: the parts shared with machines are checked
    # like theirs, the rest (healthchecks, depends_on) passed through once finite.
    model_config = ConfigDict(extra="allow")
    name: str | None = None
    image: str | None = None
    env: EnvMap | None = None
    env_from: list[EnvFrom] | None = None
    secrets: list[MachineSecret] | None = None
    files: list[File] | None = None
    restart: MachineRestart | None = None
    stop: StopConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _finite(cls, data: Any) -> Any:
        check_finite_tree(data, "container")
        return data


class MachineConfig(FlyModel):
    """The whole configuration of a machine (Fly's ``fly.MachineConfig``)."""

    image: str | None = Field(default=None, min_length=1)
    env: EnvMap | None = None
    metadata: dict[str, str] | None = None
    guest: MachineGuest | None = None
    size: str | None = None
    init: MachineInit | None = None
    services: list[MachineService] | None = None
    checks: dict[str, MachineCheck] | None = None
    mounts: list[MachineMount] | None = Field(default=None, max_length=1)
    restart: MachineRestart | None = None
    auto_destroy: Bool | None = None
    schedule: Literal["hourly", "daily", "weekly", "monthly"] | None = None
    processes: list[MachineProcess] | None = None
    files: list[File] | None = None
    statics: list[Static] | None = None
    stop_config: StopConfig | None = None
    dns: DNSConfig | None = None
    metrics: MachineMetrics | None = None
    standbys: list[str] | None = None
    rootfs: MachineRootfs | None = None
    cache_drive: CacheDrive | None = None
    containers: list[ContainerConfig] | None = None
    disable_machine_autostart: Bool | None = None
    spot: Spot | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON Fly expects: unset fields left out, durations as strings."""
        return self.model_dump(mode="json", exclude_none=True)
