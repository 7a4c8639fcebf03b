"""Handlers for machine control: start, stop, restart, suspend, signal, exec, wait."""

from __future__ import annotations

from collections.abc import Generator
from typing import get_args

from pydantic import Field

from fly_tools.models.args import WAIT_REQUEST_CAP, WaitState
from fly_tools.models.fields import Signal7, Signal14
from fly_tools.testing import guest
from fly_tools.testing.calls import BodyParams, Call, Reply, Strings, route
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakePreconditionFailedError,
    FakeRequestTimeoutError,
)
from fly_tools.testing.handlers.machines import MachinePath
from fly_tools.testing.machines import SIGNAL_NAMES
from fly_tools.testing.state import FakeState

STOP_SIGNALS = frozenset(get_args(Signal7))
ALL_SIGNALS = frozenset(get_args(Signal14))
WAIT_STATES = frozenset(get_args(WaitState))
WAIT_POLL = 1.0
"""Fake seconds between looks at the machine while a wait is pending."""


class StopParams(MachinePath, BodyParams):
    signal: str | int | None = None
    timeout: str | int | None = None


class RestartParams(MachinePath):
    signal: str | int | None = None
    timeout: str | int | None = None
    force_stop: bool = False  # sent by fly-go, not in the spec


class SignalParams(MachinePath, BodyParams):
    signal: str | int


class ExecParams(MachinePath, BodyParams):
    command: list[str] | None = None
    cmd: str | None = None  # the deprecated string form fly-go still sends
    container: str | None = None
    stdin: str = ""
    timeout: int | None = None


class WaitParams(MachinePath):
    state: Strings = Field(default_factory=lambda: ["started"])
    timeout: int = WAIT_REQUEST_CAP
    version: str | None = None
    instance_id: str | None = None  # deprecated name of version (D5)
    from_event_id: str | None = None


@route("fly_start_machine", MachinePath)
def start_machine(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    machine = fly.machine(p.app_name, p.machine_id)
    machine.check_nonce(call.now, call.nonce)
    # The spec declares no body; Fly answers {previous_state, migrated, new_host} (D12).
    return Reply(machine.start(call.now))


@route("fly_stop_machine", StopParams)
def stop_machine(fly: FakeState, call: Call, p: StopParams) -> Reply:
    machine = fly.machine(p.app_name, p.machine_id)
    default = (machine.config.get("stop_config") or {}).get("signal", "SIGINT")
    signal = signal_name(p.signal, STOP_SIGNALS) or default
    machine.check_nonce(call.now, call.nonce)
    machine.stop(call.now, signal)
    return Reply({"ok": True})


@route("fly_restart_machine", RestartParams)
def restart_machine(fly: FakeState, call: Call, p: RestartParams) -> Reply:
    machine = fly.machine(p.app_name, p.machine_id)
    signal = signal_name(p.signal, STOP_SIGNALS)
    machine.check_nonce(call.now, call.nonce)
    machine.restart(call.now, signal)
    return Reply({"ok": True})


@route("fly_suspend_machine", MachinePath)
def suspend_machine(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    machine = fly.machine(p.app_name, p.machine_id)
    machine.check_nonce(call.now, call.nonce)
    machine.suspend(call.now)
    return Reply({"ok": True})


@route("fly_signal_machine", SignalParams)
def signal_machine(fly: FakeState, call: Call, p: SignalParams) -> Reply:
    # Like fly-go, signal and exec do not need the lease nonce.
    signal = signal_name(p.signal, ALL_SIGNALS)
    if signal is None:
        raise FakeBadRequestError("signal is required, e.g. SIGTERM")
    fly.machine(p.app_name, p.machine_id).signal(call.now, signal)
    return Reply({"ok": True})


@route("fly_exec_machine", ExecParams)
def exec_machine(fly: FakeState, call: Call, p: ExecParams) -> Reply:
    argv = guest.parse_command(p.command, p.cmd)
    if not argv:
        raise FakeBadRequestError("command is required: the program and its arguments, as a list")
    machine = fly.machine(p.app_name, p.machine_id)
    if machine.state != "started":
        raise FakePreconditionFailedError(
            f"unable to exec in machine from current state: '{machine.state}'"
        )
    return Reply(guest.run(machine, argv, p.stdin).to_wire())


@route("fly_wait_machine", WaitParams)
def wait_machine(fly: FakeState, call: Call, p: WaitParams) -> Generator[float, None, Reply]:
    """Hold the request until the machine reaches a state, or answer 408.

    Fly holds a wait at most 60 s, so longer timeouts are cut to that. Each pause is
    yielded to the caller, which sleeps on the fake's clock: under virtual time the
    clock jumps to the next scheduled change (or the deadline) and nothing waits.
    """
    states = frozenset(p.state or ["started"])
    if not states <= WAIT_STATES:
        wrong = ", ".join(sorted(states - WAIT_STATES))
        raise FakeBadRequestError(
            f"invalid state {wrong}; use one of {', '.join(sorted(WAIT_STATES))}"
        )
    timeout = min(max(p.timeout, 1), WAIT_REQUEST_CAP)
    version, deadline = p.version or p.instance_id, call.now + timeout
    while True:
        machine = fly.machine(p.app_name, p.machine_id)
        reached = machine.reached(states, version)
        if reached is not None:
            event_id = machine.events[-1].id if machine.events else ""
            body = {"ok": True, "state": reached, "version": version or machine.version}
            return Reply(body | {"event_id": event_id})
        now = fly.now()
        if now >= deadline:
            raise FakeRequestTimeoutError(
                f"machine did not reach state {'/'.join(sorted(states))} within {timeout}s "
                f"(it is {machine.state})"
            )
        wake = min(deadline, now + WAIT_POLL, machine.next_change() or deadline)
        yield wake - now


def signal_name(value: str | int | None, allowed: frozenset[str]) -> str | None:
    """A signal given as a name (``SIGTERM``, ``term``) or number (``9``), checked."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or value.isdigit():
        name = SIGNAL_NAMES.get(int(value), str(value))
    else:
        name = value.upper() if value.upper().startswith("SIG") else "SIG" + value.upper()
    if name not in allowed:
        raise FakeBadRequestError(
            f"invalid signal {value!r}; use one of {', '.join(sorted(allowed))}"
        )
    return name
