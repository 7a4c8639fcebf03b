"""Writing a call's one audit record: never failing after the send, never losing a refusal."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fly_tools.catalogue import Endpoint
from fly_tools.guards import AuditLog, AuditRecord, shape_refusal
from fly_tools.guards.audit import AuditError
from fly_tools.guards.context import CallContext
from fly_tools.models.args import FlyArgs

_log = logging.getLogger(__name__)


@dataclass
class CallState:
    """What the pipeline knows about one call so far, for its audit record."""

    endpoint: Endpoint
    context: CallContext
    args: FlyArgs | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    decision: str = "allowed"
    decided_by: str = "toolkit policy"
    receipt_id: str | None = None
    reads: list[str] = field(default_factory=list)
    untrusted: str | None = None
    sending: bool = False
    recorded: bool = False


class RecordKeeping:
    """The audit side of :class:`~fly_tools.tools.runtime.ToolkitRuntime`."""

    audit: AuditLog
    agent_id: str | None

    def note_secrets(self, endpoint: Endpoint, args: FlyArgs | Mapping[str, Any] | None) -> None:
        """Remember secret values in ``args`` (the runtime's own)."""
        raise NotImplementedError

    def secret_values(self) -> set[str]:
        """Values that must never reach a record (the runtime's own)."""
        raise NotImplementedError

    def record(
        self,
        call: CallState,
        decision: str,
        outcome: str,
        *,
        status: int | None = None,
        error: str | None = None,
        fly_request_id: str | None = None,
    ) -> None:
        """Write the one audit record of ``call``.

        Never raises once the call's request may have been sent (``call.sending``): a
        record that cannot be built is replaced by one saying so, and a strict sink that
        fails after the send is logged (the request has happened; raising would hide
        its answer). Before the send, a strict log's :class:`AuditError` propagates.
        """
        call.recorded = True
        try:
            record = self.build_record(
                call, decision, outcome, status=status, error=error, request_id=fly_request_id
            )
        except Exception as exc:  # the record of a failure to record
            record = self.unrecordable(call, decision, outcome, exc, status=status)
        try:
            self.audit.record(record)
        except AuditError:
            if not call.sending:
                raise
            _log.error(
                "the record of a call already sent could not be written: %s", record.sentence
            )

    def record_unknown(self, name: str, raw: Any, reason: str, context: CallContext | None) -> None:
        """Write the record of a refused call to a tool this catalogue does not have."""
        shaped = raw if isinstance(raw, Mapping) and shape_refusal(raw) is None else None
        self.audit.record(
            AuditRecord.refused_unknown(
                agent_id=self.agent_id,
                tool=name,
                args=shaped,
                reason=reason,
                secrets=self.secret_values(),
                context=context,
            )
        )

    def build_record(
        self,
        call: CallState,
        decision: str,
        outcome: str,
        *,
        status: int | None = None,
        error: str | None = None,
        request_id: str | None = None,
    ) -> AuditRecord:
        """The audit record ``call`` would leave (built, not written)."""
        args = call.args if call.args is not None else call.raw
        self.note_secrets(call.endpoint, args)
        return AuditRecord.build(
            agent_id=self.agent_id,
            endpoint=call.endpoint,
            args=args,
            decision=decision,  # type: ignore[arg-type]
            decided_by=call.decided_by,
            outcome=outcome,  # type: ignore[arg-type]
            status=status,
            error=error,
            duration_ms=(time.perf_counter() - call.started) * 1000,
            secrets=self.secret_values(),
            context=call.context,
            receipt_id=call.receipt_id,
            fly_request_id=request_id,
            reads=tuple(call.reads),
            untrusted=call.untrusted,
        )

    def unrecordable(
        self, call: CallState, decision: str, outcome: str, exc: Exception, *, status: int | None
    ) -> AuditRecord:
        """A record with no arguments, saying the call's own record could not be built."""
        reason = f"the arguments could not be recorded ({type(exc).__name__})"
        return AuditRecord.build(
            agent_id=self.agent_id,
            endpoint=call.endpoint,
            args=None,
            decision=decision,  # type: ignore[arg-type]
            decided_by=call.decided_by,
            outcome=outcome,  # type: ignore[arg-type]
            status=status,
            error=reason,
            duration_ms=(time.perf_counter() - call.started) * 1000,
            secrets=self.secret_values(),
            receipt_id=call.receipt_id,
        )
