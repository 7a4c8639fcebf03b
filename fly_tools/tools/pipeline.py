"""One tool call from arguments to answer, written once as steps; one driver pair does the I/O.

The pipeline is a generator: it yields what it needs done (read state for a description,
ask a human, send the request) and receives the result. :func:`drive_sync` and
:func:`drive_async` perform those steps with the sync or async client, so the decisions
exist only here. The send step is the one enforcement point for approval: a gated call
goes out only with a receipt that matches the request (see :mod:`fly_tools.guards.receipts`).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, NoReturn

from pydantic import ValidationError

from fly_tools.catalogue import Endpoint
from fly_tools.client import FlyError
from fly_tools.guards import (
    ActionRequest,
    ConfirmHook,
    Decision,
    Edit,
    Reject,
    contains_redacted,
    rejected_message,
    shape_refusal,
    state_lookup,
)
from fly_tools.guards.audit import AuditError
from fly_tools.guards.context import CallContext
from fly_tools.guards.decisions import MiddlewareApproval, Pending
from fly_tools.guards.describe import ASK_AGAIN, changed_during_review
from fly_tools.guards.prepared import PreparedCall
from fly_tools.guards.receipts import Receipt
from fly_tools.models.args import FlyArgs
from fly_tools.tools.drive import drive_async, drive_sync
from fly_tools.tools.errors import format_validation_error
from fly_tools.tools.recording import CallState
from fly_tools.tools.refusals import record_review, refuse_outside, reject_invalid
from fly_tools.tools.runtime import (
    CheckScope,
    Confirm,
    FlyToolError,
    Lookup,
    Send,
    Step,
    ToolkitRuntime,
    ToolOutput,
    describe_steps,
)
from fly_tools.untrusted import no_approver

NO_APPROVER = (
    "{tool} is {tier} and needs human approval, but this toolkit has no approver: pass "
    "confirm=<hook> (e.g. ConsoleApproval()) to FlyToolkit, or confirm=MiddlewareApproval() "
    "with fly_tools.agents.approval_middleware(toolkit) in the agent's middleware"
)
NO_RECEIPT = (
    "{tool} is {tier} and needs a human decision from the agent's approval middleware, and "
    "none was given for this call: add fly_tools.agents.approval_middleware(toolkit) to the "
    "agent's middleware (a plain HumanInTheLoopMiddleware cannot approve it)"
)
UNSET: Any = object()
"""The default of ``confirm=`` on a call: the toolkit's own approver (``None`` means none)."""


def pipeline(
    runtime: ToolkitRuntime,
    endpoint: Endpoint,
    raw: Mapping[str, Any],
    context: CallContext | None = None,
    confirm: ConfirmHook | MiddlewareApproval | None = UNSET,
) -> Generator[Step, Any, ToolOutput]:
    """The steps of one call. Returns (content, artifact) or raises :class:`FlyToolError`.

    Whatever happens (an error, a cancelled task, Ctrl-C at a prompt), the call leaves
    exactly one audit record; one cut short while its request was out says the request
    may have run.
    """
    call = CallState(endpoint, context or CallContext(), raw=raw)
    hook = runtime.confirm if confirm is UNSET else confirm
    try:
        return (yield from _steps(runtime, call, hook))
    except AuditError as err:  # a strict log failed before the send: nothing went out
        text = f"Not executed: {err}; this toolkit sends nothing it cannot record."
        raise FlyToolError(text, executed=False, reason=str(err)) from None
    except BaseException as exc:
        if not call.recorded:
            _record_interrupted(runtime, call, exc)
        raise


def _steps(
    runtime: ToolkitRuntime, call: CallState, hook: ConfirmHook | MiddlewareApproval | None
) -> Generator[Step, Any, ToolOutput]:
    endpoint = call.endpoint
    shape = shape_refusal(call.raw)
    if shape:  # before anything walks the arguments recursively
        call.decided_by = "argument check"
        runtime.record(call, "refused", "not_executed", error=shape)
        text = f"Not executed: {shape}. Nothing was sent to Fly."
        raise FlyToolError(text, executed=False, reason="invalid arguments")
    runtime.note_secrets(endpoint, call.raw)
    try:
        call.args = PreparedCall.validate(endpoint, call.raw, runtime.guard.app)
    except ValidationError as err:
        message = format_validation_error(endpoint.name, err)
        call.decided_by = "argument check"
        runtime.record(call, "refused", "not_executed", error=message)
        raise FlyToolError(message, executed=False, reason="invalid arguments") from None
    reason = runtime.guard.refusal(endpoint, call.args)
    call.untrusted = runtime.untrusted.audit_note(endpoint, call.context)
    reason = reason or runtime.untrusted.refusal(endpoint, call.context)
    if not reason and runtime.gated(endpoint, call.context) and hook is None:
        reason = _no_approver(runtime, call)
    if not reason and runtime.needs_scope_check(endpoint):
        reason = yield CheckScope()
    if reason:
        _refuse(runtime, call, reason)
    receipt = None
    if runtime.gated(endpoint, call.context):
        receipt = yield from _approval(runtime, call, hook)
    return (yield from _send(runtime, call, receipt))


def _approval(
    runtime: ToolkitRuntime, call: CallState, hook: ConfirmHook | MiddlewareApproval | None
) -> Generator[Step, Any, Receipt]:
    words = {"tool": call.endpoint.name, "tier": call.endpoint.risk.label}
    if isinstance(hook, MiddlewareApproval):
        receipt = runtime.receipts.claim(call.context)
        if receipt is None:
            _refuse(runtime, call, NO_RECEIPT.format(**words))
        call.reads.extend(receipt.reads)
        return receipt
    if hook is None:
        _refuse(runtime, call, _no_approver(runtime, call))
    return (yield from _ask_hook(runtime, call, hook))


def _no_approver(runtime: ToolkitRuntime, call: CallState) -> str:
    escalation = runtime.untrusted.escalation(call.endpoint, call.context)
    if escalation is not None:
        return no_approver(call.endpoint, escalation)
    return NO_APPROVER.format(tool=call.endpoint.name, tier=call.endpoint.risk.label)


def _ask_hook(
    runtime: ToolkitRuntime, call: CallState, hook: ConfirmHook
) -> Generator[Step, Any, Receipt]:
    """Describe the call, ask the hook (again for an edit), and turn a yes into a receipt."""
    endpoint, args = call.endpoint, call.args
    assert args is not None
    request = yield from describe_steps(runtime, endpoint, args, call.context, reads=call.reads)
    bind = getattr(hook, "bind_request", None)  # hooks keeping answers outside the process
    decision: Decision = yield Confirm(
        request, hook, bind if callable(bind) else None, endpoint, args
    )
    call.decided_by = decision.by
    if isinstance(decision, Edit):
        request = yield from _edited_request(runtime, call, decision)
        decision = yield Confirm(request, hook)
        call.decided_by = decision.by
        if isinstance(decision, Edit):
            reason = "an edited call must be approved or rejected as it stands"
            decision = Reject(reason=reason, by=decision.by)
    if isinstance(decision, Reject):
        _reject(runtime, call, request, decision)
    assert call.args is not None
    if state_lookup(endpoint, call.args) is not None:
        # The person may have deliberated for minutes: read the target again, and send
        # only if it still reads as they were shown.
        now = yield from describe_steps(
            runtime, endpoint, call.args, call.context, edited=request.edited, reads=call.reads
        )
        if now.description != request.description:
            reason = changed_during_review(request.description, now.description)
            _refuse(runtime, call, reason, advice=ASK_AGAIN)
    return runtime.receipts.issue(
        endpoint,
        call.args,
        decided_by=decision.by,
        verdict="edited" if request.edited else "approved",
        version=request.version,
        digest=request.digest,
    )


def _edited_request(
    runtime: ToolkitRuntime, call: CallState, decision: Edit
) -> Generator[Step, Any, ActionRequest]:
    """Validate, guard and describe an edited call: it is approved again as edited."""
    endpoint = call.endpoint
    if contains_redacted(decision.args):
        reason = "the edited arguments still contain a redacted placeholder; give real values"
        _reject(runtime, call, None, Reject(reason=reason, by=decision.by))
    try:
        edited = PreparedCall.validate(endpoint, decision.args, runtime.guard.app)
    except ValidationError as err:
        message = format_validation_error(endpoint.name, err)
        _reject(
            runtime,
            call,
            None,
            Reject(reason=f"edited arguments invalid: {message}", by=decision.by),
        )
    refusal = runtime.guard.refusal(endpoint, edited)
    call.args = edited
    if refusal:
        _refuse(runtime, call, refusal)
    call.decision = "edited"
    return (
        yield from describe_steps(
            runtime, endpoint, edited, call.context, edited=True, reads=call.reads
        )
    )


def _send(
    runtime: ToolkitRuntime, call: CallState, receipt: Receipt | None
) -> Generator[Step, Any, ToolOutput]:
    """The one enforcement point: a gated call is sent only with a matching receipt."""
    endpoint, args = call.endpoint, call.args
    assert args is not None
    if runtime.gated(endpoint, call.context):
        if receipt is None:
            _refuse(runtime, call, NO_RECEIPT.format(tool=endpoint.name, tier=endpoint.risk.label))
        call.decision, call.decided_by = receipt.verdict, receipt.decided_by
        call.receipt_id = receipt.receipt_id
        mismatch = runtime.receipts.redeem(receipt, endpoint, args)
        if mismatch:
            _refuse(runtime, call, f"not sent as approved: {mismatch}")
        args = _pin_version(args, receipt)
    _check_audit_ready(runtime, call)
    call.sending = True
    try:
        result = yield Send(endpoint, args)
    except FlyError as err:
        status = getattr(err, "status", None)
        text = runtime.scrub(str(err))
        request_id = getattr(err, "request_id", None)
        runtime.record(
            call, call.decision, "error", status=status, error=text, fly_request_id=request_id
        )
        artifact = {"executed": True, "error": text, "status": status}
        raise FlyToolError(
            text, executed=True, reason="Fly refused the call", artifact=artifact
        ) from None
    except Exception as exc:
        text = (
            f"The request to Fly failed unexpectedly ({type(exc).__name__}); it may have run. "
            "Check the current state before repeating it."
        )
        runtime.record(call, call.decision, "unknown", error=runtime.scrub(f"{text} {exc}"))
        raise FlyToolError(text, executed=None, reason="unknown outcome") from None
    exposure = runtime.read_untrusted(endpoint, args, result, call.context)
    if exposure is not None:
        call.untrusted = f"read {exposure.source}"
    runtime.record(call, call.decision, "ok")
    return runtime.answer(endpoint, args, result, exposure)


def _check_audit_ready(runtime: ToolkitRuntime, call: CallState) -> None:
    """A strict audit log refuses to let out a request it could not record: its sinks
    must be writable and the call's record must build and serialize."""
    if not runtime.audit.strict:
        return
    try:
        runtime.audit.check()
    except AuditError as err:
        call.recorded = True  # nothing can be recorded: the sink is what failed
        text = f"Not executed: {err}; this toolkit sends nothing it cannot record."
        raise FlyToolError(text, executed=False, reason=str(err)) from None
    try:
        runtime.build_record(call, call.decision, "unknown").to_json().encode("utf-8")
    except Exception as exc:
        reason = f"its audit record could not be built ({type(exc).__name__})"
        runtime.audit.record(
            runtime.unrecordable(call, "refused", "not_executed", exc, status=None)
        )
        call.recorded = True
        text = f"Not executed: {reason}; this toolkit sends nothing it cannot record."
        raise FlyToolError(text, executed=False, reason=reason) from None


def _pin_version(args: FlyArgs, receipt: Receipt) -> FlyArgs:
    # An update carries the version the reviewer saw, so Fly refuses a machine that
    # changed after approval instead of applying the change to something else.
    unpinned = "current_version" in type(args).model_fields and not args.current_version  # type: ignore[attr-defined]
    if receipt.version and unpinned:
        return args.model_copy(update={"current_version": receipt.version})
    return args


_DO_NOT_RETRY = "Do not retry this call; tell the user what you needed and why."


def _refuse(
    runtime: ToolkitRuntime, call: CallState, reason: str, *, advice: str = _DO_NOT_RETRY
) -> NoReturn:
    call.decided_by = "guard"
    runtime.record(call, "refused", "not_executed", error=reason)
    text = f"Not executed: {reason}. Nothing was sent to Fly. {advice}"
    raise FlyToolError(runtime.scrub(text), executed=False, reason=runtime.scrub(reason))


def _reject(
    runtime: ToolkitRuntime, call: CallState, request: ActionRequest | None, decision: Reject
) -> NoReturn:
    call.decision, call.decided_by = decision.verdict, decision.by
    runtime.record(call, decision.verdict, "not_executed", error=decision.reason)
    text = rejected_message(call.endpoint, call.args, decision)
    if isinstance(decision, Pending):
        text = f"Not executed: {decision.reason}. Nothing was sent to Fly."
    raise FlyToolError(runtime.scrub(text), executed=False, reason=runtime.scrub(decision.reason))


def _record_interrupted(runtime: ToolkitRuntime, call: CallState, exc: BaseException) -> None:
    what = type(exc).__name__
    if call.sending:
        runtime.record(
            call, call.decision, "unknown", error=f"interrupted ({what}): the request may have run"
        )
    else:
        runtime.record(call, call.decision, "not_executed", error=f"interrupted ({what})")


def prepare_steps(
    runtime: ToolkitRuntime, endpoint: Endpoint, raw: Mapping[str, Any], context: CallContext | None
) -> Generator[Step, Any, PreparedCall]:
    """Validate, guard and describe a call without sending it or writing a record."""
    shape = shape_refusal(raw)
    if shape:
        return PreparedCall(endpoint.name, runtime.gated(endpoint), shape)
    try:
        args = PreparedCall.validate(endpoint, raw, runtime.guard.app)
    except ValidationError as err:
        return PreparedCall(
            endpoint.name,
            runtime.gated(endpoint, context),
            format_validation_error(endpoint.name, err),
        )
    gated = runtime.gated(endpoint, context)
    refusal = runtime.guard.refusal(endpoint, args) or runtime.untrusted.refusal(endpoint, context)
    if refusal or not gated:
        return PreparedCall(endpoint.name, gated, refusal)
    reads: list[str] = []
    request = yield from describe_steps(
        runtime, endpoint, args, context or CallContext(), reads=reads
    )
    return PreparedCall(endpoint.name, True, None, request, args, tuple(reads))


def run_sync(
    runtime: ToolkitRuntime,
    endpoint: Endpoint,
    raw: Mapping[str, Any],
    context: CallContext | None = None,
    confirm: ConfirmHook | MiddlewareApproval | None = UNSET,
) -> ToolOutput:
    """One call, driven with the sync client."""
    return drive_sync(runtime, pipeline(runtime, endpoint, raw, context, confirm))  # type: ignore[no-any-return]


async def run_async(
    runtime: ToolkitRuntime,
    endpoint: Endpoint,
    raw: Mapping[str, Any],
    context: CallContext | None = None,
    confirm: ConfirmHook | MiddlewareApproval | None = UNSET,
) -> ToolOutput:
    """One call, driven with the async client."""
    return await drive_async(runtime, pipeline(runtime, endpoint, raw, context, confirm))  # type: ignore[no-any-return]


__all__ = [
    "UNSET",
    "Confirm",
    "FlyToolError",
    "Lookup",
    "PreparedCall",
    "Send",
    "ToolOutput",
    "ToolkitRuntime",
    "drive_async",
    "drive_sync",
    "pipeline",
    "prepare_steps",
    "record_review",
    "refuse_outside",
    "reject_invalid",
    "run_async",
    "run_sync",
]
