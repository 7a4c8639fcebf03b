"""Call flows: the pure sequence of requests behind one call, driven by either client.

A flow is a generator that yields :class:`~fly_tools.client.core.RequestPlan` (send
this) or :class:`Pause` (sleep this long) and receives each parsed response, or has the
request's :class:`FlyError` thrown into it. Most calls are one request; updating a
machine reads it first; waiting loops across Fly's 60-second 408s and transient errors;
creating an app reads it back until Fly serves it; reading a lease answers "no lease"
as a normal result. Each client drives flows with its own I/O, so this logic exists once.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.client.core import NOTE_KEY, RequestPlan, build_request
from fly_tools.client.errors import (
    FlyAPIError,
    FlyConnectionError,
    FlyError,
    InvalidArgumentsError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    WaitTimeoutError,
)
from fly_tools.client.problems import describe_problems
from fly_tools.client.settings import SecretToken, authorization_header
from fly_tools.models.args import (
    WAIT_REQUEST_CAP,
    AppArgs,
    CreateAppArgs,
    FlyArgs,
    MachineArgs,
    UpdateMachineArgs,
    WaitMachineArgs,
)

WAIT_READ_SLACK = 10.0
"""Seconds a wait request's read timeout allows beyond the time Fly was asked to hold it."""
TRANSIENT = (ServerError, FlyConnectionError, RateLimitedError)
"""Failures a wait or a readiness check outlasts: Fly-side errors, lost connections, 429s."""
PAUSE_FIRST, PAUSE_MAX = 0.5, 2.0
"""Pauses between attempts after a transient failure: doubling from 0.5 s up to 2 s (flyctl's)."""
APP_READY_TIMEOUT = 60.0
"""How long a new app may take to become usable before create-app returns anyway (flyctl's)."""
APP_READY_READS = 40
"""Reads of a new app at most, should the clock not move while pausing (a stalled clock)."""
NO_LEASE: dict[str, Any] = {"lease": None}
"""What reading the lease of a machine that holds none returns."""


@dataclass(frozen=True)
class Pause:
    """Sleep this many seconds before the flow's next request."""

    seconds: float


Flow = Generator[RequestPlan | Pause, Any, Any]


def call_flow(
    endpoint: Endpoint,
    args: FlyArgs,
    clock: Callable[[], float],
    own_token: SecretToken | None = None,
) -> Flow:
    """The flow for one validated call, as the record's ``flow`` names it.

    ``own_token`` is the client's token, for the calls that ask Fly about it (flow
    ``own_token``); only those read it, when their request is built.
    """
    kind = endpoint.flow
    if kind == "own_token":
        return _own_token_flow(endpoint, args, own_token)
    if kind == "text_token":
        return _text_token_flow(endpoint, args)
    if kind == "update_machine":
        return _update_flow(endpoint, _expect(endpoint, args, UpdateMachineArgs))
    if kind == "wait":
        return _wait_flow(endpoint, _expect(endpoint, args, WaitMachineArgs), clock)
    if kind == "create_app":
        return _create_app_flow(endpoint, _expect(endpoint, args, CreateAppArgs), clock)
    if kind == "get_lease":
        return _get_lease_flow(endpoint, args)
    return _single_flow(endpoint, args)


_Args = TypeVar("_Args", bound=FlyArgs)


def _expect(endpoint: Endpoint, args: FlyArgs, model: type[_Args]) -> _Args:
    # A flow reads fields of its own model: a record pairing it with another is a bug.
    if not isinstance(args, model):
        raise TypeError(f"{endpoint.name}: flow {endpoint.flow!r} needs {model.__name__}")
    return args


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
    # Like flyctl's wait loop: keep asking through 408s and transient failures until the
    # caller's deadline; a 400/401/403/404 will not get better, so it ends the wait.
    deadline = clock() + args.timeout
    pause = PAUSE_FIRST
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
            last: FlyError = timed_out
            delay = 1.0 if clock() - started < 1 else 0.0  # an early 408: do not spin
        except TRANSIENT as transient:
            last, delay = transient, transient_pause(transient, pause)
            pause = min(pause * 2, PAUSE_MAX)
        now = clock()
        if delay > 0 and now < deadline:
            yield Pause(min(delay, deadline - now))
        if clock() >= deadline:
            raise _wait_deadline_error(args, last)


def transient_pause(error: FlyError, pause: float) -> float:
    """Seconds to pause after a transient failure: Fly's ``Retry-After`` if it gave one."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after is not None else max(pause, 1.0)
    return pause


def _wait_deadline_error(args: WaitMachineArgs, last: FlyError) -> WaitTimeoutError:
    states = " or ".join(args.states)
    because = "" if isinstance(last, WaitTimeoutError) else f" (last attempt: {last.message})"
    api = last if isinstance(last, FlyAPIError) else None
    return WaitTimeoutError(
        f"machine {args.machine_id} did not reach {states} within {args.timeout} s{because}",
        status=api.status if api else 408,
        request_id=api.request_id if api else None,
        method=getattr(last, "method", ""),
        path=getattr(last, "path", ""),
        advice=(
            "Call fly_wait_machine again to keep waiting, or read the machine "
            "(fly_get_machine) to see its current state."
        ),
    )


def _create_app_flow(endpoint: Endpoint, args: CreateAppArgs, clock: Callable[[], float]) -> Flow:
    # Fly answers 201 before the new app is served everywhere: for a while it reads as
    # 404 (or 401). flyctl reads it back for up to a minute before using it; so does this.
    created = yield build_request(endpoint, args)
    result = created if isinstance(created, dict) else {"response": created}
    read = build_request(ENDPOINTS["fly_get_app"], AppArgs(app_name=args.app_name))
    deadline, pause = clock() + APP_READY_TIMEOUT, PAUSE_FIRST
    for _ in range(APP_READY_READS):
        try:
            yield read
            return result
        except (NotFoundError, UnauthorizedError, *TRANSIENT) as not_yet:
            delay = transient_pause(not_yet, pause)
        except FlyError:
            return result  # created; whether it is served yet cannot be read with this token
        if clock() + delay > deadline:
            break
        yield Pause(delay)
        pause = min(pause * 2, PAUSE_MAX)
    note = (
        f"created, but Fly did not serve app {args.app_name} within {APP_READY_TIMEOUT:g} s: "
        "wait a minute before adding machines to it"
    )
    return result | {NOTE_KEY: note}


def _get_lease_flow(endpoint: Endpoint, args: FlyArgs) -> Flow:
    # Fly answers 404 when no lease is held: for the caller that is an answer, not a failure.
    try:
        return (yield build_request(endpoint, args))
    except NotFoundError as missing:
        if "lease" in missing.message.lower():
            return dict(NO_LEASE)
        raise


def _own_token_flow(endpoint: Endpoint, args: FlyArgs, own_token: SecretToken | None) -> Flow:
    # The token is never an argument: the client adds its own here, so no model, audit
    # record or callback ever holds it. Without one the call cannot be made: fail closed.
    if own_token is None:
        raise FlyError(
            f"{endpoint.name} asks about the client's own token, and none was given to send.",
            advice="Call it through FlyClient.call or AsyncFlyClient.call.",
        )
    body = {
        **(args.json_body(endpoint.path_params) or {}),
        "header": authorization_header(own_token),
    }
    return (yield build_request(endpoint, args, body=body))


MINTED_KEY = "token"
"""Key under which a credential Fly answers as bare text is returned (``text_token``)."""


def _text_token_flow(endpoint: Endpoint, args: FlyArgs) -> Flow:
    # Fly answers a minted token as text/plain; as {"token": ...} the record's `hidden`
    # keeps it out of the tool's content and artifact.
    answer = yield build_request(endpoint, args)
    return {MINTED_KEY: answer} if isinstance(answer, str) else answer


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
