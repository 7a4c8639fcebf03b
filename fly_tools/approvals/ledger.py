"""The approval ledger's rules: who asked, how a question is answered and spent, in memory.

A question moves ``pending -> approved | edited | rejected | expired -> spent``. Every
backend (memory here, SQLite, Redis) applies these same two transitions inside its own
atomic section; doors (hooks, the middleware, MCP, the CLI) only translate to them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from fly_tools.approvals.entries import Approval, ApprovalError, Status, answer_error

if TYPE_CHECKING:  # signing needs the 'approvals' extra only where answers are signed
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ANSWERS: tuple[Status, ...] = ("approved", "edited", "rejected")
MAX_IN_MEMORY = 10_000
"""Questions the in-memory ledger keeps."""
_CLOSED: tuple[Status, ...] = ("spent", "rejected", "expired")
SPENDABLE: tuple[Status, ...] = ("approved", "edited")


@dataclass(frozen=True)
class Asker:
    """Who asked a question; an answer is spent only by the same asker.

    Attributes:
        token: keyed fingerprint (HMAC-SHA256 under the ledger's key) of the API token;
            the token itself is never stored. A token belongs to one org, so it stands
            for the org as well.
        host: the API base URL the toolkit talks to.
        app: the app the toolkit is bound to, if any.
        agent: the agent id, if any.
        thread: the agent thread, if any.
        tool_call: the tool-call id; only doors that resume the same call compare it.
    """

    token: str
    host: str
    app: str | None = None
    agent: str | None = None
    thread: str | None = None
    tool_call: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The stored form."""
        return {
            "token": self.token,
            "host": self.host,
            "app": self.app,
            "agent": self.agent,
            "thread": self.thread,
            "tool_call": self.tool_call,
        }

    def at(self, *, thread: str | None, tool_call: str | None) -> Asker:
        """This asker, for one call."""
        return replace(self, thread=thread, tool_call=tool_call)


def fingerprint(key: bytes, token: str) -> str:
    """Keyed fingerprint of ``token``: comparable across processes sharing ``key``."""
    return hmac.new(key, b"fly-tools asker\0" + token.encode(), hashlib.sha256).hexdigest()[:32]


def asker_of(client: Any, key: bytes, *, app: str | None, agent: str | None) -> Asker:
    """The :class:`Asker` for a toolkit on ``client`` (its token and API host)."""
    token = client.token.reveal()
    return Asker(token=fingerprint(key, token), host=str(client.base_url), app=app, agent=agent)


def same_asker(stored: Mapping[str, Any], asker: Asker, *, per_call: bool) -> bool:
    """Whether ``asker`` is the one who asked. ``per_call``: the tool-call id must match too
    (doors that resume the very call asked about); otherwise a later identical call of the
    same caller in the same thread may spend it (the store door: the model calls again)."""
    mine = asker.to_dict()
    keys = ("token", "host", "app", "agent", "thread") + (("tool_call",) if per_call else ())
    return bool(stored.get("token")) and all(stored.get(k) == mine[k] for k in keys)


def answer_transition(
    found: Approval | None,
    approval_id: str,
    status: Status,
    by: str,
    reason: str | None,
    now: float,
    *,
    expires_at: float | None = None,
    signature: str | None = None,
) -> Approval:
    """``pending -> approved | edited | rejected``, or why not.

    Raises:
        ApprovalError: not a valid answer, no such question, or it is not pending.
    """
    if status not in ANSWERS:
        raise ApprovalError(f"an answer is one of {', '.join(ANSWERS)}, not {status!r}")
    if found is None or found.status_at(now) != "pending":
        raise answer_error(approval_id, found, now)
    return found.answered(status, by, reason, now, expires_at=expires_at, signature=signature)


def spend_transition(found: Approval | None, now: float, signature: str | None) -> Approval | None:
    """``approved | edited -> spent``, or ``None`` when it cannot be spent now."""
    if found is None or found.status not in SPENDABLE or found.expires_at <= now:
        return None
    if signature is not None and found.signature != signature:
        return None  # the row changed since it was checked
    return replace(found, status="spent", consumed_at=now)


def spend_answer(
    store: Any,
    question_id: str,
    asker: Asker,
    binding: str,
    approvers: Sequence[Ed25519PublicKey] | None,
    *,
    per_call: bool,
) -> str | None:
    """Spend the answer to ``question_id`` for this asker and request: ``None`` when it was
    spent now (exactly once across every handle on the store), else why not.

    ``approvers``: the public keys an answer must be signed with (answers from outside
    the process); ``None`` for an answer given in this process (the middleware's resume).
    """
    found = store.get(question_id)
    if found is None:
        return f"no question {question_id}"
    if not same_asker(found.asker, asker, per_call=per_call):
        return f"question {question_id} was asked by another caller"
    if not hmac.compare_digest(found.binding, binding):
        return f"question {question_id} was about another request"
    status = found.status_at(store.clock())
    if status not in SPENDABLE:
        return f"question {question_id} is {status}"
    if approvers is not None and not signed(found, approvers):
        return (
            f"approval {question_id} carries no valid approver signature, so it is not used; "
            f"a person must approve question {question_id} with their approver key"
        )
    if not store.consume(found.id, found.signature):
        return f"question {question_id} was already spent"
    return None


def signed(found: Approval, approvers: Sequence[Ed25519PublicKey]) -> bool:
    """Whether one of ``approvers`` signed this answer exactly as stored."""
    from fly_tools.approvals.signing import verify

    fields = found.signed_fields(found.status, found.answered_by or "", found.expires_at)
    return found.signature is not None and verify(approvers, fields, found.signature)


def same_pending(found: Approval, new: Approval, now: float) -> bool:
    """A pending question ``new`` would repeat (same call, state and asker)."""
    return found.status_at(now) == "pending" and (
        found.tool,
        dict(found.target),
        found.version,
        dict(found.asker),
    ) == (new.tool, dict(new.target), new.version, dict(new.asker))


class MemoryApprovalStore:
    """The ledger in this process's memory: the default for in-process doors.

    Args:
        clock: wall clock for expiry (injectable for tests).
    """

    location = "memory"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._rows: dict[str, Approval] = {}

    def __repr__(self) -> str:
        return f"MemoryApprovalStore({len(self._rows)} questions)"

    def binding_key(self) -> bytes:
        """This ledger's secret for bindings and fingerprints."""
        return self._key

    def add(self, approval: Approval) -> Approval:
        """Store a new question, or return the pending one it repeats."""
        with self._lock:
            for found in self._rows.values():
                if found.binding == approval.binding and same_pending(
                    found, approval, self.clock()
                ):
                    return found
            self._rows[approval.id] = approval
            self._prune()
            return approval

    def _prune(self) -> None:
        # Bounded: closed and expired questions go first, then the oldest. A question
        # forgotten here is unknown, and an unknown question is refused, never run.
        if len(self._rows) <= MAX_IN_MEMORY:
            return
        now = self.clock()
        for qid in [q for q, a in self._rows.items() if a.status_at(now) in _CLOSED]:
            del self._rows[qid]
        while len(self._rows) > MAX_IN_MEMORY:
            del self._rows[next(iter(self._rows))]

    def get(self, approval_id: str) -> Approval | None:
        """The question with this id, or ``None``."""
        with self._lock:
            return self._rows.get(approval_id)

    def matching(self, binding: str) -> list[Approval]:
        """Questions for this binding, newest first."""
        return [a for a in self.entries() if a.binding == binding]

    def entries(self) -> list[Approval]:
        """Every question, newest first."""
        with self._lock:
            return sorted(self._rows.values(), key=lambda a: a.created_at, reverse=True)

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
        """Answer a pending question (see :func:`answer_transition`)."""
        with self._lock:
            answered = answer_transition(
                self._rows.get(approval_id),
                approval_id,
                status,
                by,
                reason,
                self.clock(),
                expires_at=expires_at,
                signature=signature,
            )
            self._rows[approval_id] = answered
            return answered

    def consume(self, approval_id: str, signature: str | None = None) -> bool:
        """Spend an answer once (see :func:`spend_transition`)."""
        with self._lock:
            spent = spend_transition(self._rows.get(approval_id), self.clock(), signature)
            if spent is None:
                return False
            self._rows[approval_id] = spent
            return True


PROCESS_LEDGER = MemoryApprovalStore()
"""The ledger every toolkit of this process shares unless given another: a question
spent by one toolkit is spent for a new toolkit resuming the same checkpoint."""
