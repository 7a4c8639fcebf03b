"""One tool call from arguments to answer, written once as steps; sync and async drivers do the I/O.

The pipeline is a generator: it yields what it needs done (read state for a description,
ask a human, send the request) and receives the result. ``run_sync`` and ``run_async``
perform those steps with the sync or async client, so the decisions exist only here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from langchain_core.tools import ToolException
from pydantic import SecretStr, ValidationError

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.client import AsyncFlyClient, FlyClient, FlyError
from fly_tools.guards import (
    ActionRequest,
    Approve,
    AuditLog,
    AuditRecord,
    ConfirmHook,
    Decision,
    Edit,
    Outcome,
    Reject,
    Verdict,
    contains_redacted,
    decide_async,
    decide_sync,
    describe_action,
    redact_args,
    rejected_message,
    scrub,
    state_lookup,
    target_of,
)
from fly_tools.guards.upstream import UPSTREAM_DECISION
from fly_tools.models.args import FlyArgs
from fly_tools.risk import RiskTier
from fly_tools.tools.content import summarise
from fly_tools.tools.errors import format_validation_error
from fly_tools.tools.guard import CallGuard

ToolOutput: TypeAlias = tuple[str, Any]


@dataclass(frozen=True)
class Lookup:
    """Read the current state of what a gated call will touch (for its description)."""

    endpoint: Endpoint
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Confirm:
    """Ask the confirmation hook about a gated call."""

    request: ActionRequest


@dataclass(frozen=True)
class Send:
    """Send the request to Fly."""

    endpoint: Endpoint
    args: FlyArgs


Step: TypeAlias = Lookup | Confirm | Send


@dataclass
class ToolRuntime:
    """Everything the tools of one toolkit share: clients, guard, approval and audit."""

    base_client: FlyClient | AsyncFlyClient
    guard: CallGuard
    audit: AuditLog
    confirm: ConfirmHook | Literal["upstream"] | None = None
    confirm_at: RiskTier = RiskTier.DESTRUCTIVE
    confirm_timeout: float | None = None
    agent_id: str | None = None
    secrets_seen: set[str] = field(default_factory=set, repr=False)
    _sync: FlyClient | None = field(default=None, init=False, repr=False)
    _async: AsyncFlyClient | None = field(default=None, init=False, repr=False)

    @property
    def client(self) -> FlyClient:
        """The blocking client; derived from an async one on first use."""
        if isinstance(self.base_client, FlyClient):
            return self.base_client
        if self._sync is None:
            self._sync = self.base_client.to_sync()
        return self._sync

    @property
    def async_client(self) -> AsyncFlyClient:
        """The async client; derived on first use, so a sync-only transport is fine
        until a tool is awaited."""
        if isinstance(self.base_client, AsyncFlyClient):
            return self.base_client
        if self._async is None:
            self._async = self.base_client.to_async()
        return self._async

    def secret_values(self, endpoint: Endpoint | None, args: FlyArgs | None) -> set[str]:
        """Values that must never reach a record: the token and secret values seen so far."""
        value = getattr(args, "value", None)
        # Values too short to be a credential ("80", "true") would scrub ordinary text.
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 6:
            self.secrets_seen.add(value.get_secret_value())
        return {self.base_client.token.reveal(), *self.secrets_seen}

    def gated(self, endpoint: Endpoint) -> bool:
        """Whether a call needs a human decision inside this toolkit."""
        return self.confirm != "upstream" and endpoint.risk >= self.confirm_at


@dataclass
class _Call:
    """What the pipeline knows about the call so far, for its audit record."""

    endpoint: Endpoint
    args: FlyArgs | None
    started: float = field(default_factory=time.perf_counter)
    decision: Verdict = "allowed"
    decided_by: str = "toolkit"


def validate(runtime: ToolRuntime, endpoint: Endpoint, raw: Mapping[str, Any]) -> FlyArgs:
    """Validate raw arguments with the endpoint's full model, app binding applied."""
    data = dict(raw)
    if runtime.guard.app is not None and "app_name" in endpoint.args_model.model_fields:
        data.setdefault("app_name", runtime.guard.app)
    return endpoint.args_model.model_validate(data)


def pipeline(
    runtime: ToolRuntime, endpoint: Endpoint, raw: Mapping[str, Any]
) -> Generator[Step, Any, ToolOutput]:
    """The steps of one call. Returns (content, artifact) or raises ``ToolException``."""
    call = _Call(endpoint, None)
    try:
        call.args = validate(runtime, endpoint, raw)
    except ValidationError as err:
        message = format_validation_error(endpoint.name, err)
        _audit(runtime, call, "refused", "not_executed", error=message)
        raise ToolException(message) from None
    reason = runtime.guard.refusal(endpoint, call.args)
    if reason:
        return _refuse(runtime, call, reason)
    if runtime.gated(endpoint):
        outcome = yield from _approval(runtime, call)
        if outcome is not None:
            return outcome
    elif runtime.confirm == "upstream" and endpoint.risk >= runtime.confirm_at:
        upstream = UPSTREAM_DECISION.get()
        if upstream is not None:
            call.decision, call.decided_by = upstream
    return (yield from _send(runtime, call))


def _approval(runtime: ToolRuntime, call: _Call) -> Generator[Step, Any, ToolOutput | None]:
    endpoint, args = call.endpoint, call.args
    assert args is not None
    if runtime.confirm is None or runtime.confirm == "upstream":
        reason = (
            f"{endpoint.name} is {endpoint.risk.label} and needs human approval, but this "
            "toolkit has no approver configured"
        )
        return _refuse(runtime, call, reason)
    state = None
    lookup = state_lookup(endpoint, args)
    if lookup is not None:
        state = yield Lookup(ENDPOINTS[lookup[0]], lookup[1])
    request = ActionRequest(
        tool=endpoint.name,
        group=endpoint.group,
        risk=endpoint.risk,
        args=redact_args(endpoint, args),
        target=target_of(endpoint, args),
        description=describe_action(endpoint, args, state),
        agent_id=runtime.agent_id,
    )
    decision: Decision = yield Confirm(request)
    call.decided_by = decision.by
    if isinstance(decision, Reject):
        call.decision = "rejected"
        _audit(runtime, call, "rejected", "not_executed", error=decision.reason)
        return rejected_message(request, decision), {"executed": False, "reason": decision.reason}
    if isinstance(decision, Edit):
        return _apply_edit(runtime, call, decision)
    assert isinstance(decision, Approve)
    call.decision = "approved"
    return None


def reject_invalid(runtime: ToolRuntime, endpoint: Endpoint, err: ValidationError) -> str:
    """Answer for arguments the tool schema rejected: audited, nothing sent."""
    message = format_validation_error(endpoint.name, err)
    _audit(runtime, _Call(endpoint, None), "refused", "not_executed", error=message)
    return message


def _apply_edit(runtime: ToolRuntime, call: _Call, decision: Edit) -> ToolOutput | None:
    # An edited call is validated and guarded again: a human edit cannot widen the scope.
    if contains_redacted(decision.args):
        reason = "the edited arguments still contain a redacted placeholder; give real values"
        call.decision = "rejected"
        _audit(runtime, call, "rejected", "not_executed", error=reason)
        return f"Not executed: {reason}.", {"executed": False, "reason": reason}
    try:
        edited = validate(runtime, call.endpoint, decision.args)
    except ValidationError as err:
        message = format_validation_error(call.endpoint.name, err)
        call.decision = "rejected"
        _audit(
            runtime, call, "rejected", "not_executed", error=f"edited arguments invalid: {message}"
        )
        return f"Not executed: the edited arguments were invalid. {message}", {"executed": False}
    call.args = edited
    refusal = runtime.guard.refusal(call.endpoint, edited)
    if refusal:
        return _refuse(runtime, call, refusal)
    call.decision = "edited"
    return None


def _send(runtime: ToolRuntime, call: _Call) -> Generator[Step, Any, ToolOutput]:
    assert call.args is not None
    try:
        result = yield Send(call.endpoint, call.args)
    except FlyError as err:
        status = getattr(err, "status", None)
        _audit(runtime, call, call.decision, "error", status=status, error=str(err))
        raise ToolException(str(err)) from None
    _audit(runtime, call, call.decision, "ok", status=None)
    content = scrub(summarise(call.endpoint, call.args, result), runtime.secret_values(None, None))
    if runtime.secrets_seen and result is not None:
        # A secret value set in this session never travels back, e.g. in exec output.
        result = json.loads(scrub(json.dumps(result), runtime.secrets_seen))
    return content, result if result is not None else {}


def _refuse(runtime: ToolRuntime, call: _Call, reason: str) -> ToolOutput:
    call.decided_by = "guard"
    _audit(runtime, call, "refused", "not_executed", error=reason)
    text = (
        f"Not executed: {reason}. Nothing was sent to Fly. Do not retry this call; "
        "tell the user what you needed and why."
    )
    return text, {"executed": False, "reason": reason}


def _audit(
    runtime: ToolRuntime,
    call: _Call,
    decision: Verdict,
    outcome: Outcome,
    *,
    status: int | None = None,
    error: str | None = None,
) -> None:
    endpoint, args = call.endpoint, call.args
    record = AuditRecord.build(
        agent_id=runtime.agent_id,
        endpoint=endpoint,
        args=args,
        decision=decision,
        decided_by=call.decided_by if decision != "allowed" else _allowed_by(runtime),
        outcome=outcome,
        status=status,
        error=error,
        duration_ms=(time.perf_counter() - call.started) * 1000,
        secrets=runtime.secret_values(endpoint, args),
    )
    runtime.audit.record(record)


def _allowed_by(runtime: ToolRuntime) -> str:
    return "upstream approval" if runtime.confirm == "upstream" else "toolkit policy"


# ---------------------------------------------------------------- drivers


@dataclass(frozen=True)
class _Done:
    output: ToolOutput


def _advance(
    steps: Generator[Step, Any, ToolOutput], value: Any, error: FlyError | None
) -> Step | _Done:
    """Feed the last step's result (or error) in; get the next step, or the output."""
    try:
        return steps.throw(error) if error else steps.send(value)
    except StopIteration as done:
        return _Done(done.value)


def run_sync(runtime: ToolRuntime, endpoint: Endpoint, raw: Mapping[str, Any]) -> ToolOutput:
    """Drive one call with the sync client."""
    steps = pipeline(runtime, endpoint, raw)
    step = _advance(steps, None, None)
    while not isinstance(step, _Done):
        try:
            step = _advance(steps, _perform_sync(runtime, step), None)
        except FlyError as err:
            step = _advance(steps, None, err)
    return step.output


def _perform_sync(runtime: ToolRuntime, step: Step) -> Any:
    if isinstance(step, Lookup):
        try:
            return runtime.client.call(step.endpoint, step.args)
        except FlyError:
            return None  # the description is then built from the arguments alone
    if isinstance(step, Confirm):
        assert runtime.confirm not in (None, "upstream")
        return decide_sync(runtime.confirm, step.request, runtime.confirm_timeout)  # type: ignore[arg-type]
    return runtime.client.call(step.endpoint, step.args)


async def run_async(runtime: ToolRuntime, endpoint: Endpoint, raw: Mapping[str, Any]) -> ToolOutput:
    """Drive one call with the async client."""
    steps = pipeline(runtime, endpoint, raw)
    step = _advance(steps, None, None)
    while not isinstance(step, _Done):
        try:
            step = _advance(steps, await _perform_async(runtime, step), None)
        except FlyError as err:
            step = _advance(steps, None, err)
    return step.output


async def _perform_async(runtime: ToolRuntime, step: Step) -> Any:
    if isinstance(step, Lookup):
        try:
            return await runtime.async_client.call(step.endpoint, step.args)
        except FlyError:
            return None
    if isinstance(step, Confirm):
        assert runtime.confirm not in (None, "upstream")
        return await decide_async(runtime.confirm, step.request, runtime.confirm_timeout)  # type: ignore[arg-type]
    return await runtime.async_client.call(step.endpoint, step.args)
