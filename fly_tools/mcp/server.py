"""The MCP server: the toolkit's tools, each call through the toolkit's one pipeline.

Nothing here decides what reaches Fly. A call is handed to ``FlyToolkit.acall`` with a
confirmation hook; the pipeline validates, binds the app, guards, asks the hook when the
call is gated, issues and checks the approval receipt, sends, and audits. This module
only turns the MCP client's answer into that hook:

- a call that needs no human decision runs with no approver;
- a gated call first asks the user through the client (a form input request), and runs
  only when the answer comes back approving the very call that was described (same
  digest of the validated arguments, same target reading the same, same client, in time,
  once);
- every other outcome (no form support, decline, dismissal, a wrong typed name, state
  that was tampered with, expired or replayed, arguments changed between rounds) still
  goes through the pipeline, with a hook that rejects and says why: nothing is sent, and
  the audit records the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

from langchain_core.tools import BaseTool, ToolException
from mcp.server import MCPServer
from mcp.server.mcpserver import Context, RequestStateBoundary
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, InputRequiredResult, TextContent
from mcp_types.version import is_version_at_least
from pydantic import ConfigDict, Field

from fly_tools import __version__
from fly_tools.guards import ActionRequest, ConfirmHook, Decision, Reject
from fly_tools.guards.context import CallContext
from fly_tools.guards.describe import changed_during_review
from fly_tools.mcp.approval import (
    DEFAULT_TTL,
    QUESTION_KEY,
    Ticket,
    TicketBook,
    TicketError,
    decision_for,
    form,
    question,
)
from fly_tools.mcp.listing import (
    annotations_for,
    input_schema_for,
    meta_for,
    output_schema_for,
    title_for,
)
from fly_tools.mcp.progress import PROGRESS_EVERY, timeout_of, with_heartbeat
from fly_tools.mcp.protocol import ToolkitServer, can_ask
from fly_tools.toolkit import FlyToolkit
from fly_tools.untrusted import inert

logger = logging.getLogger(__name__)

ROUND_TRIP_VERSION = "2026-07-28"
"""First protocol revision that asks the user in rounds (``InputRequiredResult``)."""
NO_FORM_SUPPORT = (
    "this MCP client did not declare form input support, so nobody can be asked to approve "
    "the call; use a client that supports elicitation forms"
)
INTERNAL_ERROR = "internal error in the fly-tools MCP server; nothing more is known about the call"
FRONT_DOOR = "mcp"


def build_server(
    toolkit: FlyToolkit,
    *,
    name: str = "fly-tools",
    approval_ttl: float = DEFAULT_TTL,
    clock: Callable[[], float] = time.time,
    approvals: ConfirmHook | None = None,
    progress_every: float = PROGRESS_EVERY,
) -> MCPServer:
    """An MCP server offering exactly ``toolkit.get_tools()``.

    Args:
        toolkit: the toolkit to serve; its scope, app binding, policy, tiers, approval
            threshold and audit log apply to every call.
        name: the server name clients see.
        approval_ttl: seconds a user has to answer an approval question.
        clock: wall clock for approval expiry (injectable for tests).
        approvals: a hook that answers every gated call instead of asking through the
            client, e.g. ``StoreApproval(store)``: the call is left pending for a person.
        progress_every: seconds between progress notifications while a call runs.

    Returns:
        An ``MCPServer``: run it over stdio, Streamable HTTP, or hand it to a client in
        process.
    """
    calls = ToolkitCalls(toolkit, TicketBook(ttl=approval_ttl, clock=clock), approvals)
    tools = [
        served_tool(tool, calls, gated=toolkit.gated(tool.name), progress_every=progress_every)
        for tool in toolkit.get_tools()
    ]
    server = ToolkitServer(
        name,
        title="Fly.io Machines",
        instructions=_instructions(toolkit, approvals is not None),
        version=__version__,
        tools=tools,
        log_level="WARNING",
        gated=frozenset(tool.name for tool in toolkit.get_tools() if toolkit.gated(tool.name)),
        approved_elsewhere=approvals is not None,
        on_unknown=lambda name, arguments, context: _refuse_unknown(
            toolkit, name, arguments, context
        ),
    )
    # The SDK's own request-state boundary answers bad state with a protocol error before
    # any handler runs, so nothing would reach the audit trail. Approval state is sealed
    # and checked by TicketBook instead, which binds more (argument digest, target,
    # client) and is single-use; it is the only request state this server issues.
    server.middleware[:] = [m for m in server.middleware if not isinstance(m, RequestStateBoundary)]
    return server


def _refuse_unknown(
    toolkit: FlyToolkit, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None
) -> None:
    """Record a call to a tool this server does not serve (the client gets -32602)."""
    ids = CallContext(request_id=_request_id(context), front_door=FRONT_DOOR)
    toolkit.refuse(name, arguments, f"{name!r} is not a tool of this server", context=ids)


def _request_id(context: Context[Any, Any] | None) -> str | None:
    try:
        return str(context.request_context.request_id) if context is not None else None
    except (AttributeError, ValueError, LookupError):  # a call made outside a request
        return None


def _instructions(toolkit: FlyToolkit, approved_elsewhere: bool) -> str:
    bound = f", bound to app {toolkit.app}" if toolkit.app else ""
    said = f"Fly.io Machines tools for a {toolkit.scope}-scoped token{bound}. "
    if approved_elsewhere:
        return said + (
            "Calls that need a human decision wait in an approvals store: the answer says "
            "'pending approval ID'; call again once a person has approved it."
        )
    return said + (
        "Calls that need a human decision ask the user in a form; nothing runs without an "
        "approval of exactly that call. Clients that declared no form elicitation are not "
        "shown those tools, since they could never get them approved."
    )


class ToolkitCalls:
    """Turns one ``tools/call`` round into one ``FlyToolkit.acall`` (or one question).

    Args:
        toolkit: the toolkit whose pipeline runs every call.
        tickets: seals and checks the state carried between the rounds of a question.
        approvals: answers gated calls instead of the client (``None``: ask the client).
    """

    def __init__(
        self, toolkit: FlyToolkit, tickets: TicketBook, approvals: ConfirmHook | None = None
    ) -> None:
        self.toolkit = toolkit
        self.tickets = tickets
        self.approvals = approvals

    async def call(
        self, name: str, args: dict[str, Any], ctx: Context[Any, Any]
    ) -> CallToolResult | InputRequiredResult:
        """Answer one round of a ``tools/call``."""
        context = CallContext(request_id=str(ctx.request_context.request_id), front_door=FRONT_DOOR)
        answering = ctx.request_state is not None or ctx.input_responses is not None
        if not self.toolkit.gated(name):
            if answering:
                reason = f"{name} asks no question; call it again without input responses or state"
                self.toolkit.refuse(name, args, reason, context=context)
                return _text_result(reason, None, is_error=True)
            return await self._run(name, args, None, context)
        if self.approvals is not None and not answering:
            return await self._run(name, args, self.approvals, context)
        if not can_ask(ctx.client_capabilities):
            return await self._run(name, args, _rejecting(NO_FORM_SUPPORT), context)
        if answering:
            return await self._answered(name, args, ctx, context)
        if not _asks_in_rounds(ctx):
            return await self._run(name, args, self._inline_question(ctx), context)
        return await self._ask(name, args, ctx, context)

    async def _ask(
        self, name: str, args: dict[str, Any], ctx: Context[Any, Any], context: CallContext
    ) -> CallToolResult | InputRequiredResult:
        prepared = await self.toolkit.aprepare(name, args)
        if prepared.refusal is not None or prepared.request is None:
            # The pipeline refuses it again, audits it, and words the advice.
            return await self._run(name, args, None, context)
        state = self.tickets.issue(prepared.request, _caller(self.tickets, ctx))
        return InputRequiredResult(
            input_requests={QUESTION_KEY: question(prepared.request)}, request_state=state
        )

    async def _answered(
        self, name: str, args: dict[str, Any], ctx: Context[Any, Any], context: CallContext
    ) -> CallToolResult:
        try:
            ticket = self.tickets.redeem(
                ctx.request_state, tool=name, caller=_caller(self.tickets, ctx)
            )
        except TicketError as err:
            return await self._run(name, args, _rejecting(str(err)), context)
        answer = (ctx.input_responses or {}).get(QUESTION_KEY)
        return await self._run(name, args, _answer_hook(ticket, answer, _who(ctx)), context)

    def _inline_question(self, ctx: Context[Any, Any]) -> ConfirmHook:
        """Handshake-era clients: ask within the call (a server-to-client request)."""
        who = _who(ctx)

        async def ask(request: ActionRequest) -> Decision:
            asked = form(request)
            try:
                answer = await ctx.request_context.session.elicit_form(
                    asked.message, asked.requested_schema, ctx.request_context.request_id
                )
            except Exception as exc:  # any failure to ask is a refusal, never an approval
                return Reject(
                    reason=f"the MCP client could not ask the user ({type(exc).__name__})", by=who
                )
            return decision_for(answer, request.type_back, who=who, door=FRONT_DOOR)

        return ask

    async def _run(
        self, name: str, args: dict[str, Any], confirm: ConfirmHook | None, context: CallContext
    ) -> CallToolResult:
        try:
            content, artifact = await self.toolkit.acall(
                name, args, confirm=confirm, context=context
            )
        except ToolException as exc:
            return _text_result(str(exc), getattr(exc, "artifact", None), is_error=True)
        # The client may hand the structured content to the model: text others wrote in
        # it is made inert as in the content's fence (fly_tools.untrusted).
        return _text_result(content, inert(self.toolkit.catalogue[name], artifact))


class _ServedTool(Tool):
    """A toolkit tool as the SDK lists it; calls go to :class:`ToolkitCalls`, not to ``fn``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    calls: ToolkitCalls = Field(exclude=True)
    structured_schema: dict[str, Any] | None = Field(default=None, exclude=True)
    progress_every: float = Field(default=PROGRESS_EVERY, exclude=True)

    @cached_property
    def output_schema(self) -> dict[str, Any] | None:
        """The shape of the structured result, for tools whose result has a stable one."""
        return self.structured_schema

    async def run(
        self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False
    ) -> Any:
        """Run the call, reporting progress; every failure is a tool error, never a crash."""
        try:
            return await with_heartbeat(
                lambda: self.calls.call(self.name, arguments, context),
                context.report_progress,
                what=self.name,
                total=timeout_of(arguments),
                every=self.progress_every,
            )
        except Exception:
            logger.exception("MCP call of %s failed unexpectedly", self.name)
            return _text_result(INTERNAL_ERROR, None, is_error=True)


def _never_called() -> None:
    """Placeholder body: the SDK needs a function per tool; calls never reach it."""
    raise RuntimeError("toolkit tools run through ToolkitCalls")


def served_tool(
    tool: BaseTool, calls: ToolkitCalls, *, gated: bool, progress_every: float = PROGRESS_EVERY
) -> Tool:
    """The SDK's tool record for one toolkit tool: lean schemas, title, hints, ``_meta``."""
    base = Tool.from_function(
        _never_called,
        name=tool.name,
        title=title_for(tool),
        description=tool.description,
        annotations=annotations_for(tool),
        meta=meta_for(tool, gated=gated),
        structured_output=False,
    )
    fields = {field: getattr(base, field) for field in Tool.model_fields if field != "parameters"}
    return _ServedTool(
        **fields,
        parameters=input_schema_for(tool),
        structured_schema=output_schema_for(tool),
        calls=calls,
        progress_every=progress_every,
    )


def _answer_hook(ticket: Ticket, answer: object, who: str) -> ConfirmHook:
    """Approve only the call the user was asked about, and only if the answer approves it."""

    def decide(request: ActionRequest) -> Decision:
        if request.tool != ticket.tool or request.digest != ticket.digest:
            changed = "the arguments changed after the user was asked; ask again with the new ones"
            return Reject(reason=changed, by=FRONT_DOOR)
        if request.target.to_dict() != ticket.target:
            return Reject(reason="the target changed after the user was asked", by=FRONT_DOOR)
        if request.description != ticket.description:
            changed = changed_during_review(ticket.description, request.description)
            return Reject(reason=f"{changed}; ask again", by=FRONT_DOOR)
        return decision_for(answer, request.type_back, who=who, door=FRONT_DOOR)

    return decide


def _rejecting(reason: str) -> ConfirmHook:
    def reject(request: ActionRequest) -> Decision:
        return Reject(reason=reason, by=FRONT_DOOR)

    return reject


def _text_result(text: str, artifact: Any, *, is_error: bool = False) -> CallToolResult:
    """Concise text for the model; the full JSON as structured content (an object)."""
    structured = (
        artifact if isinstance(artifact, dict) or artifact is None else {"result": artifact}
    )
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=structured,
        is_error=is_error,
    )


def _asks_in_rounds(ctx: Context[Any, Any]) -> bool:
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, ROUND_TRIP_VERSION)


def _client_info(ctx: Context[Any, Any]) -> tuple[str | None, str | None]:
    params = ctx.request_context.session.client_params
    info = params.client_info if params is not None else None
    return (info.name, info.version) if info is not None else (None, None)


def _caller(tickets: TicketBook, ctx: Context[Any, Any]) -> str:
    """Who is asking: client name and version, HTTP session and credentials, fingerprinted."""
    headers = getattr(ctx.request_context.request, "headers", None)
    session = headers.get("mcp-session-id") if headers is not None else None
    credentials = headers.get("authorization") if headers is not None else None
    return tickets.fingerprint(*_client_info(ctx), session, credentials)


def _who(ctx: Context[Any, Any]) -> str:
    """``decided_by`` for an answer: the user of the named MCP client."""
    name = _client_info(ctx)[0]
    label = "".join(ch for ch in (name or "unnamed")[:48] if ch.isprintable())
    return f"mcp-user@{label}"
