"""Pending approvals as stored records, and the store interface every store keeps to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol, get_args

Status = Literal["pending", "approved", "edited", "rejected", "spent", "expired"]
"""Where a question stands: pending -> approved | edited | rejected | expired -> spent.

``expired`` is read off ``expires_at``, never written; ``spent`` is final.
"""
STATUSES: tuple[str, ...] = get_args(Status)
PENDING_TTL = 86_400.0
"""Seconds a question waits for a person before it expires."""
APPROVED_TTL = 900.0
"""Seconds an answer stays usable after it is given (as an in-process receipt does)."""


class ApprovalError(Exception):
    """An approval cannot be read or answered; the message says why and what to do."""


@dataclass(frozen=True)
class Approval:
    """One gated call waiting for, or answered by, a person.

    Attributes:
        id: short random id people type (``fly-tools approvals approve ID``).
        tool: the tool name.
        args: the arguments as shown to the person, secret values redacted.
        description: what the call will do, as the toolkit described it.
        target: the resource, as ``Target.to_dict()``.
        binding: keyed digest of the exact request (see :func:`request_binding`); it
            reveals nothing about secret values.
        version: the machine version the description was read at, if any.
        agent_id: the agent that asked, if known.
        asker: who asked, as :meth:`fly_tools.approvals.ledger.Asker.to_dict`: a keyed
            fingerprint of the token (never the token), the API host, app, agent, thread
            and tool-call id. Only the same asker can spend the answer.
        created_at: wall-clock seconds when it was asked.
        expires_at: after this it can no longer be answered or used.
        status: as stored: ``pending``, ``approved``, ``edited``, ``rejected`` or ``spent``.
        answered_by: who approved or rejected it.
        answered_at: when.
        reason: the person's reason, if given.
        consumed_at: when an approved call was let through (the answer was spent).
        signature: the approver's Ed25519 signature over :meth:`signed_fields`, for
            answers given outside the asking process.
    """

    id: str
    tool: str
    args: Mapping[str, Any]
    description: str
    target: Mapping[str, str | None]
    binding: str
    created_at: float
    expires_at: float
    version: str | None = None
    agent_id: str | None = None
    status: Status = "pending"
    answered_by: str | None = None
    answered_at: float | None = None
    reason: str | None = None
    consumed_at: float | None = None
    asker: Mapping[str, str | None] = field(default_factory=dict)
    signature: str | None = None

    def status_at(self, now: float) -> Status:
        """The status a reader sees: an unused question or answer past its expiry is expired."""
        if self.status in ("pending", "approved", "edited") and self.expires_at <= now:
            return "expired"
        return self.status

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (it is stored and printed as JSON)."""
        data = asdict(self)
        data["args"], data["target"] = dict(self.args), dict(self.target)
        data["asker"] = dict(self.asker)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        """Read back :meth:`to_dict`'s output."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if known.get("status") == "consumed":  # rows written before "spent" was the word
            known["status"] = "spent"
        if known.get("status") not in STATUSES:
            raise ApprovalError(f"stored approval has an unknown status {known.get('status')!r}")
        return cls(**known)

    def signed_fields(self, status: Status, by: str, expires_at: float) -> dict[str, Any]:
        """What an approver's signature on answering ``status`` covers: the question id,
        the request digest, the call as shown, who asked, the decision, who decided, and
        until when it holds."""
        return {
            "id": self.id,
            "binding": self.binding,
            "tool": self.tool,
            "target": dict(self.target),
            "version": self.version,
            "description": self.description,
            "asker": dict(self.asker),
            "decision": status,
            "approver": by,
            "expires_at": expires_at,
        }

    def answered(
        self,
        status: Status,
        by: str,
        reason: str | None,
        now: float,
        *,
        expires_at: float | None = None,
        signature: str | None = None,
    ) -> Approval:
        """This approval answered ``status`` by ``by``, usable until ``expires_at``
        (at most :data:`APPROVED_TTL` from now)."""
        limit = now + APPROVED_TTL
        return replace(
            self,
            status=status,
            answered_by=by,
            answered_at=now,
            reason=reason,
            expires_at=min(expires_at, limit) if expires_at is not None else limit,
            signature=signature,
        )


class ApprovalStore(Protocol):
    """Where approvals live between processes. Every method is safe across processes."""

    location: str
    """Where the store is, fit to print (no password)."""
    clock: Callable[[], float]
    """Wall clock for expiry: approvals are compared across processes and hosts."""

    def binding_key(self) -> bytes:
        """The store's own secret for request bindings, made on first use and kept."""
        ...

    def add(self, approval: Approval) -> Approval:
        """Store a new pending approval, or return a pending one already stored for its binding."""
        ...

    def get(self, approval_id: str) -> Approval | None:
        """The approval with this id, or ``None``."""
        ...

    def matching(self, binding: str) -> list[Approval]:
        """Approvals stored for this binding, newest first."""
        ...

    def entries(self) -> list[Approval]:
        """Every stored approval, newest first."""
        ...

    def answer(
        self,
        approval_id: str,
        status: Status,
        by: str,
        reason: str | None,
        *,
        expires_at: float | None = None,
        signature: str | None = None,
    ) -> Approval:
        """Approve or reject a pending, unexpired approval; atomic.

        ``signature`` is the approver's over :meth:`Approval.signed_fields` with this
        ``expires_at``; an unsigned approval is stored but never spent by a toolkit that
        checks signatures.

        Raises:
            ApprovalError: no such id, already answered, or expired.
        """
        ...

    def consume(self, approval_id: str, signature: str | None = None) -> bool:
        """Spend an approved (or edited), unexpired answer; ``True`` for exactly one caller.

        With ``signature``, only if the stored answer still carries that signature.
        """
        ...


def answer_error(approval_id: str, found: Approval | None, now: float) -> ApprovalError:
    """Why an answer to ``approval_id`` was not recorded."""
    if found is None:
        return ApprovalError(f"no approval {approval_id} in this store")
    status = found.status_at(now)
    by = f" by {found.answered_by}" if found.answered_by else ""
    return ApprovalError(f"approval {approval_id} is {status}{by}; only a pending one is answered")
