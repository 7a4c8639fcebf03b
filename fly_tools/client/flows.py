"""Call flows: the pure sequence of requests behind one call, driven by either client.

A flow is a generator that yields :class:`~fly_tools.client.core.RequestPlan` (send
this) or :class:`Pause` (sleep this long) and receives each parsed response, or has the
request's :class:`FlyError` thrown into it. Most calls are one request; updating a
machine reads it first; waiting loops across Fly's 60-second 408s. Each client drives
flows with its own I/O, so this logic exists once.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.client.core import RequestPlan, build_request, describe_problems
from fly_tools.client.errors import FlyError, InvalidArgumentsError, WaitTimeoutError
from fly_tools.models.args import (
    WAIT_REQUEST_CAP,
    FlyArgs,
    MachineArgs,
    UpdateMachineArgs,
    WaitMachineArgs,
)

WAIT_READ_SLACK = 10.0
"""Seconds a wait request's read timeout allows beyond the time Fly was asked to hold it."""


@dataclass(frozen=True)
class Pause:
    """Sleep this many seconds before the flow's next request."""

    seconds: float


Flow = Generator[RequestPlan | Pause, Any, Any]


def call_flow(endpoint: Endpoint, args: FlyArgs, clock: Callable[[], float]) -> Flow:
    """The flow for one validated call."""
    if isinstance(args, UpdateMachineArgs):
        return _update_flow(endpoint, args)
    if isinstance(args, WaitMachineArgs):
        return _wait_flow(endpoint, args, clock)
    return _single_flow(endpoint, args)


def _single_flow(endpoint: Endpoint, args: FlyArgs) -> Flow:
    return (yield build_request(endpoint, args))


def _update_flow(endpoint: Endpoint, args: UpdateMachineArgs) -> Flow:
    # Fly replaces the whole config, so changes are merged into the machine as it is now.
    read = MachineArgs(app_name=args.app_name, machine_id=args.machine_id)
    current = yield build_request(ENDPOINTS["fly_get_machine"], read)
    if not isinstance(current, dict) or not isinstance(current.get("config"), dict):
        raise FlyError(
            f"Fly returned no config for machine {args.machine_id}, so it cannot be updated.",
            advice="Read the machine (fly_get_machine) to check it, then try again.",
        )
    try:
        body = args.update_body(current)
    except ValueError as exc:
        # The changes are valid alone but not merged into this machine's current config.
        lines = (
            describe_problems(exc, type(args)) if isinstance(exc, ValidationError) else [str(exc)]
        )
        raise InvalidArgumentsError(endpoint.name, [f"config.{line}" for line in lines]) from None
    return (yield build_request(endpoint, args, body=body))


def _wait_flow(endpoint: Endpoint, args: WaitMachineArgs, clock: Callable[[], float]) -> Flow:
    deadline = clock() + args.timeout
    while True:
        started = clock()
        seconds = max(1, min(int(deadline - started), WAIT_REQUEST_CAP))
        plan = build_request(
            endpoint,
            args.model_copy(update={"timeout": seconds}),
            read_timeout=seconds + WAIT_READ_SLACK,
        )
        try:
            return (yield plan)
        except WaitTimeoutError as timed_out:
            last = timed_out
        now = clock()
        if now < deadline and now - started < 1:  # an early 408: do not spin
            yield Pause(min(1.0, deadline - now))
        if clock() >= deadline:
            raise _wait_deadline_error(args, last)


def _wait_deadline_error(args: WaitMachineArgs, last: WaitTimeoutError) -> WaitTimeoutError:
    states = " or ".join(args.states)
    return WaitTimeoutError(
        f"machine {args.machine_id} did not reach {states} within {args.timeout} s",
        status=last.status,
        request_id=last.request_id,
        method=last.method,
        path=last.path,
        advice=(
            "Call fly_wait_machine again to keep waiting, or read the machine "
            "(fly_get_machine) to see its current state."
        ),
    )


def wait_arguments(
    app_name: str, machine_id: str, state: str | list[str], timeout: int, version: str | None
) -> dict[str, Any]:
    """Arguments of ``fly_wait_machine`` for the clients' ``wait()`` shortcut."""
    args: dict[str, Any] = {
        "app_name": app_name,
        "machine_id": machine_id,
        "state": state,
        "timeout": timeout,
    }
    if version is not None:
        args["version"] = version
    return args


def as_dict(result: Any) -> dict[str, Any]:
    """A wait result as a dict, whatever shape Fly gave it."""
    return result if isinstance(result, dict) else {"response": result}


def drive_step(flow: Flow, outcome: Any, failure: FlyError | None) -> RequestPlan | Pause:
    """Advance ``flow`` with the last step's result or error; StopIteration ends it."""
    return flow.throw(failure) if failure is not None else flow.send(outcome)
