"""``StoreApproval``: a confirmation hook whose questions wait in a store for a person to answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from fly_tools.approvals.entries import (
    PENDING_TTL,
    Approval,
    ApprovalError,
    ApprovalStore,
    open_store,
)
from fly_tools.catalogue import Endpoint
from fly_tools.guards.decisions import ActionRequest, Approve, Decision, Pending, Reject, target_of

STORE_DOOR = "approvals store"
"""``decided_by`` when the store itself refuses (unbound request, store unreachable)."""


def request_binding(key: bytes, endpoint: Endpoint, args: Any) -> str:
    """A digest of the exact request ``args`` make for ``endpoint``, keyed by ``key``.

    The same in every process that shares the store (unlike ``ActionRequest.digest``);
    keyed, so the stored digest reveals nothing about secret values in the body.

    Raises:
        ValueError: the arguments cannot be put on the wire.
    """
    from fly_tools.client.core import build_request  # the client decides the wire form

    plan = build_request(endpoint, args)
    canonical = json.dumps(
        [endpoint.name, plan.method, plan.path, list(plan.params), plan.json,
         dict(plan.headers), target_of(endpoint, args).to_dict()],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str,
    )  # fmt: skip
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


class StoreApproval:
    """Approve gated calls through a store that outlives the process.

    Asked about a call, it looks in the store for an answer about this exact call (same
    tool, request, target, and machine version as described): an approval is used up
    (once across every process sharing the store) and lets the call through; a rejection
    stops it. Otherwise the question is stored (or the one already waiting is reused) and
    the call is refused as *pending*: nothing is sent, and the model is told to have a
    person run ``fly-tools approvals approve ID``, then call again.

    Args:
        store: an :class:`ApprovalStore`, or its URL (a path, ``sqlite:///path``,
            ``redis://...``); ``None`` for ``$FLY_TOOLS_APPROVALS`` or the default file.
        ttl: seconds a question waits for a person before it expires.
    """

    def __init__(self, store: ApprovalStore | str | None = None, *, ttl: float = PENDING_TTL):
        self.store: ApprovalStore = (
            store if store is not None and not isinstance(store, str) else open_store(store)
        )
        self.ttl = ttl
        self._key: bytes | None = None

    def __repr__(self) -> str:
        return f"StoreApproval({self.store.location!r})"

    def bind_request(self, endpoint: Endpoint, args: Any) -> str:
        """The binding the toolkit puts in ``ActionRequest.binding`` before asking.

        Empty when it cannot be made (the store is unreachable, the arguments cannot be
        sent): the call is then refused when the hook is asked, with the reason.
        """
        try:
            return request_binding(self._binding_key(), endpoint, args)
        except (ApprovalError, ValueError):
            return ""

    def __call__(self, request: ActionRequest) -> Decision:
        """Approve, reject, or leave pending; never an approval without a stored answer."""
        try:
            if not request.binding:
                self._binding_key()  # raises the store's error when that is the cause
                reason = "the call could not be bound to a stored approval; nothing was stored"
                return Reject(reason=reason, by=STORE_DOOR)
            return self._decide(request)
        except ApprovalError as err:
            return Reject(reason=str(err), by=STORE_DOOR)

    def _binding_key(self) -> bytes:
        if self._key is None:
            self._key = self.store.binding_key()
        return self._key

    def _decide(self, request: ActionRequest) -> Decision:
        now = self.store.clock()
        for found in self.store.matching(request.binding):
            if not _same_call(found, request):
                continue
            status = found.status_at(now)
            if status == "approved" and self.store.consume(found.id):
                return Approve(by=found.answered_by or "unknown")
            if status == "rejected":
                said = f": {found.reason}" if found.reason else ""
                reason = f"approval {found.id} was rejected{said}"
                return Reject(reason=reason, by=found.answered_by or "unknown")
        asked = self.store.add(_question(request, now, self.ttl))
        return Pending(reason=self.pending_reason(asked.id), by=STORE_DOOR, approval_id=asked.id)

    def pending_reason(self, approval_id: str) -> str:
        """What the model is told while approval ``approval_id`` waits for a person."""
        store = (
            "" if self.store.location == _default_location() else f" --store {self.store.location}"
        )
        return (
            f"pending approval {approval_id}: ask a person to run "
            f"`fly-tools approvals approve {approval_id}{store}`, then call again"
        )


def _version(request: ActionRequest) -> str | None:
    version = request.facts.get("version")
    return version if isinstance(version, str) and version else None


def _same_call(found: Approval, request: ActionRequest) -> bool:
    # The binding covers the request; the version and the description are what the
    # person was shown, so an answer about another version of the machine, or about a
    # target that reads differently now (a volume that grew), does not apply: the call
    # becomes a new question.
    return (
        found.tool == request.tool
        and dict(found.target) == request.target.to_dict()
        and found.version == _version(request)
        and found.description == request.description
    )


def _question(request: ActionRequest, now: float, ttl: float) -> Approval:
    return Approval(
        id=secrets.token_hex(5),
        tool=request.tool,
        args=json.loads(json.dumps(dict(request.args), default=str)),
        description=request.description,
        target=request.target.to_dict(),
        binding=request.binding,
        version=_version(request),
        agent_id=request.agent_id,
        created_at=now,
        expires_at=now + ttl,
    )


def _default_location() -> str:
    try:
        return open_store().location
    except ApprovalError:
        return ""
