"""Machines in the fake: Fly's lifecycle states, timed transitions, events, versions, leases.

A state-changing call puts the machine in a transient state at once and schedules the
rest of the way on the fake's clock; :meth:`Machine.settle` applies whatever has come
due, so reads see the state as of "now" and nothing runs in the background.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fly_tools.testing.clock import iso
from fly_tools.testing.errors import (
    FakeConflictError,
    FakeNotFoundError,
    FakePreconditionFailedError,
)
from fly_tools.testing.ids import IdSource

TRANSIENT = frozenset(
    {"creating", "starting", "stopping", "restarting", "suspending", "updating", "destroying"}
)
RUNNING = frozenset({"started", "starting", "restarting", "updating"})
DURATION = {
    "starting": 1.0,
    "stopping": 2.0,
    "restarting": 2.0,
    "suspending": 2.0,
    "updating": 2.0,
    "destroying": 1.0,
    "exiting": 0.5,
}
"""Fake seconds each transient state lasts."""
TERMINATING_SIGNALS = frozenset({"SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT"})


def exit_request(
    at: float,
    *,
    exit_code: int,
    signal: int = -1,
    requested_stop: bool,
    restarting: bool,
    restart_count: int = 0,
    oom_killed: bool = False,
) -> dict[str, Any]:
    """The ``request`` of an exit event, as in Fly's docs: ``exit_event`` and ``restart_count``.

    Only exit events carry a request; start, stop, restart and signal events have none.
    """
    exited = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    return {
        "exit_event": {
            "requested_stop": requested_stop,
            "restarting": restarting,
            "guest_exit_code": exit_code,
            "guest_signal": signal,
            "guest_error": "",
            "exit_code": exit_code,
            "signal": signal,
            "error": "",
            "oom_killed": oom_killed,
            "exited_at": exited.replace("+00:00", "Z"),
        },
        "restart_count": restart_count,
    }


@dataclass
class Event:
    """One entry of a machine's event history."""

    id: str
    type: str
    status: str
    source: str
    at: float
    request: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``MachineEvent`` (timestamp in milliseconds)."""
        wire: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "source": self.source,
            "timestamp": int(self.at * 1000),
        }
        if self.request is not None:
            wire["request"] = self.request
        return wire


@dataclass
class Version:
    """One configuration version of a machine."""

    id: str
    config: dict[str, Any]
    at: float


@dataclass
class Lease:
    """An exclusive lock on a machine, proven by its nonce."""

    nonce: str
    owner: str
    description: str
    expires_at: float
    version: str

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``Lease`` (the HTTP layer wraps it in ``{status, data}``)."""
        return {
            "nonce": self.nonce,
            "expires_at": int(self.expires_at),
            "owner": self.owner,
            "description": self.description,
            "version": self.version,
        }


@dataclass
class Step:
    """A scheduled change: at ``at`` the machine enters ``state`` and logs an event."""

    at: float
    state: str
    event: str
    request: dict[str, Any] | None = None


@dataclass(eq=False)
class Machine:
    """A Fly machine and everything the API reports about it."""

    id: str
    name: str
    app: str
    region: str
    private_ip: str
    created_at: float
    ids: IdSource = field(repr=False)
    state: str = "created"
    updated_at: float = 0.0
    versions: list[Version] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    lease: Lease | None = None
    steps: deque[Step] = field(default_factory=deque)
    restart_count: int = 0
    cordoned: bool = False
    """Out of Fly's proxy rotation (``cordon``): it keeps running but gets no requests."""
    memory_limit_mb: int | None = None
    """The memory balloon's limit; ``None`` leaves the guest all its memory."""

    @property
    def config(self) -> dict[str, Any]:
        """The current version's config."""
        return self.versions[-1].config

    @property
    def version(self) -> str:
        """The current version id (Fly's ``instance_id``)."""
        return self.versions[-1].id

    @property
    def destroyed(self) -> bool:
        """True once destroyed (it still answers reads, as on Fly, for a while)."""
        return self.state == "destroyed"

    def record(self, kind: str, status: str, source: str, at: float, request: Any = None) -> None:
        """Append an event."""
        self.events.append(Event(self.ids.ulid(at), kind, status, source, at, request))

    def add_version(self, config: dict[str, Any], at: float, version_id: str | None = None) -> None:
        """Make ``config`` the current version."""
        self.versions.append(Version(version_id or self.ids.ulid(at), config, at))

    # ------------------------------------------------------------ transitions

    def settle(self, now: float) -> None:
        """Apply every scheduled change that is due by ``now``."""
        while self.steps and self.steps[0].at <= now:
            step = self.steps.popleft()
            self._enter(step.state, step.at)
            self.record(step.event, step.state, "flyd", step.at, step.request)
        if self.lease is not None and self.lease.expires_at <= now:
            self.lease = None

    def _enter(self, state: str, at: float) -> None:
        self.state = state
        self.updated_at = at
        if state == "destroyed":
            self.lease = None

    def begin(self, now: float, state: str, event: str, *then: Step, request: Any = None) -> None:
        """Enter transient ``state`` now (a user event) and schedule ``then``.

        Anything still scheduled from an earlier call is dropped: the newest request wins.
        """
        self.steps.clear()
        self._enter(state, now)
        self.record(event, state, "user", now, request)
        self.steps.extend(then)

    def reached(self, states: frozenset[str], version: str | None = None) -> str | None:
        """The state to report if the machine is in one of ``states`` now, else ``None``.

        ``settled`` means any state that is not transient. An older ``version`` has
        been replaced: it counts as stopped, and as settled with state ``replaced``.
        """
        if version is not None and version != self.version:
            if version not in {v.id for v in self.versions}:
                raise FakeNotFoundError(f"machine {self.id} has no version {version}")
            if "stopped" in states:
                return "stopped"
            return "replaced" if "settled" in states else None
        if self.state in states or ("settled" in states and self.state not in TRANSIENT):
            return self.state
        return None

    def next_change(self) -> float | None:
        """When the next scheduled change happens, if any."""
        return self.steps[0].at if self.steps else None

    def start(self, now: float) -> dict[str, Any]:
        """Start (or resume) the machine; a no-op when it is already starting or started."""
        previous = self.state
        if previous not in ("started", "starting"):
            if previous not in ("created", "stopped", "suspended", "failed"):
                raise _refused("start", previous)
            self.begin(now, "starting", "start", self._after(now, "starting", "started", "start"))
        return {"previous_state": previous, "migrated": False, "new_host": ""}

    def stop(self, now: float, signal: str) -> None:
        """Stop the machine (``signal`` first, then a hard stop)."""
        if self.state in ("stopped", "stopping", "created"):
            return
        if self.state in ("destroyed", "destroying"):
            raise _refused("stop", self.state)
        at = now + DURATION["stopping"]
        exited = exit_request(
            at,
            exit_code=0,
            requested_stop=True,
            restarting=False,
            restart_count=self.restart_count,
        )
        self.begin(now, "stopping", "stop", Step(at, "stopped", "exit", exited))

    def suspend(self, now: float) -> None:
        """Suspend a started machine, keeping its memory for the next start."""
        if self.state in ("suspended", "suspending"):
            return
        if self.state != "started":
            raise _refused("suspend", self.state)
        self.begin(
            now, "suspending", "suspend", self._after(now, "suspending", "suspended", "suspend")
        )

    def restart(self, now: float, signal: str | None) -> None:
        """Restart a started machine in place."""
        if self.state != "started":
            raise _refused("restart", self.state)
        self.begin(
            now, "restarting", "restart", self._after(now, "restarting", "started", "restart")
        )

    def signal(self, now: float, signal: str) -> None:
        """Deliver ``signal``; a terminating one makes the main process exit.

        On exit the restart policy decides, as on Fly: ``no`` leaves the machine
        stopped, anything else starts it again.
        """
        if self.state != "started":
            raise _refused("signal", self.state)
        self.record("signal", self.state, "user", now)
        if signal not in TERMINATING_SIGNALS:
            return
        self._exit(now, _SIGNAL_NUMBERS.get(signal, 15))

    def oom_kill(self, now: float) -> None:
        """The kernel kills the main process for lack of memory (a limit set too low)."""
        if self.state == "started":
            self._exit(now, _SIGNAL_NUMBERS["SIGKILL"], oom_killed=True)

    def _exit(self, now: float, number: int, *, oom_killed: bool = False) -> None:
        at = now + DURATION["exiting"]
        policy = (self.config.get("restart") or {}).get("policy", "on-failure")
        restarting = policy != "no"
        self.restart_count += restarting
        exited = exit_request(
            at,
            exit_code=128 + number,
            signal=number,
            requested_stop=False,
            restarting=restarting,
            restart_count=self.restart_count,
            oom_killed=oom_killed,
        )
        self.steps.append(Step(at, "starting" if restarting else "stopped", "exit", exited))
        if restarting:
            self.steps.append(Step(at + DURATION["starting"], "started", "start"))

    def update(self, now: float, config: dict[str, Any], *, skip_launch: bool) -> None:
        """Make ``config`` a new version; a running machine restarts with it.

        A running machine answers ``starting`` at once, as in Fly's docs, and is started
        with the new version shortly after. A machine that was not running stays down
        with the new version, as Fly does.
        """
        self.add_version(config, now)
        if self.state in RUNNING and not skip_launch:
            started = Step(now + DURATION["updating"], "started", "start")
            self.begin(now, "starting", "update", started)
            return
        self.begin(now, "created" if self.state == "created" else "stopped", "update")

    def destroy(self, now: float, *, force: bool) -> None:
        """Destroy the machine; a running one only with ``force``."""
        if self.state == "destroying":
            return
        if self.state not in ("stopped", "suspended", "created", "failed") and not force:
            raise FakePreconditionFailedError(
                "unable to destroy machine, not currently stopped or suspended; "
                "stop it first or pass force=true"
            )
        self.lease = None
        self.begin(
            now, "destroying", "destroy", self._after(now, "destroying", "destroyed", "destroy")
        )

    def _after(self, now: float, transient: str, state: str, event: str) -> Step:
        return Step(now + DURATION[transient], state, event)

    # ------------------------------------------------------------ leases

    def active_lease(self, now: float) -> Lease | None:
        """The lease in force at ``now``, if any."""
        self.settle(now)
        return self.lease

    def check_nonce(self, now: float, nonce: str | None) -> None:
        """Refuse a modifying call on a leased machine without the lease's nonce."""
        lease = self.active_lease(now)
        if lease is not None and nonce != lease.nonce:
            raise FakeConflictError(
                f"machine {self.id} is leased by {lease.owner} until {iso(lease.expires_at)}; "
                "send the lease nonce in the fly-machine-lease-nonce header, or wait for the "
                "lease to expire"
            )

    def acquire_lease(
        self, now: float, *, ttl: int, owner: str, description: str, nonce: str | None
    ) -> Lease:
        """Take a lease, or refresh the one whose ``nonce`` is given."""
        lease = self.active_lease(now)
        if lease is not None and nonce != lease.nonce:
            raise FakeConflictError(
                f"machine {self.id} already has a lease held by {lease.owner} until "
                f"{iso(lease.expires_at)}"
            )
        if lease is not None:
            lease.expires_at = now + ttl
            lease.description = description or lease.description
            return lease
        self.lease = Lease(self.ids.nonce(), owner, description, now + ttl, self.version)
        return self.lease

    def release_lease(self, now: float, nonce: str) -> None:
        """Release the lease ``nonce`` proves."""
        lease = self.active_lease(now)
        if lease is None:
            raise FakeNotFoundError("lease not found")
        if nonce != lease.nonce:
            raise FakeConflictError("lease nonce does not match the lease held on this machine")
        self.lease = None

    # ------------------------------------------------------------ wire form

    def to_wire(self, *, summary: bool = False) -> dict[str, Any]:
        """Fly's ``Machine``; ``summary`` leaves out config, checks and events."""
        wire: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "region": self.region,
            "instance_id": self.version,
            "version": self.version,
            "private_ip": self.private_ip,
            "image_ref": image_ref(self.config.get("image", "")),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "cordoned": self.cordoned,
        }
        if not summary:
            wire["config"] = self.config
            wire["checks"] = self._checks()
            wire["events"] = [event.to_wire() for event in reversed(self.events[-10:])]
            wire["host_status"] = "ok"
        return wire

    def _checks(self) -> list[dict[str, Any]]:
        names = list(self.config.get("checks") or {})
        for service in self.config.get("services") or []:
            for n, check in enumerate(service.get("checks") or []):
                kind = check.get("type", "tcp")
                names.append(f"servicecheck-{n:02d}-{kind}-{service['internal_port']}")
        passing = self.state == "started"
        return [
            {
                "name": name,
                "status": "passing" if passing else "critical",
                "output": "Success" if passing else "the machine is not running",
                "updated_at": iso(self.updated_at),
            }
            for name in names
        ]


_SIGNAL_NUMBERS = {
    "SIGHUP": 1,
    "SIGINT": 2,
    "SIGQUIT": 3,
    "SIGILL": 4,
    "SIGTRAP": 5,
    "SIGABRT": 6,
    "SIGFPE": 8,
    "SIGKILL": 9,
    "SIGUSR1": 10,
    "SIGSEGV": 11,
    "SIGUSR2": 12,
    "SIGPIPE": 13,
    "SIGALRM": 14,
    "SIGTERM": 15,
}
SIGNAL_NAMES = {number: name for name, number in _SIGNAL_NUMBERS.items()}
"""Linux signal numbers to names (fly-go's kill sends 9)."""


def _refused(action: str, state: str) -> FakePreconditionFailedError:
    # Fly answers 412 "failed_precondition" with this wording.
    return FakePreconditionFailedError(f"unable to {action} machine from current state: '{state}'")


def image_ref(image: str) -> dict[str, Any]:
    """Fly's ``ImageRef`` for an image reference such as ``registry.fly.io/web:v42``."""
    reference, _, pinned = image.partition("@")
    tag = "latest"
    if ":" in reference.rsplit("/", 1)[-1]:
        reference, tag = reference.rsplit(":", 1)
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry = "docker-hub-mirror.fly.io"
        repository = reference if "/" in reference else f"library/{reference}"
    return {
        "registry": registry,
        "repository": repository,
        "tag": tag,
        "digest": pinned or "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
        "labels": {},
    }
