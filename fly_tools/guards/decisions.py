"""What a human is asked about a gated call, and the three answers they can give."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias, get_args

from pydantic import BaseModel

from fly_tools.catalogue import TARGET_ID_FIELD, Endpoint, TargetKind
from fly_tools.risk import Group, RiskTier

Verdict = Literal["allowed", "refused", "approved", "rejected", "edited", "responded", "pending"]
"""How a call was let through or stopped, as written in audit records.

``allowed`` (not gated, within scope and policy), ``refused`` (scope, app binding,
policy, invalid arguments, no approver or no matching approval), or a human's
``approved`` / ``rejected`` / ``edited`` / ``responded`` (answered in the tool's place,
so the call never ran), or ``pending`` (waiting in an approvals store for a person).
"""

_NOUN: dict[str, str] = {"secretkey": "secret key", "ip": "IP address"}
VERSION_FACT = "version"
"""The key of :attr:`ActionRequest.facts` holding the machine version read from Fly."""


@dataclass(frozen=True)
class Target:
    """The resource a call acts on.

    Attributes:
        kind: ``org``, ``app``, ``machine``, ``volume``, ``secret``, ``certificate``,
            ``ip``, ``secretkey`` or ``platform``.
        app: the app it lives in (the app itself for ``app``); ``None`` for the org.
        id: machine id, volume id, secret or secret-key name, hostname, IP address,
            or org slug; ``None`` for an app or the platform.
    """

    kind: TargetKind
    app: str | None = None
    id: str | None = None

    def __str__(self) -> str:
        return self.phrase()

    def phrase(self, details: str = "") -> str:
        """``machine 3d8d9015b23489 in app web``, with ``details`` after the name."""
        if self.kind == "org":
            return f"organization {self.id}{details}" if self.id else f"the organization{details}"
        if self.kind == "app":
            return f"app {self.app}{details}" if self.app else f"an app{details}"
        if self.kind == "platform":
            return f"the Fly platform{details}"
        noun = _NOUN.get(self.kind, self.kind)
        name = f"{noun} {self.id}{details}" if self.id else f"a {noun}{details}"
        return f"{name} in app {self.app}" if self.app else name

    def to_dict(self) -> dict[str, str | None]:
        """The JSON form used in audit records."""
        return {"kind": self.kind, "app": self.app, "id": self.id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Target:
        """Read back :meth:`to_dict`'s output."""
        kind = data.get("kind")
        if kind not in get_args(TargetKind):
            raise ValueError(f"unknown target kind {kind!r}")
        return cls(kind=kind, app=data.get("app"), id=data.get("id"))  # type: ignore[arg-type]


def target_of(endpoint: Endpoint, args: BaseModel | Mapping[str, Any] | None) -> Target:
    """The target of a call to ``endpoint``, from validated or raw arguments.

    Raw arguments (a call that failed validation) give what they can: values that are
    not strings are ignored rather than trusted.
    """
    kind = endpoint.target
    ident = _text_field(args, TARGET_ID_FIELD[kind]) if kind in TARGET_ID_FIELD else None
    return Target(kind=kind, app=_text_field(args, "app_name"), id=ident)


def _text_field(args: BaseModel | Mapping[str, Any] | None, name: str) -> str | None:
    value = getattr(args, name, None) if isinstance(args, BaseModel) else (args or {}).get(name)
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ActionRequest:
    """What a confirmation hook is asked to decide.

    Attributes:
        tool: tool name, e.g. ``fly_delete_volume``.
        group: the tool's capability group.
        risk: the tool's risk tier.
        args: the validated arguments as JSON, secret values replaced by ``"[redacted]"``.
        target: the resource the call acts on.
        description: plain English: what will happen, where, and the consequence.
            Facts read from Fly come first; text the model chose (commands, env values,
            names) is quoted and marked as the model's.
        agent_id: the agent asking, if the toolkit was given one.
        digest: a digest of the exact validated arguments (after app binding and any
            edit). An answer is bound to it: a call whose arguments differ does not run.
        facts: what was read from Fly about the target just now (state, size,
            attachment, version); empty when nothing was read. Decide on these, never on
            substrings of ``description``.
        reversible: ``False`` when the call cannot be undone (deletes, exec, extend).
        type_back: what a person must type back to approve (the app name, machine or
            volume id, secret name, or the exec command's program); ``None`` when a plain
            yes is enough.
        edited: ``True`` when this asks about a call a reviewer edited: the edited call
            is described again and must be approved as such.
        tool_call_id: the agent framework's id for the call, where there is one.
        binding: a process-independent keyed digest of the request, set for a hook that
            keeps answers outside the process (see :class:`fly_tools.approvals.StoreApproval`);
            empty otherwise.
        thread_id: the agent thread, where there is one (who asked, with the toolkit).
    """

    tool: str
    group: Group
    risk: RiskTier
    args: Mapping[str, Any]
    target: Target
    description: str
    agent_id: str | None = None
    digest: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)
    reversible: bool = True
    type_back: str | None = None
    edited: bool = False
    tool_call_id: str | None = None
    binding: str = ""
    thread_id: str | None = None

    @property
    def version(self) -> str | None:
        """The machine version read for the description (``facts["version"]``), or ``None``.

        What the reviewer saw: a receipt pins it, and a stored question is about it.
        """
        version = self.facts.get(VERSION_FACT)
        return version if isinstance(version, str) and version else None


@dataclass(frozen=True)
class Approve:
    """Run the call as requested."""

    verdict: ClassVar[Verdict] = "approved"
    by: str = "unknown"


@dataclass(frozen=True)
class Edit:
    """Run the call with these arguments instead (all of them, not a patch).

    The toolkit validates them again and checks scope, app binding and policy again.
    """

    verdict: ClassVar[Verdict] = "edited"
    args: Mapping[str, Any]
    by: str = "unknown"

    def __post_init__(self) -> None:
        if not isinstance(self.args, Mapping) or not all(isinstance(k, str) for k in self.args):
            raise TypeError("Edit.args must be a mapping of argument names to values")


@dataclass(frozen=True)
class Reject:
    """Do not run the call; ``reason`` is shown to the model and kept in the audit trail."""

    verdict: ClassVar[Verdict] = "rejected"
    reason: str
    by: str = "unknown"


@dataclass(frozen=True)
class Pending(Reject):
    """Not decided yet: a person must answer approval ``approval_id``; nothing is sent now."""

    verdict: ClassVar[Verdict] = "pending"
    approval_id: str = ""


Decision: TypeAlias = Approve | Edit | Reject
"""A hook's answer."""

ConfirmHook: TypeAlias = Callable[[ActionRequest], Decision | Awaitable[Decision]]
"""A sync or async callable that decides on an :class:`ActionRequest`."""


@dataclass(frozen=True)
class MiddlewareApproval:
    """Approval mode: a person decides in the agent's middleware, not in a hook.

    Pass ``confirm=MiddlewareApproval()`` to :class:`~fly_tools.FlyToolkit` and add
    ``fly_tools.agents.approval_middleware(toolkit)`` to the agent. Only that middleware
    can turn a reviewer's decision into an approval receipt for this toolkit; a gated
    call without one (no middleware, a plain ``HumanInTheLoopMiddleware``, a tool called
    directly) is refused and nothing is sent.

    Attributes:
        reviewer: who decides, as audit records name them when the decision does not.
    """

    reviewer: str = "human reviewer"
