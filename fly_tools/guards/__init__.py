"""Guardrails: approval hooks, human-in-the-loop config, per-agent policy, audit, redaction."""

from fly_tools.guards.audit import (
    AuditError,
    AuditLog,
    AuditRecord,
    AuditSink,
    JsonlSink,
    LoggingSink,
    MemorySink,
    Outcome,
    format_trail,
    read_jsonl,
)
from fly_tools.guards.confirm import (
    approve_all,
    decide_async,
    decide_sync,
    deny_all,
    from_callback,
    rejected_message,
)
from fly_tools.guards.console import ConsoleApproval
from fly_tools.guards.context import CallContext
from fly_tools.guards.decisions import (
    ActionRequest,
    Approve,
    ConfirmHook,
    Decision,
    Edit,
    MiddlewareApproval,
    Reject,
    Target,
    Verdict,
    target_of,
)
from fly_tools.guards.describe import (
    action_phrase,
    describe_action,
    facts_of,
    state_lookup,
    type_back_for,
)
from fly_tools.guards.hitl import interrupt_on
from fly_tools.guards.policy import AgentPolicy, GroupLevel, ToolRule
from fly_tools.guards.redact import (
    REDACTED,
    contains_redacted,
    redact_args,
    scrub,
    scrub_value,
    secret_values_in,
    shape_refusal,
)
from fly_tools.guards.sentences import sentence_for

__all__ = [
    "REDACTED",
    "ActionRequest",
    "AgentPolicy",
    "Approve",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "AuditSink",
    "CallContext",
    "ConfirmHook",
    "ConsoleApproval",
    "Decision",
    "Edit",
    "GroupLevel",
    "JsonlSink",
    "LoggingSink",
    "MemorySink",
    "MiddlewareApproval",
    "Outcome",
    "Reject",
    "Target",
    "ToolRule",
    "Verdict",
    "action_phrase",
    "approve_all",
    "contains_redacted",
    "decide_async",
    "decide_sync",
    "deny_all",
    "describe_action",
    "facts_of",
    "format_trail",
    "from_callback",
    "interrupt_on",
    "read_jsonl",
    "redact_args",
    "rejected_message",
    "scrub",
    "scrub_value",
    "secret_values_in",
    "sentence_for",
    "shape_refusal",
    "state_lookup",
    "target_of",
    "type_back_for",
]
