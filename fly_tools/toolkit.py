"""FlyToolkit: the catalogue's tools filtered by token scope, app, groups, tier and policy."""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fly_tools.catalogue import ENDPOINTS, Catalogue, Endpoint
from fly_tools.client import AsyncFlyClient, FlyClient
from fly_tools.guards import AgentPolicy, AuditLog, ConfirmHook, MemorySink
from fly_tools.guards.call_guard import CallGuard
from fly_tools.guards.context import CallContext
from fly_tools.guards.decisions import MiddlewareApproval
from fly_tools.models.identifiers import AppName
from fly_tools.risk import DEFAULT_GROUPS, GROUPS, SCOPES, RiskTier, Scope, parse_scope
from fly_tools.tools.factory import make_tool
from fly_tools.tools.pipeline import (
    UNSET,
    drive_async,
    drive_sync,
    prepare_steps,
    refuse_outside,
    run_async,
    run_sync,
)
from fly_tools.tools.runtime import FlyToolError, PreparedCall, ToolkitRuntime, ToolOutput
from fly_tools.untrusted import AfterUntrusted, UntrustedReads


def select_endpoints(
    scope: Scope,
    *,
    groups: Iterable[str] | None = None,
    max_risk: RiskTier | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    policy: AgentPolicy | None = None,
    app_bound: bool = False,
    catalogue: Catalogue = ENDPOINTS,
) -> tuple[Endpoint, ...]:
    """scope ∩ groups ∩ tier ∩ include ∩ policy − exclude, in catalogue order.

    Without ``groups``, only the default groups (:data:`fly_tools.risk.DEFAULT_GROUPS`,
    the guide's 31 tools) are offered, plus tools named in ``include`` and groups or
    tools the policy names: new groups never grow an existing agent's schemas.

    A toolkit bound to one app also drops the endpoints an app-scoped token cannot reach
    (listing and creating apps): they would look beyond the app. ``catalogue`` is the
    package's own unless a caller brings a wider one.

    Raises:
        ValueError: an unknown group or tool name, or nothing left: filters fail closed.
    """
    group_set = _known(groups, GROUPS, "group")
    include_set = _known(include, catalogue, "tool")
    exclude_set = _known(exclude, catalogue, "tool") or frozenset()
    if group_set is not None:
        pool = catalogue.in_groups(group_set)
    elif include_set is None and policy is None:
        # Nothing names another group: the opt-in areas need not even be loaded.
        pool = catalogue.in_groups(DEFAULT_GROUPS)
    else:
        pool = catalogue.records
    chosen = tuple(
        e
        for e in pool
        if scope in e.scopes
        and (e.group in group_set if group_set is not None else _offered(e, include_set, policy))
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


def _offered(
    endpoint: Endpoint, include: frozenset[str] | None, policy: AgentPolicy | None
) -> bool:
    """Without ``groups=``, a toolkit offers the default groups, plus what the caller
    names: a tool in ``include``, or a group or tool the policy lists (other than denied)."""
    if endpoint.default or (include is not None and endpoint.name in include):
        return True
    if policy is None:
        return False
    return endpoint.group in policy.groups or policy.tools.get(endpoint.name) == "allow"


def _known(names: Iterable[str] | None, valid: Collection[str], kind: str) -> frozenset[str] | None:
    if names is None:
        return None
    chosen = frozenset([names] if isinstance(names, str) else names)
    unknown = sorted(name for name in chosen if name not in valid)
    if unknown:
        raise ValueError(f"unknown {kind} name(s) {unknown}; valid: {', '.join(valid)}")
    return chosen


def refuse_unknown(model: str, given: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse options ``model`` does not have, naming the closest real one.

    A misspelt safety option (``polcy=``) must not leave an unrestricted toolkit.

    Raises:
        ValueError: an unknown option, with "did you mean" where a close name exists.
    """
    names = list(known)
    unknown = [k for k in given if k not in names]
    if not unknown:
        return
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ValueError(
        f"{model} has no option {', '.join(parts)}; its options: {', '.join(sorted(names))}"
    )


class FlyToolkit(BaseToolkit):
    """LangChain tools for the Fly Machines API, limited to what one agent may do.

    Args:
        client: a :class:`FlyClient` or :class:`AsyncFlyClient`; the other kind is derived
            from it when a tool first needs it.
        scope: the token's scope: ``"org"``, ``"deploy"``, ``"readonly"`` or ``"machine-exec"``.
            Required: there is no default, since a wider toolkit than its token is a
            toolkit whose schemas promise calls that fail (or, with a wider token, that
            reach further than intended). :meth:`check_token` compares it with the token.
        app: bind every tool to this app; ``app_name`` disappears from the schemas.
        groups: only these capability groups. Without it, the default groups
            (:data:`fly_tools.risk.DEFAULT_GROUPS`), plus groups and tools that
            ``include`` or the policy name.
        max_risk: only tools at or below this tier.
        include: only these tool names.
        exclude: never these tool names.
        policy: a per-agent :class:`AgentPolicy` (deny by default), intersected with the rest.
        confirm: who approves gated calls: a confirmation hook (sync or async), or
            :class:`MiddlewareApproval` when a person decides in the agent's middleware
            (:func:`fly_tools.agents.approval_middleware`). ``None`` refuses every gated
            call. Either way a gated call is sent only with an approval receipt bound to
            its exact arguments.
        confirm_at: the lowest tier that needs approval (default ``DESTRUCTIVE``).
        confirm_timeout: seconds a hook may take before the call counts as rejected.
        attenuate: send every request on a Fly token narrowed to it (needs the
            ``macaroons`` extra): the toolkit's reach, and a one-call token per allowed
            call (:mod:`fly_tools.macaroons.narrow`). ``True``, or an
            :class:`~fly_tools.macaroons.toolkit.Attenuation` (lifetime, clock).
        check_scope: before the first call that changes something, ask Fly what the token
            may do (``GET /tokens/current``, ``POST /tokens/authorize``) and refuse every
            such call if the toolkit is wider than its token. ``False`` skips the check.
        after_untrusted: once a thread (LangGraph's ``thread_id``; without one, the
            toolkit) has read text others wrote (a guest's output, metadata, env ...),
            ``"ask"`` (default) puts every change it makes to a human, whatever its
            tier; ``"readonly"`` refuses them; ``"off"`` leaves them to their tiers.
        exec_commands: programs ``fly_exec_machine`` may run (``None`` = any).
        agent_id: names the agent in audit records.
        audit: where audit records go (default: kept in memory, see ``audit_log``).
        catalogue: the endpoints to choose from (default: the package's
            :data:`~fly_tools.catalogue.ENDPOINTS`).

    Raises:
        ValueError: unknown group or tool names, or filters that leave no tools.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    client: FlyClient | AsyncFlyClient
    scope: Scope
    app: str | None = None
    groups: list[str] | None = None
    max_risk: RiskTier | None = None
    include: list[str] | None = None
    exclude: list[str] | None = None
    # Before ``policy``: its validator checks the policy's tool names against this.
    catalogue: Catalogue = Field(default_factory=lambda: ENDPOINTS)
    policy: AgentPolicy | None = None
    confirm: ConfirmHook | MiddlewareApproval | None = None
    confirm_at: RiskTier = RiskTier.DESTRUCTIVE
    confirm_timeout: float | None = 600.0
    check_scope: bool = True
    attenuate: Any = False
    after_untrusted: AfterUntrusted = "ask"
    exec_commands: list[str] | None = None
    agent_id: str | None = None
    audit: AuditLog | None = None

    _tools: list[BaseTool] = PrivateAttr(default_factory=list)
    _runtime: ToolkitRuntime = PrivateAttr()
    _chosen: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="before")
    @classmethod
    def _scope_given(cls, data: Any) -> Any:
        if isinstance(data, dict):
            refuse_unknown(cls.__name__, data, cls.model_fields)
        if isinstance(data, dict) and data.get("scope") is None:
            raise ValueError(
                "scope is required: pass the scope of the token the client uses, one of "
                f"{', '.join(SCOPES)} (e.g. scope='deploy' for `fly tokens create deploy -a APP`); "
                "a toolkit never assumes the widest one"
            )
        return data

    @field_validator("scope", mode="before")
    @classmethod
    def _scope(cls, value: str) -> Scope:
        return parse_scope(value)

    @field_validator("confirm", mode="before")
    @classmethod
    def _confirm(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                f"confirm={value!r} is not an approver: pass a hook (e.g. ConsoleApproval()), "
                "or confirm=MiddlewareApproval() together with "
                "fly_tools.agents.approval_middleware(toolkit) in the agent's middleware"
            )
        if value is not None and not callable(value) and not isinstance(value, MiddlewareApproval):
            raise ValueError(f"confirm must be a hook, MiddlewareApproval() or None, not {value!r}")
        return value

    @field_validator("policy", mode="before")
    @classmethod
    def _policy(cls, value: Any, info: ValidationInfo) -> Any:
        catalogue = info.data.get("catalogue", ENDPOINTS)
        return AgentPolicy.coerce(value, catalogue=catalogue)

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
            catalogue=self.catalogue,
        )
        guard = CallGuard(
            scope=self.scope,
            tool_names=frozenset(e.name for e in endpoints),
            app=self.app,
            policy=self.policy,
            exec_commands=None if self.exec_commands is None else frozenset(self.exec_commands),
        )
        client = _narrowed(self, endpoints) if self.attenuate else self.client
        self._runtime = ToolkitRuntime(
            base_client=client,
            guard=guard,
            audit=self.audit or AuditLog(MemorySink()),
            confirm=self._for_caller(self.confirm),
            confirm_at=self.confirm_at,
            confirm_timeout=self.confirm_timeout,
            agent_id=self.agent_id or (self.policy.agent_id if self.policy else None),
            check_scope=self.check_scope,
            catalogue=self.catalogue,
            untrusted=UntrustedReads(self.after_untrusted),
        )
        if self.attenuate:
            from fly_tools.macaroons.toolkit import permit_on_redeem

            permit_on_redeem(self._runtime.receipts, client)
            self.client = client  # what code reaching past the tools finds holds no more
        self._tools = [make_tool(e, self._runtime) for e in endpoints]
        self._chosen = tuple(e.name for e in endpoints)

    def _for_caller(self, confirm: Any) -> Any:
        """A hook that keeps questions outside the process, bound to this toolkit as the
        asker: only this toolkit's calls can spend the answers to its questions."""
        bind = getattr(confirm, "for_caller", None)
        if not callable(bind):
            return confirm
        agent = self.agent_id or (self.policy.agent_id if self.policy else None)
        return bind(self.client, app=self.app, agent=agent)

    def get_tools(self) -> list[BaseTool]:
        """The tools this toolkit allows, in catalogue order."""
        return list(self._tools)

    def facade_tools(self) -> list[BaseTool]:
        """Two tools instead of :meth:`get_tools`: search this toolkit's operations, call one.

        ``fly_search_operations`` returns the best matches for a query with their tiers and
        argument schemas; ``fly_call_operation`` runs one by name through the same pipeline
        as its own tool (validation, binding, guard, approval, rate limits, audit under the
        operation's name). Only this toolkit's operations can be found or called. With
        ``confirm=MiddlewareApproval()`` the approval middleware asks about a gated
        operation called this way as it asks about the operation's own tool (approve or
        reject; a call by name cannot be edited), and its receipt is spent only by that
        call through the facade.
        """
        # Imported here: most toolkits never build the facade, so its models wait for it.
        from fly_tools.tools.facade import facade_tools

        return facade_tools(self)

    @property
    def runtime(self) -> ToolkitRuntime:
        """What this toolkit's tools share (clients, guard, receipts, audit): the door the
        agent middleware uses to run and record calls as the tools do."""
        return self._runtime

    @property
    def audit_log(self) -> AuditLog:
        """Where this toolkit's audit records go."""
        return self._runtime.audit

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools, in catalogue order."""
        return [t.name for t in self._tools]

    # ------------------------------------------------------------ front doors

    def gated(self, name: str, context: CallContext | None = None) -> bool:
        """Whether calling tool ``name`` needs a human decision in this toolkit (in the
        thread of ``context``: a change after an untrusted read may need one)."""
        return self._runtime.gated(self._endpoint(name), context)

    def call(
        self,
        name: str,
        args: Mapping[str, Any],
        *,
        confirm: ConfirmHook | MiddlewareApproval | None = UNSET,
        context: CallContext | None = None,
    ) -> ToolOutput:
        """Run one of this toolkit's tools through the one pipeline, for front doors.

        Validation, app binding, guard, approval receipt, rate limits, retries and audit
        are exactly those of the LangChain tool.

        Args:
            name: a tool of this toolkit.
            args: its arguments, as a model would send them.
            confirm: the approver for this call instead of the toolkit's (``None``: no
                approver, so a gated call is refused).
            context: the front door's ids for the call (audit and receipts).

        Returns:
            ``(content, artifact)``.

        Raises:
            FlyToolError: invalid arguments, a refusal or rejection, or a Fly error; its
                ``str()`` is the advice, its ``artifact`` the details.
        """
        hook = confirm if confirm is UNSET else self._for_caller(confirm)
        return run_sync(self._runtime, self._endpoint(name), args, context, hook)

    async def acall(
        self,
        name: str,
        args: Mapping[str, Any],
        *,
        confirm: ConfirmHook | MiddlewareApproval | None = UNSET,
        context: CallContext | None = None,
    ) -> ToolOutput:
        """Async twin of :meth:`call`."""
        hook = confirm if confirm is UNSET else self._for_caller(confirm)
        return await run_async(self._runtime, self._endpoint(name), args, context, hook)

    def prepare(
        self, name: str, args: Mapping[str, Any], *, context: CallContext | None = None
    ) -> PreparedCall:
        """Validate, guard and describe a call without sending it or recording it.

        Sends only the read a description needs (e.g. the volume's size).
        """
        return drive_sync(  # type: ignore[no-any-return]
            self._runtime, prepare_steps(self._runtime, self._endpoint(name), args, context)
        )

    async def aprepare(
        self, name: str, args: Mapping[str, Any], *, context: CallContext | None = None
    ) -> PreparedCall:
        """Async twin of :meth:`prepare`."""
        return await drive_async(  # type: ignore[no-any-return]
            self._runtime, prepare_steps(self._runtime, self._endpoint(name), args, context)
        )

    def refuse(
        self, name: str, args: Any, reason: str, *, context: CallContext | None = None
    ) -> FlyToolError:
        """Record a call refused before it reached one of this toolkit's tools (an
        operation outside it, a malformed call); nothing is sent. The error to report."""
        return refuse_outside(self._runtime, name, args, reason, context)

    def _endpoint(self, name: str) -> Endpoint:
        if name not in self._chosen:
            raise ValueError(
                f"{name!r} is not a tool of this toolkit; its tools: {', '.join(self._chosen)}"
            )
        return self.catalogue[name]

    @classmethod
    def from_env(
        cls,
        scope: Scope | str,
        app: str | None = None,
        *,
        internal: bool = False,
        limiter: Any = None,
        **kwargs: Any,
    ) -> FlyToolkit:
        """A toolkit whose client reads ``FLY_API_TOKEN`` and the base URL from the environment.

        For a deploy scope without ``app``, ``FLY_APP_NAME`` (set by Fly inside machines)
        binds the app when present. ``limiter`` (``"memory"``, a ``redis://`` URL or a
        limiter object) goes to the client; ``FLY_TOOLS_LIMITER_URL`` sets it otherwise.
        """
        if app is None and scope == "deploy":
            app = os.environ.get("FLY_APP_NAME") or None
        options: dict[str, Any] = {"internal": internal}
        if limiter is not None:
            options["limiter"] = limiter
        client = FlyClient.from_env(**options)
        return cls(client=client, scope=scope, app=app, **kwargs)

    @classmethod
    def read_only(
        cls, client: FlyClient | AsyncFlyClient, app: str | None = None, **kwargs: Any
    ) -> FlyToolkit:
        """A toolkit with only the READ tier: the common case for a monitoring agent."""
        return cls(client=client, scope="readonly", app=app, **kwargs)


def _narrowed(toolkit: FlyToolkit, endpoints: Sequence[Endpoint]) -> FlyClient | AsyncFlyClient:
    from fly_tools.macaroons.toolkit import narrow_client

    return narrow_client(
        toolkit.client,
        endpoints=endpoints,
        app=toolkit.app,
        confirm_at=toolkit.confirm_at,
        catalogue=toolkit.catalogue,
        settings=toolkit.attenuate,
    )
