"""Red team, agent-middleware door: every call a model makes leaves a record of its own.

Two reviewed calls sharing one tool-call id (a model or a replayed message may reuse
ids) each leave a record, and at most one of them is sent; a call to a tool the agent
does not have, in the catalogue or not, is refused and recorded. The oracle is the fake's
request log and the audit sink.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolCall
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools import AuditLog, FlyToolkit, MemorySink, MiddlewareApproval
from fly_tools.agents import approval_middleware
from fly_tools.approvals.ledger import MemoryApprovalStore
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel
from fly_tools.testing.world import VOL_DATA_OLD, WEB_3

GATED = [
    ("fly_delete_volume", {"volume_id": VOL_DATA_OLD}),
    ("fly_delete_machine", {"machine_id": WEB_3}),
]


def _turn(requests: list[tuple[str, dict[str, Any]]], ids: list[str]) -> AIMessage:
    tool_calls = [
        ToolCall(name=name, args=args, id=i, type="tool_call")
        for (name, args), i in zip(requests, ids, strict=True)
    ]
    return AIMessage(content="", tool_calls=tool_calls)


def _changes(fake: FakeFly) -> list[tuple[str, str]]:
    # Token checks are the toolkit's own reads; only calls to apps change anything.
    return [(r.method, r.path) for r in fake.requests if r.method != "GET" and "/apps" in r.path]


async def _run(agent: Any, value: Any, run_async: bool) -> dict[str, Any]:
    config = {"configurable": {"thread_id": "t1"}}
    if run_async:
        return dict(await agent.ainvoke(value, config))
    return dict(agent.invoke(value, config))


def _agent(toolkit: FlyToolkit, turn: AIMessage, mode: str, ledger: Any = None) -> Any:
    return create_agent(
        ScriptedChatModel(script=[turn]),
        tools=toolkit.get_tools(),
        middleware=approval_middleware(toolkit, interrupt_mode=mode, ledger=ledger),
        checkpointer=InMemorySaver(),
    )


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def run_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture(params=["batched", "per_call"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _deploy_toolkit(fake: FakeFly, sink: MemorySink) -> FlyToolkit:
    return FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm=MiddlewareApproval(reviewer="alice"),
        audit=AuditLog(sink),
    )


async def _answer_all(agent: Any, result: dict[str, Any], mode: str, run_async: bool) -> None:
    """Approve whatever is asked, pause after pause, until the run ends."""
    for _ in range(6):
        pending = result.get("__interrupt__") or []
        if not pending:
            return
        if mode == "batched":
            count = sum(len(p.value["action_requests"]) for p in pending)
            resume: Any = {"decisions": [{"type": "approve"}] * count}
        else:
            resume = {p.id: {"type": "approve"} for p in pending}
        result = await _run(agent, Command(resume=resume), run_async)


async def test_two_reviewed_calls_sharing_an_id_leave_a_record_each(
    mode: str, run_async: bool
) -> None:
    fake, sink = FakeFly.demo(), MemorySink()
    toolkit = _deploy_toolkit(fake, sink)
    ledger = MemoryApprovalStore()
    agent = _agent(toolkit, _turn(GATED, ["dup", "dup"]), mode, ledger)
    result = await _run(agent, {"messages": [HumanMessage("clean up")]}, run_async)
    assert "__interrupt__" not in result  # refused before anyone is asked
    assert ledger.entries() == []  # and no question was opened for them
    await _answer_all(agent, result, mode, run_async)
    sent = _changes(fake)
    assert len(sent) <= 1, sent
    names = sorted(r.tool for r in sink.records)
    assert names == ["fly_delete_machine", "fly_delete_volume"], [
        (r.tool, r.decision, r.outcome) for r in sink.records
    ]
    ok = [r for r in sink.records if r.outcome == "ok"]
    assert len(ok) == len(sent)


async def test_a_gated_call_sharing_its_id_with_a_read_or_beside_another(
    mode: str, run_async: bool
) -> None:
    fake, sink = FakeFly.demo(), MemorySink()
    toolkit = _deploy_toolkit(fake, sink)
    turn = _turn(
        [*GATED, ("fly_list_machines", {}), ("fly_delete_volume", {"volume_id": VOL_DATA_OLD})],
        ["dup", "solo", "dup", "own"],  # the volume twice: once shared, once on its own
    )
    agent = _agent(toolkit, turn, mode)
    result = await _run(agent, {"messages": [HumanMessage("clean up")]}, run_async)
    await _answer_all(agent, result, mode, run_async)
    # The calls with their own ids are asked about and sent; the twins are refused.
    assert sorted(_changes(fake)) == [
        ("DELETE", f"/v1/apps/web/machines/{WEB_3}"),
        ("DELETE", f"/v1/apps/web/volumes/{VOL_DATA_OLD}"),
    ]
    seen = sorted((r.tool, r.decision, r.context.get("tool_call_id")) for r in sink.records)
    assert seen == [
        ("fly_delete_machine", "approved", "solo"),
        ("fly_delete_volume", "approved", "own"),
        ("fly_delete_volume", "refused", "dup"),
        ("fly_list_machines", "refused", "dup"),
    ]


READONLY_CALLS = [
    ("fly_delete_app", {}),
    ("fly_start_machine", {"machine_id": WEB_3}),
    ("rm_everything", {"path": "/"}),
]


@pytest.mark.parametrize(("name", "args"), READONLY_CALLS, ids=[n for n, _ in READONLY_CALLS])
async def test_a_tool_the_agent_does_not_have_is_refused_and_recorded(
    mode: str, run_async: bool, name: str, args: dict[str, Any]
) -> None:
    fake, sink = FakeFly.demo(), MemorySink()
    toolkit = FlyToolkit.read_only(
        fake.client(scope="readonly"),
        app="web",
        audit=AuditLog(sink),
        confirm=MiddlewareApproval(reviewer="alice"),
    )
    agent = _agent(toolkit, _turn([(name, args)], ["c1"]), mode)
    await _run(agent, {"messages": [HumanMessage("look around")]}, run_async)
    assert _changes(fake) == []
    records = list(sink.records)
    assert [(r.tool, r.decision) for r in records] == [(name, "refused")]
    assert records[0].context.get("front_door") == "langchain"
