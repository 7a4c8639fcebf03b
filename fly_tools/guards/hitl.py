"""The ``interrupt_on`` mapping for LangChain's ``HumanInTheLoopMiddleware``, from risk tiers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.guards.describe import describe_action
from fly_tools.guards.redact import redact_args
from fly_tools.risk import RiskTier

DECISION_TYPES = ("approve", "edit", "reject", "respond")
"""The decisions the middleware knows."""


def interrupt_on(
    tools: Iterable[BaseTool],
    threshold: RiskTier | str = RiskTier.DESTRUCTIVE,
    *,
    allowed_decisions: Iterable[str] = ("approve", "edit", "reject"),
) -> dict[str, Any]:
    """``interrupt_on`` for ``HumanInTheLoopMiddleware``: Fly tools at or above ``threshold``.

    Each entry carries ``allowed_decisions`` and a ``description`` callable that shows
    the reviewer the plain-English action (what, where, consequence). Tools without a
    ``metadata["risk"]`` (not Fly tools) are left alone; read-only tools never pause.

    Args:
        tools: the agent's tools, e.g. ``FlyToolkit(...).get_tools()``.
        threshold: the lowest tier that pauses (a tier or its name).
        allowed_decisions: what the reviewer may answer.

    Raises:
        ValueError: for an unknown tier or decision, or no decisions at all.
    """
    tier = RiskTier.parse(threshold)
    decisions = list(dict.fromkeys(allowed_decisions))
    unknown = [d for d in decisions if d not in DECISION_TYPES]
    if unknown or not decisions:
        raise ValueError(
            f"allowed_decisions must be some of {', '.join(DECISION_TYPES)}; got {decisions!r}"
        )
    mapping: dict[str, dict[str, Any]] = {}
    for tool in tools:
        risk = (tool.metadata or {}).get("risk")
        if risk is None:
            continue
        tool_tier = RiskTier.parse(risk)
        if tool_tier >= tier and tool_tier > RiskTier.READ:
            mapping[tool.name] = {
                "allowed_decisions": list(decisions),
                "description": PendingCallDescription(tool),
            }
    return mapping


class PendingCallDescription:
    """The middleware's ``description`` callable for one tool: describes a pending call.

    Called as ``(tool_call, state, runtime)``. Arguments are validated with the
    endpoint's model (the bound app filled in for an app-bound tool); invalid arguments
    are shown redacted, with what is wrong, rather than failing the review.
    """

    def __init__(self, tool: BaseTool) -> None:
        metadata = tool.metadata or {}
        self.tool_name = tool.name
        self.endpoint: Endpoint | None = ENDPOINTS.get(tool.name)
        self.bound_app: str | None = metadata.get("bound_app")
        self.risk = RiskTier.parse(metadata.get("risk", RiskTier.DESTRUCTIVE))
        # Fly tools can read what a call would touch, so the reviewer sees e.g. its size.
        self.read_state: Callable[[BaseModel], Mapping[str, Any] | None] | None = getattr(
            tool, "current_state", None
        )
        self._described: dict[str, str] = {}

    def __call__(self, tool_call: Mapping[str, Any], state: Any, runtime: Any) -> str:
        """Describe ``tool_call`` (a LangChain ``ToolCall``); the agent's ``state`` and
        ``runtime`` are not needed."""
        args = dict(tool_call.get("args") or {})
        if self.endpoint is None:
            return f"{self.tool_name} ({self.risk.label}) with arguments {_json(args)}."
        if self.bound_app is not None and "app_name" in self.endpoint.args_model.model_fields:
            args.setdefault("app_name", self.bound_app)
        try:
            validated = self.endpoint.args_model.model_validate(args)
        except ValidationError as err:
            problem = err.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "arguments"
            return (
                f"{self.tool_name} ({self.risk.label}) with arguments "
                f"{_json(redact_args(self.endpoint, args))}. These arguments are invalid "
                f"({where}: {problem['msg']}), so the call will fail if approved as is."
            )
        call_id = tool_call.get("id")
        if call_id and call_id in self._described:
            # A resumed run asks again for the same call: answer without reading again.
            return self._described[call_id]
        state = self.read_state(validated) if self.read_state is not None else None
        description = describe_action(self.endpoint, validated, state)
        if call_id:
            self._described[call_id] = description
        return description


def _json(value: Any) -> str:
    return json.dumps(value, default=str, separators=(", ", ": "))
