"""Adding an endpoint is one record, its model and its fake behaviour: the whole stack follows.

A synthetic ``fly_drain_machine`` (Fly has no such operation) goes into a wider
catalogue; nothing else is edited. It becomes a tool, is filtered by scope, tier and
group like any other, is described and approved (by a hook, or by a person through an agent's approval
middleware), can be found and called through the two-tool facade, reaches the fake, is
audited and appears in the generated tools table.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools import ENDPOINTS, FlyToolkit, MiddlewareApproval, RiskTier
from fly_tools.agents import approval_middleware
from fly_tools.catalogue import Catalogue, Endpoint, Phrase
from fly_tools.docs import tools_markdown
from fly_tools.guards import (
    ActionRequest,
    Approve,
    AuditLog,
    MemorySink,
    interrupt_on,
    sentence_for,
)
from fly_tools.models.args import MachineArgs
from fly_tools.testing import FakeFly
from fly_tools.testing.calls import ROUTES, Call, Reply, extra_route
from fly_tools.testing.handlers.machines import MachinePath
from fly_tools.testing.scripted import ScriptedChatModel, call, say
from fly_tools.testing.state import FakeState
from fly_tools.testing.world import WEB_1
from fly_tools.tools.facade import CALL_TOOL, SEARCH_TOOL

NAME = "fly_drain_machine"


class DrainMachineArgs(MachineArgs):
    """Let a machine finish its requests and take no new ones; it keeps running."""


DRAIN = Endpoint(
    name=NAME,
    group="control",
    operation_id="Machines_drain",
    phrase=Phrase(ask="drain {target}", done="drained {target}"),
    method="POST",
    path="/apps/{app_name}/machines/{machine_id}/drain",
    args_model=DrainMachineArgs,
    risk=RiskTier.DISRUPTIVE,
    scopes=frozenset({"org", "deploy"}),
    idempotent=True,
    description="Drain a machine before risky work: it finishes requests, takes no new ones.",
    consequence="It stops receiving new requests until it is undrained.",
    state_read="fly_get_machine",
)
WIDER = Catalogue((*ENDPOINTS.records, DRAIN))
DRAINED: list[tuple[str, str]] = []


def drain_machine(fly: FakeState, call: Call, p: MachinePath) -> Reply:
    """The fake's behaviour: the machine must exist; Fly answers ``{"ok": true}``."""
    fly.machine(p.app_name, p.machine_id)
    DRAINED.append((p.app_name, p.machine_id))
    return Reply({"ok": True})


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    extra_route(DRAIN, MachinePath)(drain_machine)
    DRAINED.clear()
    try:
        yield
    finally:
        ROUTES.pop(NAME, None)


def _toolkit(fake: FakeFly, **kwargs: object) -> FlyToolkit:
    return FlyToolkit(client=fake.client(), catalogue=WIDER, **kwargs)


def test_toolkit_filters_it_by_scope_tier_and_group() -> None:
    fake = FakeFly.demo()
    assert NAME in _toolkit(fake, scope="org").tool_names
    assert NAME in _toolkit(fake, scope="deploy", groups=["control"]).tool_names
    assert NAME not in _toolkit(fake, scope="readonly").tool_names
    assert NAME not in _toolkit(fake, scope="org", max_risk="write").tool_names
    assert NAME not in _toolkit(fake, scope="org", groups=["machines"]).tool_names
    assert NAME not in FlyToolkit(client=fake.client(), scope="org").tool_names


def test_an_approved_call_reaches_the_fake_and_is_audited() -> None:
    fake = FakeFly.demo()
    asked: list[ActionRequest] = []

    def hook(request: ActionRequest) -> Approve:
        asked.append(request)
        return Approve(by="test-hook")

    sink = MemorySink()
    toolkit = _toolkit(
        fake,
        scope="org",
        confirm=hook,
        confirm_at="disruptive",
        audit=AuditLog(sink),
        agent_id="ops-bot",
    )
    tool = next(t for t in toolkit.get_tools() if t.name == NAME)
    assert (tool.metadata or {})["destructiveHint"] is True
    args = {"app_name": "web", "machine_id": WEB_1}
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": NAME, "args": args})

    assert isinstance(message, ToolMessage)
    assert message.status != "error", message.content
    [request] = asked
    assert request.description.startswith(f"Drain machine {WEB_1} in app web (read from Fly")
    assert request.description.endswith(DRAIN.consequence)
    sent = [(r.method, r.path, r.endpoint) for r in fake.requests if r.endpoint == NAME]
    assert sent == [("POST", f"/v1/apps/web/machines/{WEB_1}/drain", NAME)]
    assert DRAINED == [("web", WEB_1)]
    reads = [r.endpoint for r in fake.requests]
    assert reads.index("fly_get_machine") < reads.index(NAME)  # described from Fly's state
    [record] = [r for r in sink.records if r.tool == NAME]
    assert record.decision == "approved"
    assert record.sentence == f"ops-bot drained machine {WEB_1} in app web — approved by test-hook."
    sentence = sentence_for(record)
    assert sentence.startswith("ops-bot ")
    assert "drain" in sentence
    assert WEB_1 in sentence
    assert sentence.endswith("approved by test-hook.")
    assert message.content == f"Fly accepted: drain machine {WEB_1} in app web."


def test_a_rejecting_hook_keeps_it_from_the_fake() -> None:
    fake = FakeFly.demo()
    toolkit = _toolkit(fake, scope="org", confirm=None, confirm_at="disruptive")
    tool = next(t for t in toolkit.get_tools() if t.name == NAME)
    args = {"app_name": "web", "machine_id": WEB_1}
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": NAME, "args": args})
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert all(r.endpoint != NAME for r in fake.requests)
    assert DRAINED == []


def test_middleware_review_describes_it_from_its_record() -> None:
    toolkit = _toolkit(FakeFly.demo(), scope="org")
    pending = interrupt_on(toolkit.get_tools(), "disruptive")[NAME]["description"]
    call = {"name": NAME, "args": {"app_name": "web", "machine_id": WEB_1}, "id": "c1"}
    assert pending(call, None, None) == (f"Drain machine {WEB_1} in app web. {DRAIN.consequence}")


def test_an_agent_pauses_for_it_and_the_middleware_records_the_answer() -> None:
    fake = FakeFly.demo()
    sink = MemorySink()
    toolkit = _toolkit(
        fake,
        scope="org",
        confirm=MiddlewareApproval(reviewer="alice"),
        confirm_at="disruptive",
        audit=AuditLog(sink),
    )
    args = {"app_name": "web", "machine_id": WEB_1}
    agent = create_agent(
        ScriptedChatModel(script=[call(NAME, **args), call(NAME, **args), say("done")]),
        tools=toolkit.get_tools(),
        middleware=approval_middleware(toolkit),
        checkpointer=InMemorySaver(),
    )
    config: RunnableConfig = {"configurable": {"thread_id": "drain"}}
    paused = agent.invoke({"messages": [HumanMessage("drain web's first machine")]}, config)
    (pending,) = paused["__interrupt__"]
    [asked] = pending.value["action_requests"]
    assert asked["description"].endswith(DRAIN.consequence)
    assert DRAINED == []

    paused = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)
    assert DRAINED == [("web", WEB_1)]
    agent.invoke(Command(resume={"decisions": [{"type": "reject", "message": "once"}]}), config)
    assert DRAINED == [("web", WEB_1)]
    decisions = [(r.decision, r.decided_by) for r in sink.records if r.tool == NAME]
    assert decisions == [("approved", "alice"), ("rejected", "alice")]


def test_the_facade_finds_and_calls_it() -> None:
    fake = FakeFly.demo()
    toolkit = _toolkit(fake, scope="org", confirm=lambda request: Approve(by="hook"))
    tools = {t.name: t for t in toolkit.facade_tools()}
    found = tools[SEARCH_TOOL].invoke({"query": "drain a machine"})
    assert NAME in str(found)
    message = tools[CALL_TOOL].invoke(
        {
            "type": "tool_call",
            "id": "c1",
            "name": CALL_TOOL,
            "args": {"operation": NAME, "arguments": {"app_name": "web", "machine_id": WEB_1}},
        }
    )
    assert message.status != "error", message.content
    assert DRAINED == [("web", WEB_1)]


def test_the_fake_routes_it_and_checks_the_machine() -> None:
    fake = FakeFly.demo()
    client = fake.client()
    assert client.call(DRAIN, {"app_name": "web", "machine_id": WEB_1}) == {"ok": True}
    with pytest.raises(Exception, match=r"not found|404"):
        client.call(DRAIN, {"app_name": "web", "machine_id": "0000000000dead"})
    assert [r.status for r in fake.requests if r.endpoint == NAME] == [200, 404]


def test_the_docs_table_has_its_row() -> None:
    table = tools_markdown(WIDER.records)
    assert f"| `{NAME}` | control | disruptive | org, deploy | {DRAIN.description} |" in table
    assert table.count("\n| `fly_") == len(ENDPOINTS) + 1
