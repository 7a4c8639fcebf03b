"""Guardrails: approval hooks, human-in-the-loop config, per-agent policy, audit, redaction."""

from fly_tools.guards.audit import (
    AuditLog,
    AuditRecord,
    AuditSink,
    JsonlSink,
    LoggingSink,
    MemorySink,
    Outcome,
    format_trail,
    read_jsonl,
    sentence_for,
)
from fly_tools.guards.confirm import (
    ConsoleApproval,
    approve_all,
    decide_async,
    decide_sync,
    deny_all,
    from_callback,
    rejected_message,
)
from fly_tools.guards.decisions import (
    ActionRequest,
    Approve,
    ConfirmHook,
    Decision,
    Edit,
    Reject,
    Target,
    Verdict,
    target_of,
)
from fly_tools.guards.describe import CONSEQUENCES, action_phrase, describe_action, state_lookup
from fly_tools.guards.hitl import interrupt_on
from fly_tools.guards.policy import AgentPolicy, GroupLevel, ToolRule
from fly_tools.guards.redact import REDACTED, contains_redacted, redact_args, scrub

__all__ = [
    "CONSEQUENCES",
    "REDACTED",
    "ActionRequest",
    "AgentPolicy",
    "Approve",
    "AuditLog",
    "AuditRecord",
    "AuditSink",
    "ConfirmHook",
    "ConsoleApproval",
    "Decision",
    "Edit",
    "GroupLevel",
    "JsonlSink",
    "LoggingSink",
    "MemorySink",
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
    "format_trail",
    "from_callback",
    "interrupt_on",
    "read_jsonl",
    "redact_args",
    "rejected_message",
    "scrub",
    "sentence_for",
    "state_lookup",
    "target_of",
]
