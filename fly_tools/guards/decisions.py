"""What a human is asked about a gated call, and the three answers they can give."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias

from pydantic import BaseModel

from fly_tools.catalogue import Endpoint
from fly_tools.catalogue import Target as TargetKind
from fly_tools.risk import Group, RiskTier

Verdict = Literal["allowed", "refused", "approved", "rejected", "edited"]
"""How a call was let through or stopped, as written in audit records.

``allowed`` (not gated, within scope and policy), ``refused`` (scope, app binding,
policy, invalid arguments or no approver), or a human's ``approved`` / ``rejected`` /
``edited``.
"""

_ID_FIELD: dict[TargetKind, str] = {
    "machine": "machine_id",
    "volume": "volume_id",
    "secret": "secret_name",
    "org": "org_slug",
}


@dataclass(frozen=True)
class Target:
    """The resource a call acts on.

    Attributes:
        kind: ``org``, ``app``, ``machine``, ``volume`` or ``secret``.
        app: the app it lives in (the app itself for ``app``); ``None`` for the org.
        id: machine id, volume id, secret name, or org slug; ``None`` for an app.
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
        name = f"{self.kind} {self.id}{details}" if self.id else f"a {self.kind}{details}"
        return f"{name} in app {self.app}" if self.app else name

    def to_dict(self) -> dict[str, str | None]:
        """The JSON form used in audit records."""
        return {"kind": self.kind, "app": self.app, "id": self.id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Target:
        """Read back :meth:`to_dict`'s output."""
        kind = data.get("kind")
        if kind not in ("org", "app", "machine", "volume", "secret"):
            raise ValueError(f"unknown target kind {kind!r}")
        return cls(kind=kind, app=data.get("app"), id=data.get("id"))


def target_of(endpoint: Endpoint, args: BaseModel | Mapping[str, Any] | None) -> Target:
    """The target of a call to ``endpoint``, from validated or raw arguments.

    Raw arguments (a call that failed validation) give what they can: values that are
    not strings are ignored rather than trusted.
    """
    kind = endpoint.target
    ident = _text_field(args, _ID_FIELD[kind]) if kind in _ID_FIELD else None
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
        agent_id: the agent asking, if the toolkit was given one.
    """

    tool: str
    group: Group
    risk: RiskTier
    args: Mapping[str, Any]
    target: Target
    description: str
    agent_id: str | None = None


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


Decision: TypeAlias = Approve | Edit | Reject
"""A hook's answer."""

ConfirmHook: TypeAlias = Callable[[ActionRequest], Decision | Awaitable[Decision]]
"""A sync or async callable that decides on an :class:`ActionRequest`."""
