"""The ``interrupt_on`` mapping for LangChain's ``HumanInTheLoopMiddleware``, from risk tiers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import ValidationError

from fly_tools.catalogue import ENDPOINTS, Catalogue, Endpoint
from fly_tools.guards.describe import describe_action
from fly_tools.guards.prepared import PreparedCall
from fly_tools.guards.redact import redact_args
from fly_tools.render import agent_value, identifier, inert
from fly_tools.risk import RiskTier

DECISION_TYPES = ("approve", "edit", "reject", "respond")
"""The decisions the middleware knows."""


def interrupt_on(
    tools: Iterable[BaseTool],
    threshold: RiskTier | str = RiskTier.DESTRUCTIVE,
    *,
    allowed_decisions: Iterable[str] = ("approve", "edit", "reject"),
    catalogue: Catalogue = ENDPOINTS,
) -> dict[str, Any]:
    """``interrupt_on`` for ``HumanInTheLoopMiddleware``: tools at or above ``threshold``.

    Each entry carries ``allowed_decisions`` and a ``description`` callable that shows
    the reviewer the plain-English action (what, where, consequence). A tool's tier is
    its ``metadata["risk"]`` (every Fly tool has one); a tool without one is judged by
    its MCP-style annotations (``destructiveHint`` true: destructive; ``readOnlyHint``
    true: read), in ``metadata`` or ``metadata["annotations"]``. Read-only tools never
    pause.

    Args:
        tools: the agent's tools, e.g. ``FlyToolkit(...).get_tools()``.
        threshold: the lowest tier that pauses (a tier or its name).
        allowed_decisions: what the reviewer may answer.
        catalogue: where a tool that carries no record of its own (a wrapper with a Fly
            tool's name) finds its record: the package's unless given (pass a wider
            toolkit's ``toolkit.catalogue``). A Fly tool always uses its own record.

    Raises:
        ValueError: an unknown tier or decision, no decisions at all, or a tool whose
            risk cannot be told (give it ``metadata={"risk": ...}`` or annotations, or
            leave it out): it fails closed rather than let such a tool run unreviewed.
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
        tool_tier = risk_of(tool)
        if tool_tier >= tier and tool_tier > RiskTier.READ:
            mapping[tool.name] = {
                "allowed_decisions": list(decisions),
                "description": PendingCallDescription(tool, catalogue),
            }
    return mapping


def risk_of(tool: BaseTool) -> RiskTier:
    """A tool's tier from its metadata or annotations.

    Raises:
        ValueError: when neither says anything.
    """
    metadata = tool.metadata or {}
    if metadata.get("risk") is not None:
        return RiskTier.parse(metadata["risk"])
    hints = {**(metadata.get("annotations") or {}), **metadata}
    if hints.get("destructiveHint") is True:
        return RiskTier.DESTRUCTIVE
    if hints.get("readOnlyHint") is True:
        return RiskTier.READ
    if hints.get("destructiveHint") is False:
        return RiskTier.WRITE
    raise ValueError(
        f"cannot tell how risky tool {tool.name!r} is: give it metadata={{'risk': 'read'|"
        "'write'|'disruptive'|'destructive'}} or MCP annotations (readOnlyHint / "
        "destructiveHint), or leave it out of interrupt_on's tools"
    )


class PendingCallDescription:
    """The middleware's ``description`` callable for one tool: describes a pending call.

    Called as ``(tool_call, state, runtime)``. Arguments are validated with the tool's
    own schema (an app-bound tool refuses any other app); invalid arguments are shown
    redacted, with what is wrong, rather than failing the review. It reads nothing from
    Fly; :class:`fly_tools.agents.FlyApprovalMiddleware` describes with the state read.
    """

    def __init__(self, tool: BaseTool, catalogue: Catalogue = ENDPOINTS) -> None:
        metadata = tool.metadata or {}
        self.tool_name = tool.name
        # A Fly tool carries its record (which may come from a wider catalogue).
        carried = getattr(tool, "endpoint", None)
        self.endpoint = carried if isinstance(carried, Endpoint) else catalogue.get(tool.name)
        self.bound_app: str | None = metadata.get("bound_app")
        self.risk = risk_of(tool)

    def __call__(self, tool_call: Mapping[str, Any], state: Any, runtime: Any) -> str:
        """Describe ``tool_call`` (a LangChain ``ToolCall``)."""
        raw = tool_call.get("args") or {}
        tool = identifier(self.tool_name)
        if self.endpoint is None:
            return f"{tool} ({self.risk.label}) with arguments {agent_value(dict(raw))}."
        args = PreparedCall.arguments(self.endpoint, raw, self.bound_app)
        problem = None
        if "app_name" in self.endpoint.args_model.model_fields and PreparedCall.names_other_app(
            args, self.bound_app
        ):
            problem = f"app_name: this tool is bound to app {self.bound_app!r}"
        try:
            validated = PreparedCall.validate(self.endpoint, args, self.bound_app)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "arguments"
            problem = problem or f"{where}: {first['msg']}"
        if problem is not None:
            return (
                f"{tool} ({self.risk.label}) with arguments "
                f"{agent_value(redact_args(self.endpoint, args))}. These arguments are invalid "
                f"({inert(problem)}), so the call will be refused if approved."
            )
        return describe_action(self.endpoint, validated)
