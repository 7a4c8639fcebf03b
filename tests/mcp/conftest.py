"""Fixtures for the MCP server's tests: a fake Fly, a toolkit served in process, answer helpers."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext, ElicitationFnT
from mcp.server import MCPServer
from mcp_types import (
    CallToolResult,
    ElicitRequestParams,
    ElicitResult,
    InputRequiredResult,
    InputResponses,
)

from fly_tools.guards import AuditLog, AuditRecord, MemorySink
from fly_tools.mcp import build_server
from fly_tools.testing import FakeFly
from fly_tools.toolkit import FlyToolkit

Elicit = ElicitationFnT


@dataclass
class Served:
    """One toolkit on a fresh demo world, served by one MCP server."""

    fake: FakeFly
    toolkit: FlyToolkit
    memory: MemorySink
    server: MCPServer
    now: list[float] = field(default_factory=lambda: [1_000_000.0])

    @property
    def records(self) -> list[AuditRecord]:
        return self.memory.records

    def sent(self, method: str | None = None) -> list[tuple[str, str]]:
        """What reached the fake: (method, path), optionally of one method only."""
        return [(r.method, r.path) for r in self.fake.requests if method in (None, r.method)]

    def writes(self) -> list[tuple[str, str]]:
        """Every request that could change something (anything but GET).

        The toolkit's one-time ``POST /tokens/authorize`` only asks what its token may do.
        """
        return [
            (r.method, r.path)
            for r in self.fake.requests
            if r.method != "GET" and not r.path.startswith("/v1/tokens/")
        ]

    def advance(self, seconds: float) -> None:
        self.now[0] += seconds


def serve(
    scope: str = "deploy",
    app: str | None = "web",
    *,
    fake: FakeFly | None = None,
    server: dict[str, Any] | None = None,
    **options: Any,
) -> Served:
    """A toolkit on the fake's demo world and its MCP server (approval clock is virtual).

    ``fake`` replaces the demo world (e.g. one on a real clock); ``server`` holds more
    options for :func:`build_server`; the rest are the toolkit's.
    """
    fake = fake or FakeFly.demo()
    memory = MemorySink()
    toolkit = FlyToolkit(
        client=fake.async_client(scope=scope, app=app),
        scope=scope,
        app=app,
        audit=AuditLog(memory),
        **options,
    )
    now = [1_000_000.0]
    built = build_server(toolkit, clock=lambda: now[0], **(server or {}))
    return Served(fake, toolkit, memory, built, now)


@pytest.fixture
def web() -> Served:
    """A deploy toolkit bound to app web, served in process."""
    return serve()


def answering(*, action: str = "accept", **content: Any) -> Elicit:
    """An elicitation callback that always gives this answer (and records the questions)."""
    asked: list[ElicitRequestParams] = []

    async def answer(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action=action, content=content or None)

    answer.asked = asked  # type: ignore[attr-defined]
    return answer


def approve(typed: str | None = None) -> Elicit:
    """Accept with decision approve, typing ``typed`` back when given."""
    content: dict[str, Any] = {"decision": "approve"}
    if typed is not None:
        content["confirm"] = typed
    return answering(**content)


async def ask(client: Client, name: str, args: dict[str, Any]) -> InputRequiredResult:
    """Round one by hand: the server's question and its state."""
    result = await client.session.call_tool(name, args, allow_input_required=True)
    assert isinstance(result, InputRequiredResult), result
    return result


async def reply(
    client: Client, name: str, args: dict[str, Any], state: str | None, answer: ElicitResult | None
) -> CallToolResult:
    """Round two by hand: the answer and the (possibly altered) state."""
    responses: InputResponses | None = {"approval": answer} if answer is not None else None
    result = await client.session.call_tool(
        name, args, input_responses=responses, request_state=state, allow_input_required=True
    )
    assert isinstance(result, CallToolResult), result
    return result


def approval(typed: str | None = None, decision: str = "approve") -> ElicitResult:
    """An accepted approval form, as a client would send it."""
    content: dict[str, Any] = {"decision": decision}
    if typed is not None:
        content["confirm"] = typed
    return ElicitResult(action="accept", content=content)


def quiet_beta_warnings() -> None:
    """``langchain.mcp`` warns once that it is in beta; the tests know."""
    warnings.filterwarnings("ignore", message=".*langchain.mcp.*beta")
