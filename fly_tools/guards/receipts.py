"""Approval receipts: a human decision bound to the exact request it allows, used once.

A gated call is sent only with a receipt. Front doors (a confirmation hook, the agent
middleware, the CLI prompt, an MCP client) only produce decisions; the toolkit turns a
decision into a receipt bound to:

- the tool, and a keyed digest of the request the validated arguments make (after app
  binding and any edit): method, path, query, body and lease header;
- the target (app, machine, volume or secret), and the machine version the reviewer saw;
- who decided, and when the receipt expires;
- the tool-call id and thread, where the front door has them.

The send step checks the receipt against the request it is about to send and consumes
it. A missing, expired, used or mismatching receipt means nothing is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fly_tools.catalogue import Endpoint
from fly_tools.guards.context import CallContext
from fly_tools.guards.decisions import Target, target_of

Granted = Literal["approved", "edited"]
DEFAULT_TTL = 900.0
"""Seconds a receipt stays valid: long enough to resume an agent, short enough to go stale."""
_MAX_PENDING = 10_000
SHARED_KEY_ENV = "FLY_TOOLS_APPROVAL_KEY"
"""A secret (at least 32 characters) shared by the replicas of one deployment: request
digests, and MCP question tickets, then read the same in every replica."""


def shared_secret(purpose: str) -> bytes | None:
    """A key for ``purpose`` derived from ``$FLY_TOOLS_APPROVAL_KEY``, or ``None`` if unset.

    Raises:
        ValueError: it is set but shorter than 32 characters.
    """
    text = os.environ.get(SHARED_KEY_ENV, "")
    if not text:
        return None
    if len(text) < 32:
        raise ValueError(f"{SHARED_KEY_ENV} must be at least 32 characters of random text")
    return hmac.new(text.encode(), purpose.encode(), hashlib.sha256).digest()


def request_digest(key: bytes, endpoint: Endpoint, args: Any, *, target: bool = False) -> str:
    """Keyed digest (HMAC-SHA256, hex) of the exact request ``args`` make for ``endpoint``.

    The one canonical form of a request: the tool, then the wire plan the client would
    send (method, path, query, body and headers), with the call's target after it when
    ``target`` is set. Keyed, so a digest shown to a reviewer or stored in a checkpoint or
    an approvals store reveals nothing about secret values in the body.

    Raises:
        ValueError: the arguments cannot be put on the wire (e.g. a non-finite number).
    """
    from fly_tools.client.core import build_request  # the client decides the wire form

    plan = build_request(endpoint, args)
    parts = [
        endpoint.name,
        plan.method,
        plan.path,
        list(plan.params),
        plan.json,
        dict(plan.headers),
    ]
    if target:
        parts.append(target_of(endpoint, args).to_dict())
    canonical = json.dumps(
        parts,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=str,
    )
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Receipt:
    """One human decision that lets one request through.

    Attributes:
        receipt_id: random id, for the audit trail.
        tool: the tool it allows.
        digest: keyed digest of the exact request (see :meth:`ReceiptBook.digest`).
        target: the resource it allows the call on.
        decided_by: who decided.
        verdict: ``approved``, or ``edited`` when the reviewer changed the call first.
        expires_at: wall-clock expiry (``time.time()`` seconds).
        tool_call_id: the agent's tool-call id the decision was about, if any.
        thread_id: the agent thread, if any.
        version: the machine version the reviewer saw, if one was read (updates carry it
            as ``current_version``, so Fly refuses a machine that changed since).
        reads: the reads made to describe the call, for its audit record.
        front_door: the door the decision was made at (``langchain`` for an agent's own
            tool, ``facade`` for the call-by-name tool): only a call through that door
            can claim it.
    """

    receipt_id: str
    tool: str
    digest: str
    target: Target
    decided_by: str
    verdict: Granted
    expires_at: float
    tool_call_id: str | None = None
    thread_id: str | None = None
    version: str | None = None
    reads: tuple[str, ...] = ()
    front_door: str | None = None

    def __repr__(self) -> str:
        return (
            f"Receipt({self.receipt_id}, {self.tool} on {self.target}, {self.verdict} by "
            f"{self.decided_by!r})"
        )


class ReceiptBook:
    """Issues receipts, and checks and consumes them at the moment of sending.

    One per toolkit. Thread-safe; a receipt is consumed at most once. Receipts waiting
    for their call are keyed by (thread, tool-call id); the oldest are dropped past a
    bound, and expired ones never match.

    Args:
        ttl: seconds a receipt is valid.
        clock: wall clock (injectable for tests).
    """

    def __init__(self, *, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self._clock = clock
        # Shared across replicas when configured, so a digest one replica showed is the
        # digest another computes; otherwise private to this book.
        self._key = shared_secret("request digests") or secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._waiting: OrderedDict[tuple[str | None, str], Receipt] = OrderedDict()
        self._used: OrderedDict[str, None] = OrderedDict()

    def __repr__(self) -> str:
        return f"ReceiptBook({len(self._waiting)} waiting)"

    def digest(self, endpoint: Endpoint, args: Any) -> str:
        """Keyed digest of the request ``args`` make for ``endpoint``.

        Keyed, so a digest shown to a reviewer or stored in a checkpoint reveals nothing
        about secret values in the body.

        Raises:
            ValueError: the arguments cannot be put on the wire (e.g. a non-finite number).
        """
        return request_digest(self._key, endpoint, args)[:40]

    def issue(
        self,
        endpoint: Endpoint,
        args: Any,
        *,
        decided_by: str,
        verdict: Granted,
        context: CallContext | None = None,
        version: str | None = None,
        digest: str | None = None,
        reads: tuple[str, ...] = (),
    ) -> Receipt:
        """A receipt for this exact call, decided by ``decided_by``.

        With a tool-call id in ``context`` the receipt waits for that call (see
        :meth:`claim`); otherwise it is handed straight to the caller.
        """
        context = context or CallContext()
        receipt = Receipt(
            receipt_id=secrets.token_hex(8),
            tool=endpoint.name,
            digest=digest or self.digest(endpoint, args),
            target=target_of(endpoint, args),
            decided_by=decided_by,
            verdict=verdict,
            expires_at=self._clock() + self.ttl,
            tool_call_id=context.tool_call_id,
            thread_id=context.thread_id,
            version=version,
            reads=reads,
            front_door=context.front_door,
        )
        if context.tool_call_id:
            with self._lock:
                key = (context.thread_id, context.tool_call_id)
                self._waiting.pop(key, None)
                self._waiting[key] = receipt
                while len(self._waiting) > _MAX_PENDING:
                    self._waiting.popitem(last=False)
        return receipt

    def claim(self, context: CallContext) -> Receipt | None:
        """Take the receipt waiting for this call's (thread, tool-call id), if any.

        Only the call it was issued for gets it: the same ids *and* the same front door
        (a call by name through the facade never spends a decision about the tool
        itself). A receipt taken by another door is dropped, not put back.
        """
        if not context.tool_call_id:
            return None
        with self._lock:
            receipt = self._waiting.pop((context.thread_id, context.tool_call_id), None)
        if receipt is None or receipt.front_door != context.front_door:
            return None
        return receipt

    def discard(self, context: CallContext) -> None:
        """Drop a receipt waiting for this call (it was rejected after all)."""
        self.claim(context)

    def redeem(self, receipt: Receipt, endpoint: Endpoint, args: Any) -> str | None:
        """Check ``receipt`` against the request about to be sent and consume it.

        Returns:
            Why it does not allow this request (nothing may be sent), or ``None``.
        """
        reason = self.check(receipt, endpoint, args)
        with self._lock:
            if receipt.receipt_id in self._used:
                return "this approval was already used; each approval lets one call through"
            if reason is None:
                self._used[receipt.receipt_id] = None
                while len(self._used) > _MAX_PENDING:
                    self._used.popitem(last=False)
        return reason

    def check(self, receipt: Receipt, endpoint: Endpoint, args: Any) -> str | None:
        """Why ``receipt`` does not allow this request, or ``None`` when it does."""
        if receipt.expires_at <= self._clock():
            return "the approval expired before the call ran; ask for approval again"
        if receipt.tool != endpoint.name:
            return f"the approval was for {receipt.tool}, not {endpoint.name}"
        if receipt.target != target_of(endpoint, args):
            return f"the approval was for {receipt.target}, not {target_of(endpoint, args)}"
        try:
            digest = self.digest(endpoint, args)
        except ValueError:
            return "the arguments cannot be sent as approved"
        if not hmac.compare_digest(receipt.digest, digest):
            return "the arguments differ from the ones approved"
        return None
