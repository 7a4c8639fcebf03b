"""The two-tool facade: a call through it is the call through the operation's own tool.

Over the whole catalogue, on twin demo worlds, the facade and the per-operation tools
send the same requests (bodies included), ask the approver the same questions and leave
the same audit records. Its search shows only the toolkit's operations, with the lean
schemas their own tools show; hostile arguments through it send nothing; a gated call
through it under middleware approval is refused, never run.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools import (
    ENDPOINTS,
    GROUPS,
    ActionRequest,
    AuditLog,
    Decision,
    FlyToolkit,
    MemorySink,
    approve_all,
)
from fly_tools.agents import approval_middleware
from fly_tools.guards import receipts
from fly_tools.guards.decisions import MiddlewareApproval
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, call
from fly_tools.testing.world import VOL_DATA_OLD, WEB_1
from fly_tools.tools.facade import CALL_TOOL, SEARCH_TOOL
from tests.conftest import DEPTH
from tests.reliability.strategies import hostile_arguments
from tests.reliability.support import model_schema
from tests.tools.world import EXAMPLES, prepared_world

SECRET = "facade-secret-value"
QUIET = {"check_scope": False}
"""For tests that assert nothing at all is sent: no token check before the refusal."""
_TOKEN = re.compile(rb"FlyV1 [^\"]+")


class Recording(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Passes requests to the fake and keeps each one, body included."""

    def __init__(self, fake: FakeFly) -> None:
        self.inner = fake.transport()
        self.seen: list[tuple[str, str, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._keep(request, request.read())
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._keep(request, await request.aread())
        return await self.inner.handle_async_request(request)

    def _keep(self, request: httpx.Request, body: bytes) -> None:
        # Each world has its own token, which the scope check sends in a body.
        self.seen.append((request.method, str(request.url), _TOKEN.sub(b"FlyV1 <token>", body)))


class Approver:
    """Approves every gated call and keeps what it was asked."""

    def __init__(self) -> None:
        self.asked: list[ActionRequest] = []

    def __call__(self, request: ActionRequest) -> Decision:
        self.asked.append(request)
        return approve_all(request)


class Run:
    """One demo world, a hook-approved org toolkit on it, and what happened."""

    def __init__(self, name: str, *, is_async: bool = False, **options: Any) -> None:
        self.fake, self.example = prepared_world(name)
        self.transport = Recording(self.fake)
        self.approver = Approver()
        options = {"scope": "org", "groups": GROUPS, "confirm": self.approver, **options}
        token = (options["scope"], options.get("app"))
        client = (
            self.fake.async_client(*token, transport=self.transport)
            if is_async
            else self.fake.client(*token, transport=self.transport)
        )
        self.sink = MemorySink()
        self.toolkit = FlyToolkit(client=client, audit=AuditLog(self.sink), **options)
        self.before = len(self.fake.requests)

    def own_tool(self, name: str) -> BaseTool:
        return next(t for t in self.toolkit.get_tools() if t.name == name)

    def facade(self) -> dict[str, BaseTool]:
        return {t.name: t for t in self.toolkit.facade_tools()}

    def sent(self) -> list[Any]:
        logged = [(r.method, r.path, r.query, r.status) for r in self.fake.requests[self.before :]]
        return [logged, self.transport.seen]

    def asked(self) -> list[Any]:
        return [
            (r.tool, r.digest, r.description, r.target, r.args, r.tool_call_id)
            for r in self.approver.asked
        ]

    def audited(self) -> list[Any]:
        return [
            (
                r.tool,
                r.target,
                r.args,
                r.decision,
                r.decided_by,
                r.outcome,
                r.error,
                r.reads,
                r.context.get("tool_call_id"),
            )
            for r in self.sink.records
        ]


def _invoke(tool: BaseTool, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    message = tool.invoke(ToolCall(name=tool.name, args=args, id=call_id, type="tool_call"))
    assert isinstance(message, ToolMessage)
    return message


def _via_facade(run: Run, name: str, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    return _invoke(run.facade()[CALL_TOOL], {"operation": name, "arguments": args}, call_id)


def _outcome(message: ToolMessage) -> tuple[Any, Any]:
    # Each twin world issues its own random tokens, and each answer its own fence nonce;
    # those are the only differences.
    content = re.sub(r"tok_[0-9a-f]+", "tok_…", str(message.content))
    return message.status, re.sub(r"untrusted-data-[0-9a-f]+", "untrusted-data-…", content)


@pytest.fixture(autouse=True)
def _one_receipt_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # Digests are keyed per toolkit; twin toolkits share a key so their digests compare.
    # Only the receipts module's view of `secrets` changes (the fake mints tokens too).
    fixed = SimpleNamespace(token_bytes=lambda n: b"k" * n, token_hex=secrets.token_hex)
    monkeypatch.setattr(receipts, "secrets", fixed)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_facade_sends_asks_and_records_what_the_own_tool_does(name: str) -> None:
    own, via = Run(name), Run(name)

    direct = _invoke(own.own_tool(name), own.example)
    through = _via_facade(via, name, via.example)

    assert _outcome(through) == _outcome(direct)
    assert direct.status == "success", direct.content
    assert via.sent() == own.sent()
    assert via.transport.seen  # something reached the fake: the comparison is not vacuous
    assert via.asked() == own.asked()
    assert (len(own.asked()) > 0) == own.toolkit.gated(name)
    assert via.audited() == own.audited()
    assert [r.tool for r in via.sink.records][-1] == name  # the operation, not the facade


@pytest.mark.parametrize("name", ["fly_delete_volume", "fly_set_secret", "fly_get_machine"])
def test_async_facade_matches_the_async_own_tool(name: str) -> None:
    own, via = Run(name, is_async=True), Run(name, is_async=True)
    call = {"operation": name, "arguments": via.example}

    async def both() -> tuple[Any, Any]:
        direct = await own.own_tool(name).ainvoke(
            ToolCall(name=name, args=own.example, id="a-1", type="tool_call")
        )
        through = await via.facade()[CALL_TOOL].ainvoke(
            ToolCall(name=CALL_TOOL, args=call, id="a-1", type="tool_call")
        )
        return direct, through

    direct, through = asyncio.run(both())
    assert _outcome(through) == _outcome(direct)
    assert via.sent() == own.sent()
    assert via.asked() == own.asked()
    assert via.audited() == own.audited()


def test_search_finds_operations_with_their_own_lean_schemas() -> None:
    run = Run("fly_get_machine", app="web", scope="deploy", **QUIET)
    search = run.facade()[SEARCH_TOOL]

    message = _invoke(search, {"query": "stop a running machine", "limit": 3})

    found = json.loads(str(message.content))
    assert found[0]["name"] == "fly_stop_machine"
    assert found[0]["tier"] == "disruptive"
    own = convert_to_openai_tool(run.own_tool("fly_stop_machine"))["function"]["parameters"]
    assert found[0]["parameters"] == own
    assert "app_name" not in found[0]["parameters"]["properties"]  # bound toolkit
    assert len(found) <= 3
    destructive = json.loads(str(_invoke(search, {"query": "destructive", "limit": 10}).content))
    assert {e["tier"] for e in destructive} == {"destructive"}
    assert run.sent() == [[], []]  # searching reads nothing from Fly


def test_only_the_toolkits_operations_are_found_or_called() -> None:
    run = Run("fly_delete_app", max_risk="read", **QUIET)
    tools = run.facade()

    found = json.loads(str(_invoke(tools[SEARCH_TOOL], {"query": "delete app"}).content) or "[]")
    message = _via_facade(run, "fly_delete_app", {"app_name": "worker", "force": True})

    assert all(ENDPOINTS[e["name"]].read_only for e in found)
    assert message.status == "error"
    assert "nothing was sent to Fly" in str(message.content)
    assert run.sent() == [[], []]
    enum = convert_to_openai_tool(tools[CALL_TOOL])["function"]["parameters"]
    assert enum["properties"]["operation"]["enum"] == run.toolkit.tool_names


def test_app_binding_holds_through_the_facade() -> None:
    run = Run("fly_get_machine", scope="deploy", app="web", **QUIET)

    other = _via_facade(run, "fly_get_machine", {"app_name": "worker", "machine_id": WEB_1})
    bound = _via_facade(run, "fly_get_machine", {"machine_id": WEB_1}, "call-2")

    assert other.status == "error"
    assert bound.status == "success"
    logged, _ = run.sent()
    assert [(m, p) for m, p, _, _ in logged] == [("GET", f"/v1/apps/web/machines/{WEB_1}")]


def test_gated_call_under_middleware_approval_is_refused_not_run() -> None:
    # The approval middleware gates tools by their own names, so it never reviews a
    # fly_call_operation call: no receipt exists and the pipeline refuses the send.
    run = Run("fly_delete_volume", confirm=MiddlewareApproval(), **QUIET)

    message = _via_facade(run, "fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA_OLD})

    assert message.status == "error"
    assert "approval middleware" in str(message.content)
    assert run.sent() == [[], []]
    assert [(r.tool, r.decision, r.outcome) for r in run.sink.records] == [
        ("fly_delete_volume", "refused", "not_executed")
    ]
    assert run.sink.records[0].context.get("tool_call_id") == "call-1"


def test_secret_values_stay_out_of_callbacks_and_records() -> None:
    run = Run("fly_set_secret")
    seen: list[str] = []

    class Tracer(BaseCallbackHandler):
        def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
            seen.append(input_str + json.dumps(kwargs.get("inputs"), default=str))

    args = {"app_name": "web", "secret_name": "API_KEY", "value": SECRET}
    message = run.facade()[CALL_TOOL].invoke(
        ToolCall(
            name=CALL_TOOL,
            args={"operation": "fly_set_secret", "arguments": args},
            id="s-1",
            type="tool_call",
        ),
        config={"callbacks": [Tracer()]},
    )

    assert isinstance(message, ToolMessage)
    assert message.status == "success"
    assert seen
    assert all(SECRET not in text for text in seen)
    assert SECRET.encode() in b"".join(body for _, _, body in run.transport.seen)
    assert SECRET not in repr(run.sink.records)


_HOSTILE = ["fly_create_machine", "fly_stop_machine", "fly_exec_machine", "fly_create_volume"]


@pytest.mark.parametrize("name", _HOSTILE)
@settings(
    deadline=None, max_examples=15 * DEPTH, database=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_hostile_arguments_through_the_facade_send_nothing(name: str, data: st.DataObject) -> None:
    run = Run(name, **QUIET)
    schema = model_schema(run.own_tool(name))
    args, bad = data.draw(hostile_arguments(ENDPOINTS[name], schema), label="arguments")

    message = _via_facade(run, name, args)

    assert message.status == "error"
    assert "nothing was sent to Fly" in str(message.content)
    assert bad in str(message.content)
    assert run.sent() == [[], []]
    assert [(r.tool, r.outcome) for r in run.sink.records] == [(name, "not_executed")]


@pytest.mark.parametrize("mode", ["batched", "per_call"])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_agent_with_approval_middleware_asks_about_a_gated_call_through_the_facade(
    mode: str, decision: str
) -> None:
    # The facade asks like any other door: the reviewer sees the operation and its
    # description; only an approval sends it, once.
    fake = FakeFly.demo()
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm=MiddlewareApproval(reviewer="alice"),
        audit=AuditLog(sink),
    )
    step = call(CALL_TOOL, operation="fly_delete_volume", arguments={"volume_id": VOL_DATA_OLD})
    agent = create_agent(
        ScriptedChatModel(script=[step]),
        tools=toolkit.facade_tools(),
        middleware=approval_middleware(toolkit, interrupt_mode=mode),
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}

    paused = agent.invoke({"messages": [HumanMessage("clean up")]}, config)
    (pending,) = paused["__interrupt__"]
    assert "Delete volume" in str(pending.value)
    answer = {"type": decision}
    resume = {"decisions": [answer]} if mode == "batched" else {pending.id: answer}
    agent.invoke(Command(resume=resume), config)

    deletes = [(r.method, r.path) for r in fake.requests if r.method == "DELETE"]
    expected = [("DELETE", f"/v1/apps/web/volumes/{VOL_DATA_OLD}")]
    assert deletes == (expected if decision == "approve" else [])
    verdict = "approved" if decision == "approve" else "rejected"
    assert [(r.tool, r.decision) for r in sink.records] == [("fly_delete_volume", verdict)]
