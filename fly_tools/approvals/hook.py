"""``StoreApproval``: a confirmation hook whose questions wait in a store for a person to answer."""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Iterable
from typing import Any

from fly_tools.approvals.entries import (
    APPROVED_TTL,
    PENDING_TTL,
    Approval,
    ApprovalError,
    ApprovalStore,
    Status,
)
from fly_tools.approvals.ledger import Asker, asker_of, same_asker, spend_answer
from fly_tools.approvals.signing import (
    KEYS_ENV,
    SigningError,
    keys_from_env,
    parse_public_keys,
    sign,
)
from fly_tools.approvals.stores import open_store
from fly_tools.catalogue import Endpoint
from fly_tools.guards.decisions import ActionRequest, Approve, Decision, Pending, Reject
from fly_tools.guards.receipts import request_digest

STORE_DOOR = "approvals store"
"""``decided_by`` when the store itself refuses (unbound request, store unreachable)."""


def request_binding(key: bytes, endpoint: Endpoint, args: Any) -> str:
    """A digest of the exact request ``args`` make for ``endpoint``, keyed by ``key``.

    The same in every process that shares the store (unlike ``ActionRequest.digest``);
    keyed, so the stored digest reveals nothing about secret values in the body.

    Raises:
        ValueError: the arguments cannot be put on the wire.
    """
    return request_digest(key, endpoint, args, target=True)


class StoreApproval:
    """Approve gated calls through a store that outlives the process.

    Asked about a call, it looks in the store for an answer to a question *this caller*
    asked about this exact call (same tool, request, target, machine version and
    description; same token, API host, app, agent and thread). An approval counts only
    when signed by one of the approvers' keys; it is then spent (once across every
    process sharing the store) and lets the call through; a rejection stops it.
    Otherwise the question is stored (or the one already waiting is reused) and the call
    is refused as *pending*: nothing is sent, and the model is told that a person must
    approve the question with their approver key. The model is never told a command:
    approving is a person's act, with a key the agent does not hold.

    A toolkit binds the hook to itself (:meth:`for_caller`); a hook not bound to a
    toolkit refuses every call.

    Args:
        store: an :class:`ApprovalStore`, or its URL (a path, ``sqlite:///path``,
            ``redis://...``); ``None`` for ``$FLY_TOOLS_APPROVALS`` or the default file.
        ttl: seconds a question waits for a person before it expires.
        approvers: the approvers' public keys (``ed25519:BASE64``, as ``fly-tools
            approvals keygen`` prints them); ``None`` reads ``$FLY_TOOLS_APPROVER_KEYS``.
            With none, every gated call is refused.

    Raises:
        SigningError: an approver key that cannot be read.
    """

    def __init__(
        self,
        store: ApprovalStore | str | None = None,
        *,
        ttl: float = PENDING_TTL,
        approvers: str | Iterable[str] | None = None,
    ):
        self.store: ApprovalStore = (
            store if store is not None and not isinstance(store, str) else open_store(store)
        )
        self.ttl = ttl
        self.approvers = parse_public_keys(approvers) if approvers is not None else keys_from_env()
        self._key: bytes | None = None
        self._caller: tuple[Any, str | None, str | None] | None = None
        self._asker: Asker | None = None

    def __repr__(self) -> str:
        return f"StoreApproval({self.store.location!r}, {len(self.approvers)} approver key(s))"

    def for_caller(self, client: Any, *, app: str | None, agent: str | None) -> StoreApproval:
        """This hook for one toolkit: questions it stores name the toolkit as the asker
        (a keyed fingerprint of ``client``'s token, its API host, ``app`` and ``agent``)."""
        bound = copy.copy(self)
        bound._caller, bound._asker = (client, app, agent), None
        return bound

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
        """Approve, reject, or leave pending; never an approval without a signed answer."""
        if self._caller is None:
            reason = (
                "this StoreApproval is not bound to a toolkit; pass it as FlyToolkit(confirm=...)"
            )
            return Reject(reason=reason, by=STORE_DOOR)
        if not self.approvers:
            reason = (
                f"no approver keys are configured ({KEYS_ENV} is unset), so no answer from the "
                "approvals store can be trusted; the operator must configure them"
            )
            return Reject(reason=reason, by=STORE_DOOR)
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

    def asker(self, request: ActionRequest) -> Asker:
        """Who asks ``request``: this hook's toolkit, in the request's thread and call."""
        if self._asker is None:
            assert self._caller is not None
            client, app, agent = self._caller
            self._asker = asker_of(client, self._binding_key(), app=app, agent=agent)
        return self._asker.at(thread=request.thread_id, tool_call=request.tool_call_id)

    def _decide(self, request: ActionRequest) -> Decision:
        now = self.store.clock()
        asker = self.asker(request)
        for found in self.store.matching(request.binding):
            if not _same_call(found, request) or not same_asker(found.asker, asker, per_call=False):
                continue  # another caller's question, or another call: never spent here
            status = found.status_at(now)
            if status in ("approved", "edited"):
                why = spend_answer(
                    self.store, found.id, asker, request.binding, self.approvers, per_call=False
                )
                if why is None:
                    return Approve(by=found.answered_by or "unknown")
                if "signature" in why:
                    return Reject(reason=why, by=STORE_DOOR)
            if status == "rejected":
                said = f": {found.reason}" if found.reason else ""
                reason = f"approval {found.id} was rejected{said}"
                return Reject(reason=reason, by=found.answered_by or "unknown")
        asked = self.store.add(_question(request, now, self.ttl, asker))
        return Pending(reason=self.pending_reason(asked.id), by=STORE_DOOR, approval_id=asked.id)

    def pending_reason(self, approval_id: str) -> str:
        """What the model is told while approval ``approval_id`` waits for a person.

        No command: a model that could run it would approve its own call.
        """
        return (
            f"pending approval {approval_id}: a person must approve question {approval_id} "
            "with their approver key (you cannot approve it); call again once they have"
        )


def answer_signed(
    store: ApprovalStore,
    key: Any,
    approval_id: str,
    status: Status,
    by: str,
    reason: str | None = None,
) -> Approval:
    """Answer question ``approval_id`` as approver ``by``, signed with private ``key``.

    Raises:
        ApprovalError: no such question, or it is no longer pending.
    """
    found = store.get(approval_id)
    if found is None:
        raise ApprovalError(f"no approval {approval_id} in this store")
    expires_at = store.clock() + APPROVED_TTL
    signature = sign(key, found.signed_fields(status, by, expires_at))
    return store.answer(approval_id, status, by, reason, expires_at=expires_at, signature=signature)


def _same_call(found: Approval, request: ActionRequest) -> bool:
    # The binding covers the request; the version and the description are what the
    # person was shown, so an answer about another version of the machine, or about a
    # target that reads differently now (a volume that grew), does not apply: the call
    # becomes a new question.
    return (
        found.tool == request.tool
        and dict(found.target) == request.target.to_dict()
        and found.version == request.version
        and found.description == request.description
    )


def _question(request: ActionRequest, now: float, ttl: float, asker: Asker) -> Approval:
    return Approval(
        id=secrets.token_hex(5),
        tool=request.tool,
        args=json.loads(json.dumps(dict(request.args), default=str)),
        description=request.description,
        target=request.target.to_dict(),
        binding=request.binding,
        version=request.version,
        agent_id=request.agent_id,
        created_at=now,
        expires_at=now + ttl,
        asker=asker.to_dict(),
    )


__all__ = ["STORE_DOOR", "SigningError", "StoreApproval", "answer_signed", "request_binding"]
