"""The endpoint catalogue: one record per Fly Machines API endpoint; everything else derives from it.

Tools, toolkits, the fake Fly API's routes, the README table and the spec-conformance
tests all read this table. Every fact about an endpoint is a field of its record, so
adding an endpoint means adding one record, its model and its fake behaviour
(``tests/unit/test_synthetic_endpoint.py`` shows it).
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
TargetKind = Literal["org", "app", "machine", "volume", "secret"]
ResultKind = Literal[
    "action", "apps", "app", "created_app", "machines", "machine", "exec", "wait",
    "processes", "events", "versions", "lease", "volumes", "volume", "extend", "secrets",
    "secret_change", "oidc",
]  # fmt: skip
"""How a result is worded for the model; each kind has one renderer in ``tools/content.py``."""
FlowKind = Literal["single", "update_machine", "wait", "create_app", "get_lease"]
"""The requests behind one call; each kind has one flow in ``client/flows.py``."""

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


@dataclass(frozen=True, kw_only=True)
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
        consequence: what the call costs, said to whoever approves it (gated tiers).
        result: how the answer is worded for the model (a :data:`ResultKind`);
            ``"action"`` says what was done to the machine or app.
        flow: the requests behind one call (a :data:`FlowKind`); most are one request.
        state_read: the cheap read (a tool name) whose answer makes the approval
            question better, e.g. the machine a stop acts on; it is called with this
            call's own path identifiers. ``None`` for none.
        type_back: whether approving at a console means typing the target's name back.
        guest_output: whether the answer carries text another party controls (a
            guest's command output, its event messages): MCP's ``openWorldHint``.
        advice: what to do next after an error status, where this endpoint's differs
            from the general advice (status code -> sentence).
    """

    name: str
    group: Group
    operation_id: str
    method: HttpMethod
    path: str
    args_model: type[a.FlyArgs]
    risk: RiskTier
    scopes: frozenset[Scope]
    idempotent: bool
    description: str
    rate_class: RateClass = "standard"
    consequence: str = ""
    result: ResultKind = "action"
    flow: FlowKind = "single"
    state_read: str | None = None
    type_back: bool = False
    guest_output: bool = False
    advice: Mapping[int, str] = field(default_factory=dict, hash=False)
    path_params: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", frozenset(_PATH_PARAM.findall(self.path)))
        object.__setattr__(self, "advice", dict(self.advice))  # a copy, not the caller's

    @property
    def target(self) -> TargetKind:
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
# A 408 is how Fly ends a wait that ran out of time: the answer is to wait again,
# not the "Fly timed the request out" of other calls.
_WAIT_408 = (
    "Call wait again to keep waiting, or read the machine (fly_get_machine) to see its "
    "current state."
)

# fmt: off
_RECORDS: tuple[Endpoint, ...] = (
    Endpoint(name="fly_list_apps", group="apps", operation_id="Apps_list",
             method="GET", path="/apps", args_model=a.ListAppsArgs,
             risk=R, scopes=frozenset({"org", "readonly"}), idempotent=True,
             description="List the apps in an organization with their status and machine counts.",
             result="apps"),
    Endpoint(name="fly_get_app", group="apps", operation_id="Apps_show",
             method="GET", path="/apps/{app_name}", args_model=a.AppArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="Show one app: status, organization, network, machine and volume counts.",
             result="app",
             advice={403: "The app exists but in an organization this token cannot reach."}),
    Endpoint(name="fly_create_app", group="apps", operation_id="Apps_create",
             method="POST", path="/apps", args_model=a.CreateAppArgs,
             risk=W, scopes=_ORG, idempotent=False,
             description="Create an empty app in an organization; add machines to it afterwards.",
             result="created_app", flow="create_app"),
    Endpoint(name="fly_delete_app", group="apps", operation_id="Apps_delete",
             method="DELETE", path="/apps/{app_name}", args_model=a.DeleteAppArgs,
             risk=DE, scopes=_ALL, rate_class="app_delete", idempotent=True,
             description="Delete an app with all its machines, volumes and secrets. Irreversible.",
             state_read="fly_get_app", type_back=True,
             consequence="Its machines, volumes and secrets are deleted with it; "
             "this cannot be undone."),
    Endpoint(name="fly_list_machines", group="machines", operation_id="Machines_list",
             method="GET", path="/apps/{app_name}/machines", args_model=a.ListMachinesArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="List an app's machines with state, region and image; filter by state or region.",
             result="machines"),
    Endpoint(name="fly_get_machine", group="machines", operation_id="Machines_show",
             method="GET", path=M, args_model=a.MachineArgs,
             risk=R, scopes=_READ, rate_class="get_machine", idempotent=True,
             description="Show one machine: state, region, image, size, IP, checks and version.",
             result="machine"),
    Endpoint(name="fly_create_machine", group="machines", operation_id="Machines_create",
             method="POST", path="/apps/{app_name}/machines", args_model=a.CreateMachineArgs,
             risk=W, scopes=_ALL, idempotent=False,
             description="Create and start a machine from a Docker image (skip_launch to only create).",
             result="machine"),
    Endpoint(name="fly_update_machine", group="machines", operation_id="Machines_update",
             method="POST", path=M, args_model=a.UpdateMachineArgs,
             risk=DI, scopes=_ALL, idempotent=False,
             description="Change a machine's image, size, env or config; it restarts with the new version.",
             result="machine", flow="update_machine", state_read="fly_get_machine",
             consequence="It restarts with the new config and is briefly unavailable."),
    Endpoint(name="fly_delete_machine", group="machines", operation_id="Machines_delete",
             method="DELETE", path=M, args_model=a.DeleteMachineArgs,
             risk=DE, scopes=_ALL, idempotent=True,
             description="Destroy a machine permanently; it must be stopped unless force is true.",
             state_read="fly_get_machine", type_back=True,
             consequence="It is destroyed permanently; anything not on a volume is lost."),
    Endpoint(name="fly_start_machine", group="control", operation_id="Machines_start",
             method="POST", path=M + "/start", args_model=a.LeasedMachineArgs,
             risk=W, scopes=_ALL, idempotent=True,
             description="Start a stopped or suspended machine.",
             state_read="fly_get_machine"),
    Endpoint(name="fly_stop_machine", group="control", operation_id="Machines_stop",
             method="POST", path=M + "/stop", args_model=a.StopMachineArgs,
             risk=DI, scopes=_ALL, idempotent=True,
             description="Stop a running machine (signal, then a hard stop after the timeout).",
             state_read="fly_get_machine",
             consequence="It stops serving until started again."),
    Endpoint(name="fly_restart_machine", group="control", operation_id="Machines_restart",
             method="POST", path=M + "/restart", args_model=a.RestartMachineArgs,
             risk=DI, scopes=_ALL, idempotent=False,
             description="Restart a running machine in place.",
             state_read="fly_get_machine",
             consequence="It is briefly unavailable while it restarts."),
    Endpoint(name="fly_suspend_machine", group="control", operation_id="Machines_suspend",
             method="POST", path=M + "/suspend", args_model=a.LeasedMachineArgs,
             risk=DI, scopes=_ALL, idempotent=True,
             description="Suspend a running machine, saving its memory so the next start resumes it.",
             state_read="fly_get_machine",
             consequence="It stops serving until started again, then resumes from memory."),
    Endpoint(name="fly_signal_machine", group="control", operation_id="Machines_signal",
             method="POST", path=M + "/signal", args_model=a.SignalMachineArgs,
             risk=DI, scopes=_ALL, idempotent=False,
             description="Send a Unix signal (e.g. SIGHUP to reload) to a machine's main process.",
             state_read="fly_get_machine",
             consequence="Its main process gets the signal, which may make it reload or exit."),
    Endpoint(name="fly_exec_machine", group="control", operation_id="Machines_exec",
             method="POST", path=M + "/exec", args_model=a.ExecMachineArgs,
             risk=DE, scopes=_EXEC, idempotent=False,
             description="Run a command inside a started machine and return exit code, stdout, stderr.",
             result="exec", state_read="fly_get_machine", type_back=True, guest_output=True,
             consequence="The command runs inside the machine with full access and may change "
             "or delete anything there."),
    Endpoint(name="fly_wait_machine", group="control", operation_id="Machines_wait",
             method="GET", path=M + "/wait", args_model=a.WaitMachineArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="Wait until a machine reaches a state (e.g. started after a start call).",
             result="wait", flow="wait", advice={408: _WAIT_408}),
    Endpoint(name="fly_list_machine_processes", group="info", operation_id="Machines_list_processes",
             method="GET", path=M + "/ps", args_model=a.ListProcessesArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="List the processes running in a started machine, with CPU and memory.",
             result="processes"),
    Endpoint(name="fly_list_machine_events", group="info", operation_id="Machines_list_events",
             method="GET", path=M + "/events", args_model=a.ListEventsArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="List a machine's recent events (starts, stops, exits, updates), newest first.",
             result="events", guest_output=True),
    Endpoint(name="fly_list_machine_versions", group="info", operation_id="Machines_list_versions",
             method="GET", path=M + "/versions", args_model=a.MachineArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="List a machine's config versions, newest first.",
             result="versions"),
    Endpoint(name="fly_acquire_lease", group="leases", operation_id="Machines_create_lease",
             method="POST", path=M + "/lease", args_model=a.AcquireLeaseArgs,
             risk=W, scopes=_ALL, idempotent=False,
             description="Lock a machine against other changes; returns a nonce for later calls.",
             result="lease", state_read="fly_get_machine"),
    Endpoint(name="fly_get_lease", group="leases", operation_id="Machines_show_lease",
             method="GET", path=M + "/lease", args_model=a.MachineArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="Show who holds the lease on a machine and when it expires.",
             result="lease", flow="get_lease",
             advice={404: "No lease is held on this machine (or the machine does not exist)."}),
    Endpoint(name="fly_release_lease", group="leases", operation_id="Machines_release_lease",
             method="DELETE", path=M + "/lease", args_model=a.ReleaseLeaseArgs,
             risk=W, scopes=_ALL, idempotent=True,
             description="Release a lease you hold on a machine.",
             result="lease", state_read="fly_get_machine"),
    Endpoint(name="fly_list_volumes", group="volumes", operation_id="Volumes_list",
             method="GET", path="/apps/{app_name}/volumes", args_model=a.AppArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="List an app's volumes with size, region, state and attached machine.",
             result="volumes"),
    Endpoint(name="fly_get_volume", group="volumes", operation_id="Volumes_get_by_id",
             method="GET", path=V, args_model=a.VolumeArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="Show one volume: size, region, state, usage and attached machine.",
             result="volume"),
    Endpoint(name="fly_create_volume", group="volumes", operation_id="Volumes_create",
             method="POST", path="/apps/{app_name}/volumes", args_model=a.CreateVolumeArgs,
             risk=W, scopes=_ALL, idempotent=False,
             description="Create a persistent volume in a region, to mount in a machine there.",
             result="volume"),
    Endpoint(name="fly_extend_volume", group="volumes", operation_id="Volumes_extend",
             method="PUT", path=V + "/extend", args_model=a.ExtendVolumeArgs,
             risk=DE, scopes=_ALL, idempotent=True,
             description="Grow a volume to a new total size. It can never shrink back.",
             result="extend", state_read="fly_get_volume",
             consequence="A volume can never shrink back: the new size is permanent."),
    Endpoint(name="fly_delete_volume", group="volumes", operation_id="Volume_delete",
             method="DELETE", path=V, args_model=a.VolumeArgs,
             risk=DE, scopes=_ALL, idempotent=True,
             description="Delete a detached volume and erase its data permanently.",
             result="volume", state_read="fly_get_volume", type_back=True,
             consequence="Its data is erased permanently."),
    Endpoint(name="fly_list_secrets", group="secrets", operation_id="Secrets_list",
             method="GET", path="/apps/{app_name}/secrets", args_model=a.AppArgs,
             risk=R, scopes=_READ, idempotent=True,
             description="List an app's secret names and digests (never values).",
             result="secrets"),
    Endpoint(name="fly_set_secret", group="secrets", operation_id="Secret_create",
             method="POST", path="/apps/{app_name}/secrets/{secret_name}", args_model=a.SetSecretArgs,
             risk=W, scopes=_ALL, idempotent=True,
             description="Create or replace one app secret; machines get it on their next update.",
             result="secret_change"),
    Endpoint(name="fly_delete_secret", group="secrets", operation_id="Secret_delete",
             method="DELETE", path="/apps/{app_name}/secrets/{secret_name}", args_model=a.SecretArgs,
             risk=DE, scopes=_ALL, idempotent=True,
             description="Delete one app secret; its value is lost.",
             result="secret_change", type_back=True,
             consequence="Its value is lost for good; machines drop it on their next update."),
    Endpoint(name="fly_request_oidc_token", group="tokens", operation_id="Tokens_request_OIDC",
             method="POST", path="/tokens/oidc", args_model=a.OidcTokenArgs,
             risk=W, scopes=_ALL, idempotent=True,
             description="Get an OIDC token (JWT) for this org to present to a cloud provider.",
             result="oidc"),

)
# fmt: on

ENDPOINTS = Catalogue(_RECORDS)
"""The guide's endpoints, in catalogue order."""

assert {e.group for e in _RECORDS} == set(GROUPS)
