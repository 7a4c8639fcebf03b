"""FlyToolkit: the catalogue's tools filtered by token scope, app, groups, tier and policy."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, PrivateAttr, TypeAdapter, field_validator

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.client import AsyncFlyClient, FlyClient
from fly_tools.guards import AgentPolicy, AuditLog, ConfirmHook, MemorySink
from fly_tools.models.identifiers import AppName
from fly_tools.risk import GROUPS, RiskTier, Scope, parse_scope
from fly_tools.tools.factory import make_tool
from fly_tools.tools.guard import CallGuard
from fly_tools.tools.pipeline import ToolRuntime


def select_endpoints(
    scope: Scope,
    *,
    groups: Iterable[str] | None = None,
    max_risk: RiskTier | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    policy: AgentPolicy | None = None,
    app_bound: bool = False,
) -> tuple[Endpoint, ...]:
    """scope ∩ groups ∩ tier ∩ include ∩ policy − exclude, in catalogue order.

    A toolkit bound to one app also drops the endpoints an app-scoped token cannot reach
    (listing and creating apps): they would look beyond the app.

    Raises:
        ValueError: an unknown group or tool name, or nothing left: filters fail closed.
    """
    group_set = _known(groups, GROUPS, "group")
    include_set = _known(include, tuple(ENDPOINTS), "tool")
    exclude_set = _known(exclude, tuple(ENDPOINTS), "tool") or frozenset()
    chosen = tuple(
        e
        for e in ENDPOINTS.records
        if scope in e.scopes
        and (group_set is None or e.group in group_set)
        and (max_risk is None or e.risk <= max_risk)
        and (include_set is None or e.name in include_set)
        and e.name not in exclude_set
        and (policy is None or policy.allows(e))
        and (not app_bound or "deploy" in e.scopes)
    )
    if not chosen:
        raise ValueError(
            f"these filters leave no tools for a {scope}-scoped token; "
            "widen groups/max_risk/include or the policy"
        )
    return chosen


def _known(names: Iterable[str] | None, valid: Sequence[str], kind: str) -> frozenset[str] | None:
    if names is None:
        return None
    chosen = frozenset([names] if isinstance(names, str) else names)
    unknown = sorted(chosen - set(valid))
    if unknown:
        raise ValueError(f"unknown {kind} name(s) {unknown}; valid: {', '.join(valid)}")
    return chosen


class FlyToolkit(BaseToolkit):
    """LangChain tools for the Fly Machines API, limited to what one agent may do.

    Args:
        client: a :class:`FlyClient` or :class:`AsyncFlyClient`; the other kind is derived
            from it when a tool first needs it.
        scope: the token's scope: ``"org"``, ``"deploy"``, ``"readonly"`` or ``"machine-exec"``.
        app: bind every tool to this app; ``app_name`` disappears from the schemas.
        groups: only these capability groups.
        max_risk: only tools at or below this tier.
        include: only these tool names.
        exclude: never these tool names.
        policy: a per-agent :class:`AgentPolicy` (deny by default), intersected with the rest.
        confirm: a confirmation hook, or ``"upstream"`` when approval happens in the agent's
            middleware (``HumanInTheLoopMiddleware``). ``None`` refuses every gated call.
        confirm_at: the lowest tier that needs approval (default ``DESTRUCTIVE``).
        confirm_timeout: seconds a hook may take before the call counts as rejected.
        exec_commands: programs ``fly_exec_machine`` may run (``None`` = any).
        agent_id: names the agent in audit records.
        audit: where audit records go (default: kept in memory, see ``audit_log``).

    Raises:
        ValueError: unknown group or tool names, or filters that leave no tools.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: FlyClient | AsyncFlyClient
    scope: Scope = "org"
    app: str | None = None
    groups: list[str] | None = None
    max_risk: RiskTier | None = None
    include: list[str] | None = None
    exclude: list[str] | None = None
    policy: AgentPolicy | None = None
    confirm: ConfirmHook | Literal["upstream"] | None = None
    confirm_at: RiskTier = RiskTier.DESTRUCTIVE
    confirm_timeout: float | None = 600.0
    exec_commands: list[str] | None = None
    agent_id: str | None = None
    audit: AuditLog | None = None

    _tools: list[BaseTool] = PrivateAttr(default_factory=list)
    _runtime: ToolRuntime = PrivateAttr()

    @field_validator("scope", mode="before")
    @classmethod
    def _scope(cls, value: str) -> Scope:
        return parse_scope(value)

    @field_validator("app")
    @classmethod
    def _app(cls, value: str | None) -> str | None:
        return None if value is None else TypeAdapter(AppName).validate_python(value)

    @field_validator("max_risk", "confirm_at", mode="before")
    @classmethod
    def _tier(cls, value: Any) -> RiskTier | None:
        return None if value is None else RiskTier.parse(value)

    @field_validator("groups", "include", "exclude", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def model_post_init(self, context: Any, /) -> None:
        """Select the endpoints and build the tools; fails closed on bad filters."""
        endpoints = select_endpoints(
            self.scope,
            groups=self.groups,
            max_risk=self.max_risk,
            include=self.include,
            exclude=self.exclude,
            policy=self.policy,
            app_bound=self.app is not None,
        )
        guard = CallGuard(
            scope=self.scope,
            tool_names=frozenset(e.name for e in endpoints),
            app=self.app,
            policy=self.policy,
            exec_commands=None if self.exec_commands is None else frozenset(self.exec_commands),
        )
        self._runtime = ToolRuntime(
            base_client=self.client,
            guard=guard,
            audit=self.audit or AuditLog(MemorySink()),
            confirm=self.confirm,
            confirm_at=self.confirm_at,
            confirm_timeout=self.confirm_timeout,
            agent_id=self.agent_id or (self.policy.agent_id if self.policy else None),
        )
        self._tools = [make_tool(e, self._runtime) for e in endpoints]

    def get_tools(self) -> list[BaseTool]:
        """The tools this toolkit allows, in catalogue order."""
        return list(self._tools)

    @property
    def audit_log(self) -> AuditLog:
        """Where this toolkit's audit records go."""
        return self._runtime.audit

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools, in catalogue order."""
        return [t.name for t in self._tools]

    @classmethod
    def from_env(
        cls, scope: Scope | str = "deploy", app: str | None = None, *, internal: bool = False,
        **kwargs: Any,
    ) -> FlyToolkit:  # fmt: skip
        """A toolkit whose client reads ``FLY_API_TOKEN`` and the base URL from the environment.

        For a deploy scope without ``app``, ``FLY_APP_NAME`` (set by Fly inside machines)
        binds the app when present.
        """
        if app is None and scope == "deploy":
            app = os.environ.get("FLY_APP_NAME") or None
        client = FlyClient.from_env(internal=internal)
        return cls(client=client, scope=scope, app=app, **kwargs)

    @classmethod
    def read_only(
        cls, client: FlyClient | AsyncFlyClient, app: str | None = None, **kwargs: Any
    ) -> FlyToolkit:
        """A toolkit with only the READ tier: the common case for a monitoring agent."""
        return cls(client=client, scope="readonly", app=app, **kwargs)
