"""Records of calls stopped outside the pipeline: reviewers' answers, schema rejections,
calls to operations a toolkit does not have."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from fly_tools.catalogue import Endpoint
from fly_tools.guards import shape_refusal
from fly_tools.guards.context import CallContext
from fly_tools.guards.prepared import PreparedCall
from fly_tools.tools.errors import format_validation_error
from fly_tools.tools.recording import CallState
from fly_tools.tools.runtime import FlyToolError, ToolkitRuntime


def record_review(
    runtime: ToolkitRuntime,
    endpoint: Endpoint,
    raw: Mapping[str, Any],
    *,
    verdict: str,
    by: str,
    reason: str,
    context: CallContext | None,
    reads: tuple[str, ...] = (),
) -> None:
    """Record a reviewer's answer that stopped a call before it reached the toolkit."""
    call = CallState(endpoint, context or CallContext(), raw=raw, reads=list(reads))
    try:
        call.args = (
            None if shape_refusal(raw) else PreparedCall.validate(endpoint, raw, runtime.guard.app)
        )
    except ValidationError:
        call.args = None  # the raw arguments are recorded, redacted
    call.decided_by = by
    outcome = "not_executed"
    runtime.record(call, verdict, outcome, error=reason)


def refuse_outside(
    runtime: ToolkitRuntime, name: str, raw: Any, reason: str, context: CallContext | None
) -> FlyToolError:
    """Record a call refused before it reached one of the toolkit's tools (an operation
    outside the toolkit, a malformed call, a question nobody asked); the error to report.

    A name in the catalogue is recorded with its own redaction; any other name with
    :func:`~fly_tools.guards.redact.redact_unknown`.
    """
    text = f"Not executed: {reason}. Nothing was sent to Fly."
    endpoint = runtime.catalogue.get(name) if isinstance(name, str) else None
    if endpoint is not None and isinstance(raw, Mapping) and shape_refusal(raw) is None:
        call = CallState(endpoint, context or CallContext(), raw=raw)
        call.decided_by = "toolkit"
        runtime.record(call, "refused", "not_executed", error=reason)
    else:
        runtime.record_unknown(str(name), raw, reason, context)
    return FlyToolError(runtime.scrub(text), executed=False, reason=runtime.scrub(reason))


def reject_invalid(
    runtime: ToolkitRuntime, endpoint: Endpoint, err: ValidationError, context: CallContext | None
) -> FlyToolError:
    """Audit arguments the tool schema rejected (nothing is sent); the error to report."""
    message = format_validation_error(endpoint.name, err)
    call = CallState(endpoint, context or CallContext())
    call.decided_by = "argument check"
    runtime.record(call, "refused", "not_executed", error=message)
    return FlyToolError(message, executed=False, reason="invalid arguments")
