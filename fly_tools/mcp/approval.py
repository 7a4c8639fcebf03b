"""Asking the human through the MCP client: the approval form, and the sealed state between rounds.

Protocol revision 2026-07-28 asks in two rounds. Round one answers ``tools/call`` with an
input request (a form) and an opaque ``requestState``; the client asks its user and calls
the tool again with the answer and the state echoed back. The state is a *question
ticket*: the tool, the digest of the validated arguments, the target, the description the
user read and the caller it was asked about, an expiry and a nonce, sealed with an
HMAC under a key that lives only in this process, unless the replicas of one server share
one (``$FLY_TOOLS_APPROVAL_KEY``) and a ledger (``$FLY_TOOLS_MCP_LEDGER``). A ticket is
honoured once: its nonce is registered when it is issued and closed when it comes back,
so a replay, a forgery and a ticket from a restarted server all find nothing. Checking the answer against the call that actually runs is the
toolkit's job (see :mod:`fly_tools.mcp.server`): the ticket only says what was asked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult

from fly_tools.approvals.entries import Approval, ApprovalError, ApprovalStore
from fly_tools.approvals.stores import open_store
from fly_tools.guards import ActionRequest
from fly_tools.guards.decisions import Approve, Decision, Reject
from fly_tools.guards.receipts import shared_secret

DEFAULT_TTL = 300.0
"""Seconds a question stays answerable: a human's time to read it, no more."""
MAX_OPEN_QUESTIONS = 10_000
"""Unanswered questions kept; past this the oldest can no longer be answered (fail closed)."""
QUESTION_KEY = "approval"
"""The key of the one input request a gated call sends."""
LONG_MESSAGE = 500
"""Characters past which a one-line description is announced as long (hosts may cut it)."""
END_MARK = "End of the request"
"""Opens the line that closes a long request in the form; its counts follow."""
_PREFIX = "fta1."
LEDGER_ENV = "FLY_TOOLS_MCP_LEDGER"
"""An approvals store URL the replicas of one MCP server share for their open questions."""


@dataclass(frozen=True)
class Ticket:
    """What a user was asked about, carried by the client between the two rounds.

    Attributes:
        tool: the tool name.
        digest: ``ActionRequest.digest`` of the call that was described.
        target: ``ActionRequest.target`` as a dict.
        description: ``ActionRequest.description``: what the user read.
        caller: a keyed fingerprint of the client that was asked.
        expires_at: wall-clock seconds after which the answer is refused.
        nonce: random id, registered while the question is open.
    """

    tool: str
    digest: str
    target: dict[str, str | None]
    description: str
    caller: str
    expires_at: float
    nonce: str


class TicketError(Exception):
    """A ticket that does not hold; the message says why, for the audit record."""


class TicketBook:
    """Seals question tickets and opens each at most once.

    Replicas of one server (HTTP behind a load balancer) share ``$FLY_TOOLS_APPROVAL_KEY``
    (the seal, and the request digests) and a ledger, ``$FLY_TOOLS_MCP_LEDGER`` (an
    approvals store URL): a question asked by one replica is then answered at another,
    once across all of them.

    Args:
        ttl: seconds a question stays answerable.
        clock: wall clock (injectable for tests).
        ledger: where open questions are registered (default: ``$FLY_TOOLS_MCP_LEDGER``,
            else this process's memory).
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
        ledger: ApprovalStore | None = None,
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        url = os.environ.get(LEDGER_ENV, "").strip()
        self._ledger = ledger if ledger is not None else (open_store(url) if url else None)
        self._key = shared_secret("mcp tickets") or secrets.token_bytes(32)
        self._open: OrderedDict[str, float] = OrderedDict()
        # The open question about each call (caller, tool, digest, target): a host that
        # re-runs the call before answering gets that same question back, never a fresh
        # one its user's answer to the first could be spent on.
        self._asked: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def __repr__(self) -> str:
        return f"TicketBook({len(self._open)} open questions)"

    def fingerprint(self, *parts: str | None) -> str:
        """A keyed fingerprint of who is calling: reveals nothing about its inputs."""
        text = json.dumps(list(parts), separators=(",", ":"))
        return hmac.new(self._key, b"caller:" + text.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, request: ActionRequest, caller: str) -> str:
        """Seal a ticket for ``request`` as asked of ``caller``; returns the opaque state.

        While a question about the same call by the same caller is open, that question's
        state is returned again (with the description the user was first shown): an
        answer is then checked against what the user read, and if the target reads
        differently now the call is refused with what changed.
        """
        now = self._clock()
        self._forget_expired(now)
        asked = self.fingerprint(
            caller,
            request.tool,
            request.digest,
            json.dumps(request.target.to_dict(), sort_keys=True),
        )
        found = self._asked.get(asked)
        if found is not None and found[0] in self._open:
            return found[1]
        ticket = Ticket(
            tool=request.tool,
            digest=request.digest,
            target=request.target.to_dict(),
            description=request.description,
            caller=caller,
            expires_at=now + self.ttl,
            nonce=secrets.token_urlsafe(16),
        )
        self._register(ticket, now)
        payload = _b64(json.dumps(asdict(ticket), separators=(",", ":")).encode())
        state = f"{_PREFIX}{payload}.{self._mac(payload)}"
        self._asked[asked] = (ticket.nonce, state)
        while len(self._asked) > MAX_OPEN_QUESTIONS:
            self._asked.popitem(last=False)
        return state

    def redeem(self, state: object, *, tool: str, caller: str) -> Ticket:
        """Open ``state`` for a call of ``tool`` by ``caller``, and close the question.

        Raises:
            TicketError: tampered, unknown or replayed, expired, or for another tool or
                client. A question is closed by the first attempt to answer it.
        """
        ticket = self._unseal(state)
        if not self._close(ticket.nonce):
            raise TicketError(
                "this approval was already answered or was never asked by this server "
                "(replayed state); ask again"
            )
        if ticket.expires_at <= self._clock():
            raise TicketError(
                f"the approval answer came back after the question expired ({self.ttl:.0f} s); "
                "ask again"
            )
        if ticket.tool != tool:
            raise TicketError(f"the approval was asked for {ticket.tool}, not {tool}")
        if not hmac.compare_digest(ticket.caller, caller):
            raise TicketError("the approval was asked of another MCP client")
        return ticket

    def _register(self, ticket: Ticket, now: float) -> None:
        self._open[ticket.nonce] = ticket.expires_at
        while len(self._open) > MAX_OPEN_QUESTIONS:
            self._open.popitem(last=False)
        if self._ledger is not None:
            self._ledger.add(
                Approval(
                    id=ticket.nonce,
                    tool=ticket.tool,
                    args={},
                    description=ticket.description,
                    target=ticket.target,
                    binding=f"mcp-ticket:{ticket.nonce}",
                    created_at=now,
                    expires_at=ticket.expires_at,
                    asker={"token": ticket.caller},
                )
            )

    def _close(self, nonce: str) -> bool:
        """Close question ``nonce``: ``True`` for the first attempt only, in any replica."""
        local = self._open.pop(nonce, None) is not None
        if self._ledger is None:
            return local
        try:
            self._ledger.answer(nonce, "approved", "mcp client", None)
        except ApprovalError:
            return False  # answered already (here or at another replica), or never asked
        return self._ledger.consume(nonce)

    def _unseal(self, state: object) -> Ticket:
        tampered = TicketError(
            "the approval state was altered or was not issued by this server (tampered state)"
        )
        if not isinstance(state, str) or not state.startswith(_PREFIX):
            raise tampered
        payload, _, mac = state[len(_PREFIX) :].partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            raise tampered
        try:
            data = json.loads(_unb64(payload))
            return Ticket(**data)
        except (ValueError, TypeError, binascii.Error):
            raise tampered from None

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, b"ticket:" + payload.encode(), hashlib.sha256).digest()
        return _b64(digest)

    def _forget_expired(self, now: float) -> None:
        for nonce in [n for n, expiry in self._open.items() if expiry <= now]:
            del self._open[nonce]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------- the form and its answer


def question(request: ActionRequest) -> ElicitRequest:
    """The input request a gated call sends: :func:`form` as an ``elicitation/create``."""
    return ElicitRequest(params=form(request))


def form(request: ActionRequest) -> ElicitRequestFormParams:
    """The form a user answers: approve or reject, and the target typed back where needed."""
    properties: dict[str, Any] = {
        "decision": {
            "type": "string",
            "title": "Decision",
            "description": "approve runs exactly the call described; reject sends nothing",
            "enum": ["approve", "reject"],
        },
        "reason": {
            "type": "string",
            "title": "Reason (optional)",
            "description": "kept in the audit trail",
            "maxLength": 500,
        },
    }
    required = ["decision"]
    if request.type_back is not None:
        properties["confirm"] = {
            "type": "string",
            "title": f"Type {request.type_back} to confirm",
            "description": "this cannot be undone; type the name exactly to approve",
        }
        required.append("confirm")
    schema = {"type": "object", "properties": properties, "required": required}
    return ElicitRequestFormParams(message=message(request), requested_schema=schema)


def message(request: ActionRequest) -> str:
    """What the user reads: the toolkit's description, the tier, and what approval means.

    A long description (a change set) is never cut here, but a host may cut a long form
    message: the form then says up front how long the request is and closes it with a
    mark carrying the same counts, so a user who cannot see that mark knows the text was
    cut by the client and that approving binds the whole of it.
    """
    lines = [
        f"Approve {request.tool}? ({request.risk.label}"
        + (", cannot be undone)" if not request.reversible else ")"),
        "",
    ]
    size = _size(request.description)
    if size is None:
        lines.append(request.description)
    else:
        lines += [
            f"The request below is complete ({size}); nothing is cut. It ends with the line "
            f'"{END_MARK}: {size}." If you cannot see that line, your client cut the text: '
            "reject, and read the whole request before approving (approving approves all of it).",
            "",
            request.description,
            f"{END_MARK}: {size}.",
        ]
    if request.type_back is not None:
        lines += ["", f"To approve, choose approve and type {request.type_back} exactly."]
    return "\n".join(lines)


def _size(description: str) -> str | None:
    """``"12 lines, 1,834 characters"`` for a description a host might cut; else ``None``."""
    count = description.count("\n") + 1
    if count == 1 and len(description) <= LONG_MESSAGE:
        return None
    lines = f"{count} line" + ("s" if count != 1 else "")
    return f"{lines}, {len(description):,} characters"


def malformed(answer: object) -> str | None:
    """What was wrong with an answer that is no choice at all, or ``None`` for a choice.

    A missing, empty or unreadable answer is the client's doing, not the user's: the
    audit trail must not say the user chose reject when nobody chose anything.
    """
    if answer is None:
        return "the client sent no answer to the approval question"
    if not isinstance(answer, ElicitResult):
        return "the client's answer to the approval question was not a form response"
    if answer.action != "accept":
        return None  # a decline or a dismissal is the user's own answer
    if not answer.content:
        return "the client sent an empty answer: no choice was made"
    decision = answer.content.get("decision")
    if decision is None:
        return "the client's answer held no decision: no choice was made"
    if decision not in ("approve", "reject"):
        return "the client's answer was not a choice (the decision must be approve or reject)"
    return None


def decision_for(answer: object, type_back: str | None, *, who: str, door: str) -> Decision:
    """The decision an answer makes: approved by ``who``, or refused with why.

    A malformed answer (:func:`malformed`) is refused by ``door``, the front door that
    read it; a user's own reject, decline or wrong typed name is rejected by ``who``.
    """
    broken = malformed(answer)
    if broken is not None:
        return Reject(reason=broken, by=door)
    reason = refusal(answer, type_back)
    return Reject(reason=reason, by=who) if reason else Approve(by=who)


def refusal(answer: object, type_back: str | None) -> str | None:
    """Why ``answer`` is not an approval, or ``None`` when it is one.

    Anything but an accepted form saying ``approve`` (with the exact target typed back
    when one is asked for) is a refusal: a decline, a dismissal, a missing or malformed
    answer (:func:`malformed`), a wrong typed name.
    """
    broken = malformed(answer)
    if broken is not None or not isinstance(answer, ElicitResult):
        return broken or "the client's answer was not a form response"
    if answer.action == "decline":
        return "the user declined in the MCP client"
    if answer.action == "cancel":
        return "the user dismissed the approval question without answering"
    content: Mapping[str, Any] = answer.content or {}
    if content.get("decision") != "approve":
        reason = content.get("reason")
        said = f": {str(reason)[:200]}" if isinstance(reason, str) and reason.strip() else ""
        return f"the user chose reject{said}"
    if type_back is not None:
        typed = content.get("confirm")
        if not isinstance(typed, str) or typed.strip() != type_back:
            return f"the name typed to confirm did not match {type_back}"
    return None
