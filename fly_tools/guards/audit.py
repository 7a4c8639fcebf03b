"""The audit trail: one record per tool call, in plain English, to pluggable sinks."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

from pydantic import BaseModel, SecretStr

from fly_tools.catalogue import Endpoint
from fly_tools.guards.context import CallContext
from fly_tools.guards.decisions import Target, Verdict, target_of
from fly_tools.guards.redact import redact_args, redact_unknown, scrub_value
from fly_tools.guards.sentences import sentence_for
from fly_tools.render import TRAIL_LINE, TRAIL_WHERE, inert

Outcome = Literal["ok", "error", "not_executed", "unknown"]
"""What happened after the decision: the call succeeded, failed, never ran, or was cut
short while its request was out (``unknown``: the request may have run)."""

_VERDICTS: tuple[str, ...] = get_args(Verdict)
_OUTCOMES: tuple[str, ...] = get_args(Outcome)
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditRecord:
    """One tool call, as it is kept.

    Attributes:
        time: when the call finished, ISO-8601 UTC (``2025-05-01T12:00:00.000Z``).
        agent_id: the agent that made the call, if known.
        tool: tool name.
        target: the resource acted on.
        args: the arguments, secret values redacted.
        decision: how the call was let through or stopped (see ``Verdict``).
        decided_by: who or what decided (``console``, ``policy``, ``approve_all`` ...).
        outcome: ``ok``, ``error`` or ``not_executed``.
        status: the HTTP status of a failed call, if there was one.
        error: the error or refusal reason, secret values scrubbed.
        duration_ms: time from the call to its end.
        sentence: the whole record in one plain-English sentence.
        context: the ids that identify the call: ``tool_call_id``, ``thread_id``,
            ``run_id``, ``request_id`` (a front door's own), ``front_door``.
        receipt_id: the approval receipt a gated call was sent with.
        fly_request_id: Fly's ``fly-request-id`` of a failed call, for Fly support.
        reads: reads the toolkit made to describe the call to its reviewer
            (``fly_get_volume``; ``(failed)`` when the read failed).
        untrusted: text written by others that the call showed the model
            (``read metadata of machine ...``), or that its thread had read before this
            change (``after reading metadata of machine ... at 12:01:07 UTC``).
    """

    time: str
    agent_id: str | None
    tool: str
    target: Target
    args: Mapping[str, Any]
    decision: Verdict
    decided_by: str
    outcome: Outcome
    status: int | None
    error: str | None
    duration_ms: float
    sentence: str = field(default="")
    context: Mapping[str, str | None] = field(default_factory=dict)
    receipt_id: str | None = None
    fly_request_id: str | None = None
    reads: tuple[str, ...] = ()
    untrusted: str | None = None

    def __post_init__(self) -> None:
        if self.decision not in _VERDICTS:
            raise ValueError(f"decision must be one of {', '.join(_VERDICTS)}")
        if self.outcome not in _OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(_OUTCOMES)}")
        if not self.sentence:
            object.__setattr__(self, "sentence", sentence_for(self))

    @classmethod
    def build(
        cls,
        *,
        agent_id: str | None,
        endpoint: Endpoint,
        args: BaseModel | Mapping[str, Any] | None,
        decision: Verdict,
        decided_by: str,
        outcome: Outcome,
        status: int | None = None,
        error: str | None = None,
        duration_ms: float = 0.0,
        secrets: Iterable[str | SecretStr] = (),
        context: CallContext | None = None,
        receipt_id: str | None = None,
        fly_request_id: str | None = None,
        reads: tuple[str, ...] = (),
        untrusted: str | None = None,
    ) -> AuditRecord:
        """A record stamped now, with arguments redacted and known secrets scrubbed.

        Args:
            agent_id: the agent, if known.
            endpoint: the endpoint called.
            args: validated arguments, the raw ones of an invalid call, or ``None``.
            decision: how the call was let through or stopped.
            decided_by: who or what decided.
            outcome: what happened.
            status: HTTP status of a failure.
            error: error or refusal text.
            duration_ms: how long the call took.
            secrets: values to scrub from the error text and arguments (the token,
                secret values seen in this session).
            context: the ids of the call, where the front door knows them.
            receipt_id: the approval receipt the call was sent with.
            fly_request_id: Fly's request id of a failed call.
        """
        redacted = redact_args(endpoint, args) if args is not None else {}
        ids = {k: v for k, v in (context or CallContext()).as_dict().items() if v}
        # Every text field scrubbed in one walk of decoded values (never text re-parsed),
        # then made printable.
        shown = printable(
            scrub_value(
                {
                    "agent_id": agent_id,
                    "target": target_of(endpoint, args).to_dict(),
                    "args": redacted,
                    "decided_by": decided_by,
                    "error": error,
                    "context": ids,
                    "receipt_id": receipt_id,
                    "fly_request_id": fly_request_id,
                    "reads": list(reads),
                    "untrusted": untrusted,
                },
                tuple(secrets),
            )
        )
        return cls(
            time=_now(),
            agent_id=shown["agent_id"],
            tool=endpoint.name,
            target=Target.from_dict(shown["target"]),
            args=shown["args"],
            decision=decision,
            decided_by=shown["decided_by"],
            outcome=outcome,
            status=status,
            error=_one_line(shown["error"]) if error is not None else None,
            duration_ms=round(duration_ms, 3),
            context=shown["context"],
            receipt_id=shown["receipt_id"],
            fly_request_id=shown["fly_request_id"],
            reads=tuple(shown["reads"]),
            untrusted=shown["untrusted"],
            sentence="-",  # worded below, from the record's own phrase
        ).worded(endpoint)

    def worded(self, endpoint: Endpoint | None = None) -> AuditRecord:
        """This record with its sentence worded again, from ``endpoint``'s phrase."""
        return replace(self, sentence=sentence_for(self, endpoint))

    @classmethod
    def refused_unknown(
        cls,
        *,
        agent_id: str | None,
        tool: str,
        args: Any,
        reason: str,
        secrets: Iterable[str | SecretStr] = (),
        context: CallContext | None = None,
    ) -> AuditRecord:
        """The record of a call to a tool that is not in the catalogue (nothing was sent):
        arguments redacted without a schema, name and text made printable."""
        ids = {k: v for k, v in (context or CallContext()).as_dict().items() if v}

        def clean(value: Any) -> Any:
            return printable(scrub_value(value, secrets))

        app = args.get("app_name") if isinstance(args, Mapping) else None
        return cls(
            time=_now(),
            agent_id=clean(agent_id),
            tool=clean(tool[:100]),
            target=Target(kind="app", app=clean(app)) if isinstance(app, str) else Target("org"),
            args=clean(redact_unknown(args)) if isinstance(args, Mapping) else {},
            decision="refused",
            decided_by="toolkit",
            outcome="not_executed",
            status=None,
            error=_one_line(clean(reason)),
            duration_ms=0.0,
            context=clean(ids),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, the target as a dict."""
        return {
            "time": self.time,
            "agent_id": self.agent_id,
            "tool": self.tool,
            "target": self.target.to_dict(),
            "args": dict(self.args),
            "decision": self.decision,
            "decided_by": self.decided_by,
            "outcome": self.outcome,
            "status": self.status,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "sentence": self.sentence,
            "context": dict(self.context),
            "receipt_id": self.receipt_id,
            "fly_request_id": self.fly_request_id,
            "reads": list(self.reads),
            "untrusted": self.untrusted,
        }

    def to_json(self) -> str:
        """One line of JSON, always encodable as UTF-8 (lone surrogates escaped)."""
        return _printable_text(json.dumps(self.to_dict(), ensure_ascii=False, default=str))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditRecord:
        """Read back :meth:`to_dict`'s output."""
        values = dict(data)
        values["target"] = Target.from_dict(values.get("target") or {})
        values["reads"] = tuple(values.get("reads") or ())
        return cls(**values)


def printable(value: Any) -> Any:
    """``value`` with every string made encodable as UTF-8: a lone surrogate (``\\ud800``)
    becomes the text ``\\ud800``, so a record is written whatever a model put in it."""
    if isinstance(value, str):
        return _printable_text(value)
    if isinstance(value, Mapping):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(item) for item in value]
    return value


def _printable_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _one_line(text: str) -> str:
    # A record's sentence stays one line, whatever a server or a model put in the text.
    return " ".join(text.split())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------- sinks


class AuditSink(Protocol):
    """Where audit records go."""

    def write(self, record: AuditRecord) -> None:
        """Store or forward one record."""


class JsonlSink:
    """Appends each record as one line of JSON to a file, written and flushed at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, record: AuditRecord) -> None:
        """Append ``record``."""
        line = (record.to_json() + "\n").encode("utf-8")
        # Unbuffered append: one write per record, so lines from several writers do
        # not interleave, and nothing is left sitting in a buffer if the process dies.
        with self._lock, self.path.open("ab", buffering=0) as file:
            file.write(line)

    def check(self) -> None:
        """Raise ``OSError`` if the file cannot be appended to."""
        with self._lock, self.path.open("ab", buffering=0):
            pass

    def __repr__(self) -> str:
        return f"JsonlSink({str(self.path)!r})"


class LoggingSink:
    """Logs each record's sentence; the record itself is in the log record's ``audit_record``."""

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self.logger = logger or logging.getLogger("fly_tools.audit")
        self.level = level

    def write(self, record: AuditRecord) -> None:
        """Log ``record``."""
        self.logger.log(self.level, "%s", record.sentence, extra={"audit_record": record})


class MemorySink:
    """Keeps the newest records in ``records``, for tests and notebooks.

    Args:
        limit: how many records to keep; the oldest are dropped past it (``None``: all).
    """

    def __init__(self, limit: int | None = 10_000) -> None:
        self.records: list[AuditRecord] = []
        self.limit = limit
        self.dropped = 0
        self._lock = threading.Lock()

    def write(self, record: AuditRecord) -> None:
        """Keep ``record``."""
        with self._lock:
            self.records.append(record)
            if self.limit is not None and len(self.records) > self.limit:
                excess = len(self.records) - self.limit
                del self.records[:excess]
                self.dropped += excess


class AuditError(RuntimeError):
    """A strict audit log could not write a record, so the call was stopped."""


class AuditLog:
    """Sends every record to each sink.

    Args:
        sinks: where records go.
        strict: ``True`` for "no audit, no action": a failing sink raises
            :class:`AuditError`, which stops a call before its request is sent (its
            refusal is still attempted on the other sinks). ``False`` (default): a
            failing sink is logged and the call goes on.
    """

    def __init__(self, *sinks: AuditSink, strict: bool = False) -> None:
        self.sinks: tuple[AuditSink, ...] = sinks
        self.strict = strict

    def record(self, record: AuditRecord) -> None:
        """Write ``record`` to every sink."""
        failed: list[str] = []
        for sink in self.sinks:
            try:
                sink.write(record)
            except Exception as exc:
                _log.warning("audit sink %r failed: %s: %s", sink, type(exc).__name__, exc)
                failed.append(f"{sink!r}: {type(exc).__name__}")
        if failed and self.strict:
            raise AuditError(f"audit sink failed ({'; '.join(failed)})")

    def check(self) -> None:
        """Raise :class:`AuditError` now if a strict log cannot write (probe each sink)."""
        for sink in self.sinks:
            probe = getattr(sink, "check", None)
            if self.strict and callable(probe):
                try:
                    probe()
                except Exception as exc:
                    raise AuditError(f"audit sink {sink!r} cannot write: {exc}") from None


def read_jsonl(path: str | Path) -> list[AuditRecord]:
    """Records from a :class:`JsonlSink` file, in order.

    Raises:
        ValueError: naming the line that is not a valid record.
    """
    records: list[AuditRecord] = []
    with Path(path).open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                records.append(AuditRecord.from_dict(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not an audit record ({exc})") from None
    return records


def format_trail(
    records: Iterable[AuditRecord], *, agent: str | None = None, decision: str | None = None
) -> str:
    """A numbered plain-English trail, optionally for one agent or one decision."""
    if decision is not None and decision not in _VERDICTS:
        raise ValueError(f"unknown decision {decision!r}; use one of: {', '.join(_VERDICTS)}")
    chosen = [
        r
        for r in records
        if (agent is None or r.agent_id == agent) and (decision is None or r.decision == decision)
    ]
    if not chosen:
        return "No audit records match." if agent or decision else "No audit records."
    # A file can be written by anyone: every sentence is shown inert, and cut visibly.
    return "\n".join(
        f"{n}. {inert(r.time, limit=40, where=TRAIL_WHERE)} "
        f"{inert(r.sentence, limit=TRAIL_LINE, where=TRAIL_WHERE)} ({r.duration_ms:.0f} ms)"
        for n, r in enumerate(chosen, 1)
    )
