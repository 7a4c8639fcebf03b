"""What the tools of one toolkit share: clients, guard, approver, receipts, audit, and the steps."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

from langchain_core.tools import ToolException

from fly_tools.catalogue import Catalogue, Endpoint
from fly_tools.client import AsyncFlyClient, FlyClient, FlyError, async_twin, sync_twin
from fly_tools.client.tokens import UnknownScopeError, org_of, scope_from_current_token
from fly_tools.guards import (
    ActionRequest,
    AuditLog,
    ConfirmHook,
    decide_async,
    decide_sync,
    describe_action,
    redact_args,
    scrub,
    scrub_value,
    secret_values_in,
    state_lookup,
    target_of,
)
from fly_tools.guards.call_guard import CallGuard
from fly_tools.guards.context import CallContext
from fly_tools.guards.decisions import MiddlewareApproval
from fly_tools.guards.describe import facts_of, type_back_for
from fly_tools.guards.prepared import PreparedCall as PreparedCall  # where front doors import it
from fly_tools.guards.receipts import ReceiptBook
from fly_tools.models.args import FlyArgs
from fly_tools.risk import RiskTier, Scope
from fly_tools.tools.content import summarise, withhold
from fly_tools.tools.recording import RecordKeeping
from fly_tools.untrusted import (
    Exposure,
    UntrustedReads,
    exposure_of,
    fence,
    others_text,
    question_line,
)

ToolOutput: TypeAlias = tuple[str, Any]


class FlyToolError(ToolException):
    """A call that did not succeed; ``str()`` is the advice the model reads.

    Attributes:
        artifact: the machine-readable side: ``{"executed": False, "reason": ...}`` for
            refusals and rejections, ``{"executed": True, "error": ..., "status": ...}``
            when Fly answered with an error, ``executed: None`` when unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        executed: bool | None,
        reason: str,
        artifact: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.artifact: dict[str, Any] = dict(artifact or {"executed": executed, "reason": reason})


@dataclass(frozen=True)
class Lookup:
    """Read the current state of what a gated call will touch (for its description)."""

    endpoint: Endpoint
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Confirm:
    """Ask a confirmation hook about a gated call.

    ``bind`` (the hook's ``bind_request``, for hooks that keep answers outside the
    process) fills ``request.binding`` from the validated ``args`` first; it may do I/O,
    so the async driver runs it in a worker thread.
    """

    request: ActionRequest
    hook: ConfirmHook
    bind: Callable[[Endpoint, FlyArgs], str] | None = None
    endpoint: Endpoint | None = None
    args: FlyArgs | None = None

    def bound(self, binding: str) -> ActionRequest:
        """The request with its binding filled in."""
        return replace(self.request, binding=binding)


@dataclass(frozen=True)
class Send:
    """Send the request to Fly."""

    endpoint: Endpoint
    args: FlyArgs


@dataclass(frozen=True)
class CheckScope:
    """Compare the toolkit's scope with what its token may do (once per toolkit)."""


Step: TypeAlias = Lookup | Confirm | Send | CheckScope


def describe_steps(
    runtime: ToolkitRuntime,
    endpoint: Endpoint,
    args: FlyArgs,
    context: CallContext,
    *,
    edited: bool = False,
    reads: list[str] | None = None,
) -> Generator[Step, Any, ActionRequest]:
    """Read what the call touches (inside the toolkit's binding) and build the request.

    The read is noted in ``reads``: the call's audit record lists it, so every request
    the toolkit makes is in the trail.
    """
    state: Any = None
    lookup = state_lookup(endpoint, args)
    read = lookup is not None and runtime.may_read(runtime.catalogue[lookup[0]], lookup[1])
    if lookup is not None and read:
        state = yield Lookup(runtime.catalogue[lookup[0]], lookup[1])
        if reads is not None:
            reads.append(lookup[0] if isinstance(state, Mapping) else f"{lookup[0]} (failed)")
    state = state if isinstance(state, Mapping) else None
    facts = facts_of(endpoint, state)
    description = describe_action(endpoint, args, state, read=read)
    escalation = runtime.untrusted.escalation(endpoint, context)
    if escalation is not None:  # the person learns why a change of any tier reaches them
        description = f"{description}\n{question_line(escalation)}"
    return ActionRequest(
        tool=endpoint.name,
        group=endpoint.group,
        risk=endpoint.risk,
        args=redact_args(endpoint, args),
        target=target_of(endpoint, args),
        description=description,
        agent_id=runtime.agent_id,
        digest=runtime.receipts.digest(endpoint, args),
        facts=facts,
        reversible=endpoint.risk < RiskTier.DESTRUCTIVE,
        type_back=type_back_for(endpoint, args),
        edited=edited,
        tool_call_id=context.tool_call_id,
        thread_id=context.thread_id,
    )


@dataclass
class ToolkitRuntime(RecordKeeping):
    """Everything the tools of one toolkit share: clients, guard, approval and audit."""

    base_client: FlyClient | AsyncFlyClient
    guard: CallGuard
    audit: AuditLog
    catalogue: Catalogue = field(repr=False)
    """The toolkit's records: state reads and refusals look names up here, never globally."""
    confirm: ConfirmHook | MiddlewareApproval | None = None
    confirm_at: RiskTier = RiskTier.DESTRUCTIVE
    confirm_timeout: float | None = None
    agent_id: str | None = None
    receipts: ReceiptBook = field(default_factory=ReceiptBook, repr=False)
    check_scope: bool = True
    secrets_seen: set[str] = field(default_factory=set, repr=False)
    untrusted: UntrustedReads = field(default_factory=UntrustedReads, repr=False)
    _scope_refusal: str | None = field(default=None, init=False, repr=False)
    _scope_checked: bool = field(default=False, init=False, repr=False)
    _scope_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _scope_alock: asyncio.Lock | None = field(default=None, init=False, repr=False)
    _sync: FlyClient | None = field(default=None, init=False, repr=False)
    _async: AsyncFlyClient | None = field(default=None, init=False, repr=False)

    @property
    def client(self) -> FlyClient:
        """The blocking client; derived from an async one on first use."""
        if isinstance(self.base_client, FlyClient):
            return self.base_client
        if self._sync is None:
            self._sync = sync_twin(self.base_client)
        return self._sync

    @property
    def async_client(self) -> AsyncFlyClient:
        """The async client; derived on first use, so a sync-only transport is fine
        until a tool is awaited."""
        if isinstance(self.base_client, AsyncFlyClient):
            return self.base_client
        if self._async is None:
            self._async = async_twin(self.base_client)
        return self._async

    def gated(self, endpoint: Endpoint, context: CallContext | None = None) -> bool:
        """Whether a call needs a human decision inside this toolkit (whoever gives it):
        by its tier, or as a change in a thread that read text others wrote."""
        by_tier = endpoint.risk >= self.confirm_at and endpoint.risk > RiskTier.READ
        return by_tier or self.untrusted.asks(endpoint, context)

    def may_read(self, endpoint: Endpoint, args: Mapping[str, Any]) -> bool:
        """Whether a description may read ``args`` with ``endpoint``: scope and binding."""
        app = args.get("app_name")
        return self.guard.scope in endpoint.scopes and (
            self.guard.app is None or app == self.guard.app
        )

    # ------------------------------------------------------------ secrets

    def note_secrets(self, endpoint: Endpoint, args: FlyArgs | Mapping[str, Any] | None) -> None:
        """Remember secret values in ``args``: they are scrubbed from everything shown."""
        if args is not None:
            self.secrets_seen.update(secret_values_in(endpoint, args))

    def secret_values(self) -> set[str]:
        """Values that must never reach a record: the token and secret values seen so far."""
        return {self.base_client.token.reveal(), *self.secrets_seen}

    def scrub(self, text: str) -> str:
        """``text`` without the token or any secret value seen in this toolkit."""
        return scrub(text, self.secret_values())

    def scrub_json(self, value: Any) -> Any:
        """JSON data without the token or any secret value, scrubbed string by string
        (never serialized and parsed back: a secret that looks like JSON breaks nothing)."""
        return scrub_value(value, self.secret_values())

    # ------------------------------------------------------------ answers

    def read_untrusted(
        self, endpoint: Endpoint, args: FlyArgs, result: Any, context: CallContext
    ) -> Exposure | None:
        """Whether the answer shows the model text others wrote; if so, the thread is marked.

        An MCP client is handed the whole answer as structured content, so there every
        untrusted field counts; elsewhere only those the content shows.
        """
        found = others_text(
            endpoint, withhold(endpoint, result), everything=context.front_door == "mcp"
        )
        if not found:
            return None
        exposure = exposure_of(endpoint, args, found)
        self.untrusted.note(context, exposure)
        return exposure

    def answer(
        self, endpoint: Endpoint, args: FlyArgs, result: Any, exposure: Exposure | None = None
    ) -> ToolOutput:
        """(content, artifact) for a successful call, token and secret values scrubbed;
        text others wrote is fenced as data."""
        result = withhold(endpoint, result)
        content = self.scrub(summarise(endpoint, args, result))
        if exposure is not None:
            content = fence(content, exposure.source)
        return content, self.scrub_json(result) if result is not None else {}

    # ------------------------------------------------------------ token scope

    def needs_scope_check(self, endpoint: Endpoint) -> bool:
        """Whether a call must pass the token check (asked once, then remembered)."""
        return self.check_scope and not endpoint.read_only

    def _token_verdict(self, answer: Any, authorized: Any) -> str | None:
        try:
            token_scope, apps = scope_from_current_token(answer, authorized)
        except UnknownScopeError as err:
            return self._unknown(str(err))
        refusal = scope_refusal(self.guard.scope, self.guard.app, token_scope, apps)
        self._scope_refusal, self._scope_checked = refusal, True
        return refusal

    def _unknown(self, reason: str) -> str:
        # Not cached: the next change asks again (a passing failure heals itself).
        return (
            f"the token's scope could not be checked ({self.scrub(reason).splitlines()[0]}), "
            "so nothing that changes anything is sent (reads still work); check the token, "
            "or build the toolkit with check_scope=False to skip this check"
        )

    def _unchecked(self, err: FlyError) -> str:
        return self._unknown(str(err))

    def check_scope_sync(self) -> str | None:
        """Why this toolkit is wider than its token (asked once, then cached), or ``None``.

        A token whose scope cannot be learned (Fly errs, or answers in an unknown shape)
        gets a refusal too: writes fail closed.
        """
        with self._scope_lock:
            return self._check_scope_sync()

    def _check_scope_sync(self) -> str | None:
        if self._scope_checked:
            return self._scope_refusal
        try:
            answer = self.client.current_token()
            org = org_of(answer)
            if org is None:
                return self._unknown("Fly's answer about the token names no org")
            authorized = self.client.authorize({"org_slug": org})
        except FlyError as err:
            return self._unchecked(err)
        return self._token_verdict(answer, authorized)

    async def check_scope_async(self) -> str | None:
        """Async twin of :meth:`check_scope_sync`: concurrent calls wait for one check."""
        if self._scope_checked:
            return self._scope_refusal
        if self._scope_alock is None:
            self._scope_alock = asyncio.Lock()
        async with self._scope_alock:
            return await self._check_scope_async()

    async def _check_scope_async(self) -> str | None:
        if self._scope_checked:
            return self._scope_refusal
        try:
            answer = await self.async_client.current_token()
            org = org_of(answer)
            if org is None:
                return self._unknown("Fly's answer about the token names no org")
            authorized = await self.async_client.authorize({"org_slug": org})
        except FlyError as err:
            return self._unchecked(err)
        return self._token_verdict(answer, authorized)

    # ------------------------------------------------------------ step I/O

    def perform_sync(self, step: Step) -> Any:
        """Do one step with the sync client."""
        if isinstance(step, CheckScope):
            return self.check_scope_sync()
        if isinstance(step, Lookup):
            try:
                return self.client.call(step.endpoint, step.args)
            except FlyError:
                return None  # the description then says the state could not be read
        if isinstance(step, Confirm):
            request = step.request
            if step.bind is not None and step.endpoint is not None and step.args is not None:
                request = step.bound(step.bind(step.endpoint, step.args))
            return decide_sync(step.hook, request, self.confirm_timeout)
        return self.client.call(step.endpoint, step.args)

    async def perform_async(self, step: Step) -> Any:
        """Do one step with the async client."""
        if isinstance(step, CheckScope):
            return await self.check_scope_async()
        if isinstance(step, Lookup):
            try:
                return await self.async_client.call(step.endpoint, step.args)
            except FlyError:
                return None
        if isinstance(step, Confirm):
            request = step.request
            if step.bind is not None and step.endpoint is not None and step.args is not None:
                binding = await asyncio.to_thread(step.bind, step.endpoint, step.args)
                request = step.bound(binding)
            return await decide_async(step.hook, request, self.confirm_timeout)
        return await self.async_client.call(step.endpoint, step.args)


def scope_refusal(
    toolkit_scope: Scope, app: str | None, token_scope: Scope, token_apps: tuple[str, ...]
) -> str | None:
    """Why a toolkit is wider than its token, or ``None`` when the token covers it."""
    fix = f"build the toolkit with scope={token_scope!r}"
    if token_scope in ("readonly", "machine-exec") and toolkit_scope != token_scope:
        return f"this toolkit is {toolkit_scope}-scoped but its token is {token_scope}: {fix}"
    if token_scope == "deploy" and toolkit_scope == "org":  # noqa: S105 - a scope, not a secret
        return (
            f"this toolkit is org-scoped but its token is limited to apps {list(token_apps)}: {fix}"
        )
    if token_apps and app is not None and app not in token_apps:
        return f"this toolkit is bound to app {app!r} but its token reaches only {list(token_apps)}"
    return None
