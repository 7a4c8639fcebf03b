"""The endpoint catalogue: one record per Fly Machines API endpoint; everything else derives from it.

Tools, toolkits, the fake Fly API's routes, the README table and the spec-conformance
tests all read this table. Adding an endpoint means adding one record (and its model).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from fly_tools.models import args as a
from fly_tools.risk import GROUPS, Group, RiskTier, Scope

HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]
RateClass = Literal["standard", "get_machine", "app_delete"]
Target = Literal["org", "app", "machine", "volume", "secret"]

_PATH_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Limit:
    """A token-bucket rate limit.

    Attributes:
        rate: tokens added per second (sustained requests per second).
        burst: bucket size (requests allowed back to back after a quiet spell).
    """

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a Limit needs rate > 0 and burst >= 1")


FLY_LIMITS: Mapping[str, Limit] = {
    "standard": Limit(rate=1.0, burst=3),
    "get_machine": Limit(rate=5.0, burst=10),
    "app_delete": Limit(rate=100 / 60, burst=100),
}
"""Fly's documented per-action limits, by :attr:`Endpoint.rate_class`: 1/s with bursts
of 3; get-machine 5/s with bursts of 10; app deletions 100 per minute. The client paces
to them and the fake enforces them."""


@dataclass(frozen=True)
class Endpoint:
    """One Fly Machines API endpoint, as a tool sees it.

    Attributes:
        name: the tool name (``fly_list_apps``); stable, agents depend on it.
        group: capability group, one of :data:`fly_tools.risk.GROUPS`.
        operation_id: the ``operationId`` in Fly's OpenAPI spec.
        method: HTTP method.
        path: path template as in the spec (without ``/v1``).
        args_model: pydantic model of the arguments.
        risk: worst plausible outcome of one call.
        scopes: token scopes that may call it.
        rate_class: which of Fly's per-action rate limits applies.
        idempotent: whether repeating the call has no further effect (safe to retry).
        description: one line for the model: what it does and when to use it.
    """

    name: str
    group: Group
    operation_id: str
    method: HttpMethod
    path: str
    args_model: type[a.FlyArgs]
    risk: RiskTier
    scopes: frozenset[Scope]
    rate_class: RateClass
    idempotent: bool
    description: str
    path_params: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", frozenset(_PATH_PARAM.findall(self.path)))

    @property
    def target(self) -> Target:
        """The most specific resource the call acts on."""
        for param, kind in (
            ("secret_name", "secret"),
            ("volume_id", "volume"),
            ("machine_id", "machine"),
            ("app_name", "app"),
        ):
            if param in self.path_params:
                return kind  # type: ignore[return-value]
        return "app" if "app_name" in self.args_model.model_fields else "org"

    @property
    def read_only(self) -> bool:
        """True for the READ tier."""
        return self.risk is RiskTier.READ

    def render_path(self, values: Mapping[str, str]) -> str:
        """The concrete path for validated path-parameter values."""
        return _PATH_PARAM.sub(lambda m: values[m.group(1)], self.path)


class Catalogue(Mapping[str, Endpoint]):
    """An ordered, immutable, name-indexed collection of :class:`Endpoint` records."""

    def __init__(self, endpoints: tuple[Endpoint, ...]) -> None:
        self._by_name = {e.name: e for e in endpoints}
        if len(self._by_name) != len(endpoints):
            raise ValueError("duplicate endpoint names in the catalogue")
        self._order = endpoints

    def __getitem__(self, name: str) -> Endpoint:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no Fly endpoint named {name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(e.name for e in self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"Catalogue({len(self)} endpoints)"

    @property
    def records(self) -> tuple[Endpoint, ...]:
        """The endpoints in catalogue order."""
        return self._order

    def in_group(self, group: Group) -> tuple[Endpoint, ...]:
        """Endpoints of one group, in order."""
        return tuple(e for e in self._order if e.group == group)


_ALL: frozenset[Scope] = frozenset({"org", "deploy"})
_READ: frozenset[Scope] = frozenset({"org", "deploy", "readonly"})
_ORG: frozenset[Scope] = frozenset({"org"})
_EXEC: frozenset[Scope] = frozenset({"org", "deploy", "machine-exec"})
R, W, DI, DE = RiskTier.READ, RiskTier.WRITE, RiskTier.DISRUPTIVE, RiskTier.DESTRUCTIVE
M = "/apps/{app_name}/machines/{machine_id}"
V = "/apps/{app_name}/volumes/{volume_id}"

# fmt: off
_RECORDS: tuple[Endpoint, ...] = (
    Endpoint("fly_list_apps", "apps", "Apps_list", "GET", "/apps", a.ListAppsArgs, R, frozenset({"org", "readonly"}), "standard", True,
             "List the apps in an organization with their status and machine counts."),
    Endpoint("fly_get_app", "apps", "Apps_show", "GET", "/apps/{app_name}", a.AppArgs, R, _READ, "standard", True,
             "Show one app: status, organization, network, machine and volume counts."),
    Endpoint("fly_create_app", "apps", "Apps_create", "POST", "/apps", a.CreateAppArgs, W, _ORG, "standard", False,
             "Create an empty app in an organization; add machines to it afterwards."),
    Endpoint("fly_delete_app", "apps", "Apps_delete", "DELETE", "/apps/{app_name}", a.DeleteAppArgs, DE, _ALL, "app_delete", True,
             "Delete an app with all its machines, volumes and secrets. Irreversible."),
    Endpoint("fly_list_machines", "machines", "Machines_list", "GET", "/apps/{app_name}/machines", a.ListMachinesArgs, R, _READ, "standard", True,
             "List an app's machines with state, region and image; filter by state or region."),
    Endpoint("fly_get_machine", "machines", "Machines_show", "GET", M, a.MachineArgs, R, _READ, "get_machine", True,
             "Show one machine: state, region, image, size, IP, checks and version."),
    Endpoint("fly_create_machine", "machines", "Machines_create", "POST", "/apps/{app_name}/machines", a.CreateMachineArgs, W, _ALL, "standard", False,
             "Create and start a machine from a Docker image (skip_launch to only create)."),
    Endpoint("fly_update_machine", "machines", "Machines_update", "POST", M, a.UpdateMachineArgs, DI, _ALL, "standard", False,
             "Change a machine's image, size, env or config; it restarts with the new version."),
    Endpoint("fly_delete_machine", "machines", "Machines_delete", "DELETE", M, a.DeleteMachineArgs, DE, _ALL, "standard", True,
             "Destroy a machine permanently; it must be stopped unless force is true."),
    Endpoint("fly_start_machine", "control", "Machines_start", "POST", M + "/start", a.LeasedMachineArgs, W, _ALL, "standard", True,
             "Start a stopped or suspended machine."),
    Endpoint("fly_stop_machine", "control", "Machines_stop", "POST", M + "/stop", a.StopMachineArgs, DI, _ALL, "standard", True,
             "Stop a running machine (signal, then a hard stop after the timeout)."),
    Endpoint("fly_restart_machine", "control", "Machines_restart", "POST", M + "/restart", a.RestartMachineArgs, DI, _ALL, "standard", False,
             "Restart a running machine in place."),
    Endpoint("fly_suspend_machine", "control", "Machines_suspend", "POST", M + "/suspend", a.LeasedMachineArgs, DI, _ALL, "standard", True,
             "Suspend a running machine, saving its memory so the next start resumes it."),
    Endpoint("fly_signal_machine", "control", "Machines_signal", "POST", M + "/signal", a.SignalMachineArgs, DI, _ALL, "standard", False,
             "Send a Unix signal (e.g. SIGHUP to reload) to a machine's main process."),
    Endpoint("fly_exec_machine", "control", "Machines_exec", "POST", M + "/exec", a.ExecMachineArgs, DE, _EXEC, "standard", False,
             "Run a command inside a started machine and return exit code, stdout, stderr."),
    Endpoint("fly_wait_machine", "control", "Machines_wait", "GET", M + "/wait", a.WaitMachineArgs, R, _READ, "standard", True,
             "Wait until a machine reaches a state (e.g. started after a start call)."),
    Endpoint("fly_list_machine_processes", "info", "Machines_list_processes", "GET", M + "/ps", a.ListProcessesArgs, R, _READ, "standard", True,
             "List the processes running in a started machine, with CPU and memory."),
    Endpoint("fly_list_machine_events", "info", "Machines_list_events", "GET", M + "/events", a.ListEventsArgs, R, _READ, "standard", True,
             "List a machine's recent events (starts, stops, exits, updates), newest first."),
    Endpoint("fly_list_machine_versions", "info", "Machines_list_versions", "GET", M + "/versions", a.MachineArgs, R, _READ, "standard", True,
             "List a machine's config versions, newest first."),
    Endpoint("fly_acquire_lease", "leases", "Machines_create_lease", "POST", M + "/lease", a.AcquireLeaseArgs, W, _ALL, "standard", False,
             "Lock a machine against other changes; returns a nonce for later calls."),
    Endpoint("fly_get_lease", "leases", "Machines_show_lease", "GET", M + "/lease", a.MachineArgs, R, _READ, "standard", True,
             "Show who holds the lease on a machine and when it expires."),
    Endpoint("fly_release_lease", "leases", "Machines_release_lease", "DELETE", M + "/lease", a.ReleaseLeaseArgs, W, _ALL, "standard", True,
             "Release a lease you hold on a machine."),
    Endpoint("fly_list_volumes", "volumes", "Volumes_list", "GET", "/apps/{app_name}/volumes", a.AppArgs, R, _READ, "standard", True,
             "List an app's volumes with size, region, state and attached machine."),
    Endpoint("fly_get_volume", "volumes", "Volumes_get_by_id", "GET", V, a.VolumeArgs, R, _READ, "standard", True,
             "Show one volume: size, region, state, usage and attached machine."),
    Endpoint("fly_create_volume", "volumes", "Volumes_create", "POST", "/apps/{app_name}/volumes", a.CreateVolumeArgs, W, _ALL, "standard", False,
             "Create a persistent volume in a region, to mount in a machine there."),
    Endpoint("fly_extend_volume", "volumes", "Volumes_extend", "PUT", V + "/extend", a.ExtendVolumeArgs, DE, _ALL, "standard", True,
             "Grow a volume to a new total size. It can never shrink back."),
    Endpoint("fly_delete_volume", "volumes", "Volume_delete", "DELETE", V, a.VolumeArgs, DE, _ALL, "standard", True,
             "Delete a detached volume and erase its data permanently."),
    Endpoint("fly_list_secrets", "secrets", "Secrets_list", "GET", "/apps/{app_name}/secrets", a.AppArgs, R, _READ, "standard", True,
             "List an app's secret names and digests (never values)."),
    Endpoint("fly_set_secret", "secrets", "Secret_create", "POST", "/apps/{app_name}/secrets/{secret_name}", a.SetSecretArgs, W, _ALL, "standard", True,
             "Create or replace one app secret; machines get it on their next update."),
    Endpoint("fly_delete_secret", "secrets", "Secret_delete", "DELETE", "/apps/{app_name}/secrets/{secret_name}", a.SecretArgs, DE, _ALL, "standard", True,
             "Delete one app secret; its value is lost."),
    Endpoint("fly_request_oidc_token", "tokens", "Tokens_request_OIDC", "POST", "/tokens/oidc", a.OidcTokenArgs, W, _ALL, "standard", True,
             "Get an OIDC token (JWT) for this org to present to a cloud provider."),
)
# fmt: on

ENDPOINTS = Catalogue(_RECORDS)
"""The 31 endpoints, in catalogue order."""

assert {e.group for e in _RECORDS} == set(GROUPS)
